/**
 * bench/cds: load on the CDS Hooks patient-view service with prefetch, from a second process on
 * loopback. Target: p99 <= 10 ms at a fixed 500 requests/s on the 2-core machine, and no errors.
 *
 * - Server: bench/cds/server.ts in a child process (ImmunoGuide + CDS plugin, embedded PGlite in
 *   a temporary directory, LOG_LEVEL=info as deployed: two JSON log lines per request to stderr).
 * - Load: autocannon in this process. Every request carries its own EHR JWT (ES256, unique jti),
 *   so each one pays the real cost: signature check, jti insert (replay protection), FHIR
 *   mapping of the prefetch, the assessment with SOFA, and the insert of the call and its card.
 * - Body: a synthetic MALS patient with 24 h of SOFA inputs (hourly MAP, labs) as prefetch, built
 *   by the FHIR stand-in of the tests from the discovery templates (about 40 Observations).
 * - Runs: warm-up 5 s at 200 req/s; fixed rate 500 req/s for 30 s; saturation (no rate limit on
 *   the client, 16 connections) for 20 s. Latencies are per request (autocannon), in ms.
 *
 *   node --import tsx bench/cds/patient-view.ts [--rate 500] [--seconds 30] [--saturation-seconds 20]
 *        [--database-url postgres://...] [--profile DIR]
 *
 * (--profile writes a V8 CPU profile of the server process into DIR.)
 *
 * Why autocannon: a Node load generator with a fixed-rate mode (overallRate) and per-request
 * hooks (a fresh JWT per request), installable from npm with no native build; wrk is not
 * packaged for npm and cannot sign JWTs per request without Lua scripting.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import autocannon from 'autocannon';
import type { FhirResource } from 'fhir/r4.js';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import pg from 'pg';
import { AT_MS, FhirStandIn, LOINC, PATIENT_ID, hookRequest, hoursBefore, malsPatient, observation } from '../../test/server/cds/support.ts';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const RATE = option('rate', 500);
const SECONDS = option('seconds', 30);
const SATURATION_SECONDS = option('saturation-seconds', 20);
const TARGET_P99_MS = 10;
const ISSUER = 'https://ehr.bench.example/';
const PUBLIC_URL = 'https://immunoguide.bench.example';
const SERVICE_ID = 'immunoguide-patient-view';

// --- the EHR: a signing key and its JWK Set on loopback ----------------------------------------
const { privateKey, publicKey } = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'ES256', use: 'sig' };
const jwksServer = http.createServer((_request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ keys: [jwk] }));
});
await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;

const tokenCount = Math.ceil(200 * 5 + RATE * SECONDS * 1.05 + 4000 * SATURATION_SECONDS) + 100;
console.error(`signing ${tokenCount} EHR tokens (ES256, one jti each) ...`);
const tokens: string[] = [];
const nowSeconds = Math.floor(Date.now() / 1000);
for (let i = 0; i < tokenCount; i++) {
  tokens.push(
    await new SignJWT({ tenant: 'bench' })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'bench-1' })
      .setIssuer(ISSUER)
      .setAudience(`${PUBLIC_URL}/cds-services/${SERVICE_ID}`)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + 3600)
      .setJti(randomUUID())
      .sign(privateKey),
  );
}
let nextToken = 0;
let tokensExhausted = false;

// --- the server process ------------------------------------------------------------------------
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-bench-cds-'));
const serverLog = path.join(dataDir, 'server.log');
// --database-url postgres://...: the server on a PostgreSQL server (a fresh schema, dropped after)
// instead of the embedded PGlite, which runs inside the server's event loop.
const databaseIndex = process.argv.indexOf('--database-url');
const databaseUrl = databaseIndex === -1 ? undefined : process.argv[databaseIndex + 1];
const databaseSchema = databaseUrl === undefined ? undefined : `ig_bench_cds_${process.pid}`;
const profileIndex = process.argv.indexOf('--profile');
const profileArgs = profileIndex === -1 ? [] : ['--cpu-prof', '--cpu-prof-dir', process.argv[profileIndex + 1] ?? '.'];
const server = spawn(process.execPath, [...profileArgs, '--import', 'tsx', path.join(import.meta.dirname, 'server.ts')], {
  env: {
    ...process.env,
    IMMUNOGUIDE_DATA_DIR: dataDir,
    ...(databaseUrl !== undefined ? { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: databaseSchema } : {}),
    IMMUNOGUIDE_DEMO: 'false',
    LOG_LEVEL: 'info',
    IMMUNOGUIDE_PUBLIC_URL: PUBLIC_URL,
    CDS_TRUSTED_ISSUERS: JSON.stringify({ [ISSUER]: jwksUrl }),
    // The bench is the only client: lift the per-client limit; tokens were signed before the runs.
    CDS_RATE_LIMIT_PER_MINUTE: '10000000',
    CDS_JWT_MAX_AGE_SECONDS: '3600',
  },
  stdio: ['ignore', 'pipe', fs.openSync(serverLog, 'w')],
});
const serverLines = readline.createInterface({ input: server.stdout! });
const url = await new Promise<string>((resolve, reject) => {
  serverLines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
  server.once('exit', (code) => reject(new Error(`server exited with ${code}; see ${serverLog}`)));
});
/** CPU time the server process has used so far, in ms. */
async function serverCpuMs(): Promise<number> {
  const line = new Promise<string>((resolve) => serverLines.once('line', resolve));
  server.kill('SIGUSR2');
  return (JSON.parse(await line) as { cpuMicros: number }).cpuMicros / 1000;
}
console.error(`server at ${url} (pid ${server.pid}), data ${dataDir}`);

// --- the request: patient-view with prefetch from the discovery templates ----------------------
const discovery = (await (await fetch(`${url}/cds-services`)).json()) as { services: Array<{ id: string; prefetch: Record<string, string> }> };
const service = discovery.services.find((s) => s.id === SERVICE_ID)!;
// The synthetic patient's sample times are relative to the tests' fixed clock (AT): move them to now.
const shift = Date.now() - AT_MS;
const resources: FhirResource[] = malsPatient().map((r) => {
  const o = r as { effectiveDateTime?: string };
  return o.effectiveDateTime ? ({ ...r, effectiveDateTime: new Date(Date.parse(o.effectiveDateTime) + shift).toISOString() } as FhirResource) : r;
});
const now = Date.now();
for (let h = 1; h <= 24; h++) resources.push(observation(`map-${h}`, PATIENT_ID, { system: LOINC, code: '8478-0' }, 62 + (h % 7), 'mm[Hg]', hoursBefore(h, now)));
for (const [id, code, value, unit, hours] of [
  ['pao2', '2703-7', 78, 'mm[Hg]', 3],
  ['fio2', '3150-0', 0.45, '1', 3],
  ['bili', '1975-2', 2.2, 'mg/dL', 6],
  ['gcs', '9269-2', 13, '{score}', 2],
  ['plt2', '777-3', 140, '10*3/uL', 20],
  ['crea2', '2160-0', 1.6, 'mg/dL', 20],
] as const) {
  resources.push(observation(id, PATIENT_ID, { system: LOINC, code }, value, unit, hoursBefore(hours, now)));
}
const request = hookRequest('patient-view');
request.prefetch = new FhirStandIn(resources).prefetchFor(service as never, request.context);
const body = JSON.stringify(request);
const observations = resources.filter((r) => r.resourceType === 'Observation').length;

const probe = await fetch(`${url}/cds-services/${SERVICE_ID}`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[nextToken++]}` },
  body,
});
const probeBody = (await probe.json()) as { cards?: Array<{ summary: string }> };
if (probe.status !== 200 || !probeBody.cards?.length) throw new Error(`probe failed: ${probe.status} ${JSON.stringify(probeBody)}`);
console.error(`probe: ${probeBody.cards[0]!.summary}`);

// --- runs -----------------------------------------------------------------------------------------
interface RunResult {
  name: string;
  /** Server CPU time per request (user + system), ms: what the load costs, whatever else runs on the machine. */
  serverCpuMsPerRequest: number;
  requests: number;
  reqPerSec: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

async function run(name: string, options: { seconds: number; connections: number; rate?: number }): Promise<RunResult> {
  const cpuBefore = await serverCpuMs();
  const result = await autocannon({
    url: `${url}/cds-services/${SERVICE_ID}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: options.connections,
    duration: options.seconds,
    ...(options.rate ? { overallRate: options.rate } : {}),
    requests: [
      {
        setupRequest: (req) => {
          const token = tokens[nextToken++];
          if (token === undefined) tokensExhausted = true;
          return { ...req, headers: { ...req.headers, authorization: `Bearer ${token ?? tokens[0]}` } };
        },
      },
    ],
  });
  const cpuMs = (await serverCpuMs()) - cpuBefore;
  return {
    name,
    serverCpuMsPerRequest: cpuMs / Math.max(1, result.requests.total),
    requests: result.requests.total,
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

const loadBefore = os.loadavg();
const topBefore = topProcesses();
await run('warm-up', { seconds: 5, connections: 4, rate: 200 });
const fixed = await run(`fixed ${RATE} req/s`, { seconds: SECONDS, connections: 10, rate: RATE });
const saturation = await run('saturation', { seconds: SATURATION_SECONDS, connections: 16 });
const loadAfter = os.loadavg();

server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));
jwksServer.close();
fs.rmSync(dataDir, { recursive: true, force: true });
if (databaseUrl !== undefined) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${databaseSchema} CASCADE`);
  await client.end();
}

const rows = [fixed, saturation];
console.log(`CDS Hooks patient-view with prefetch (${observations} Observations, ${(body.length / 1024).toFixed(1)} KiB body), database ${databaseUrl === undefined ? 'embedded PGlite' : 'PostgreSQL'}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}`);
console.log('| run | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | timeouts | non-2xx | server CPU ms/request |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.requests} | ${r.reqPerSec.toFixed(0)} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${r.errors} | ${r.timeouts} | ${r.non2xx} | ${r.serverCpuMsPerRequest.toFixed(2)} |`);
}
console.log(`load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
console.log(`busiest processes before the runs:\n${topBefore}`);
if (tokensExhausted) console.log('WARNING: the pre-signed tokens ran out; later requests reused a token and were refused (replay)');
const ok = fixed.p99 <= TARGET_P99_MS && fixed.errors === 0 && fixed.timeouts === 0 && fixed.non2xx === 0 && saturation.non2xx === 0 && saturation.errors === 0;
console.log(`target (p99 <= ${TARGET_P99_MS} ms at ${RATE} req/s, no errors): ${ok ? 'met' : 'NOT met'}`);
console.log(JSON.stringify({ rows, loadBefore, loadAfter }));

function topProcesses(): string {
  try {
    return execFileSync('ps', ['-eo', 'pcpu,pid,comm', '--sort=-pcpu'], { encoding: 'utf8' }).split('\n').slice(0, 6).join('\n');
  } catch {
    return '(ps unavailable)';
  }
}
