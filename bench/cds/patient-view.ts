/**
 * bench/cds: load on the CDS Hooks patient-view service with prefetch, from a second process on
 * loopback. Target: p99 <= 10 ms at a fixed 500 requests/s on the 2-core machine, and no errors.
 *
 * - Server: bench/cds/server.ts in a child process (ImmunoGuide + CDS plugin, embedded PGlite in
 *   a temporary directory, LOG_LEVEL=info as deployed: two JSON log lines per request to a file).
 * - Every request carries its own EHR JWT (ES256, unique jti), so each one pays the real cost:
 *   signature check, FHIR mapping of the prefetch, the assessment with SOFA, the card, and the
 *   record of the call and its card with the jti claim (replay protection) in the database.
 * - Body: a synthetic MALS patient with 24 h of SOFA inputs (hourly MAP, labs) as prefetch, built
 *   by the FHIR stand-in of the tests from the discovery templates (fixture.ts, 37 Observations).
 * - Runs (latencies per request, in ms):
 *   1. warm-up: autocannon, 5 s at 200 req/s;
 *   2. "autocannon 500 req/s": autocannon `overallRate` 500 with 10 connections for 30 s.
 *      autocannon enforces the rate as a budget per connection and second: each connection sends
 *      its 50 requests back to back from the start of every second, then waits for the next
 *      second. The server therefore sees bursts with 10 requests in flight, not one request every
 *      2 ms. Two latency columns: the raw latencies of the responses, and autocannon's own
 *      histogram, which adds "coordinated omission" samples for every response slower than an
 *      expected interval it computes as ceil(1 / rate per connection) = 1 ms (so a 12 ms response
 *      also counts as 11, 10, ... 1 ms responses; its percentiles lean towards the slow ones).
 *   3. "paced 500 req/s": an open-loop client (node:http, keep-alive, up to 64 connections) that
 *      starts one request every 2 ms whatever the server does, and measures each latency from
 *      the moment the request was due (as wrk2 does, so a stalled server is charged for the
 *      requests that waited): the fixed rate as an EHR's many users produce it.
 *   4. saturation: autocannon, 16 connections, no rate limit, 20 s.
 * - Server CPU per request: read from the server process itself before and after each run
 *   (SIGUSR2); unlike the latencies, it does not depend much on what else runs on the machine.
 *   Also reported: how many calls each database write carried (group commit, recorder.ts).
 *
 *   node --import tsx bench/cds/patient-view.ts [--rate 500] [--seconds 30] [--saturation-seconds 20]
 *        [--database-url postgres://...] [--profile DIR] [--server-node-args "FLAGS"]
 *
 * (--profile writes a V8 CPU profile of the server process into DIR.)
 *
 * Why autocannon: a Node load generator with a fixed-rate mode (overallRate) and per-request
 * hooks (a fresh JWT per request), installable from npm with no native build; wrk is not
 * packaged for npm and cannot sign JWTs per request without Lua scripting. The paced run adds
 * what autocannon's fixed rate does not do (evenly spaced, open-loop arrivals).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair } from 'jose';
import pg from 'pg';
import { BENCH_ISSUER, BENCH_KID, BENCH_PUBLIC_URL, BENCH_SERVICE_ID, patientViewBody, signBenchTokens } from './fixture.ts';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const RATE = option('rate', 500);
const SECONDS = option('seconds', 30);
const SATURATION_SECONDS = option('saturation-seconds', 20);
const TARGET_P99_MS = 10;
const WARM_UP = { seconds: 5, rate: 200 };
const PACED_MAX_SOCKETS = 64;

// --- the EHR: a signing key and its JWK Set on loopback ----------------------------------------
const { privateKey, publicKey } = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(publicKey)), kid: BENCH_KID, alg: 'ES256', use: 'sig' };
const jwksServer = http.createServer((_request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ keys: [jwk] }));
});
await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;

const tokenCount = Math.ceil(WARM_UP.rate * WARM_UP.seconds + 2 * RATE * SECONDS * 1.05 + 4000 * SATURATION_SECONDS) + 100;
console.error(`signing ${tokenCount} EHR tokens (ES256, one jti each) ...`);
const tokens = await signBenchTokens(privateKey, tokenCount);
let nextToken = 0;
let tokensExhausted = false;
function takeToken(): string {
  const token = tokens[nextToken++];
  if (token === undefined) tokensExhausted = true;
  return token ?? tokens[0]!;
}

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
// The server runs with the Node flags `npm start` gives it (read from package.json "start"):
// garbage collection on each thread's own time (--single-threaded-gc), which on this 2-core
// machine took the paced p99 from 10.5-13.3 ms to 7.9-9.8 ms (5 runs each, BENCHMARKS.md).
// --server-node-args "..." replaces them ("" for V8's defaults).
const packageJson = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../package.json'), 'utf8')) as { scripts: { start: string } };
const START_NODE_FLAGS = /^node((?: --[^\s]+)*) /.exec(packageJson.scripts.start)?.[1]?.trim().split(' ') ?? [];
const nodeArgsIndex = process.argv.indexOf('--server-node-args');
const serverNodeArgs = nodeArgsIndex === -1 ? START_NODE_FLAGS : (process.argv[nodeArgsIndex + 1] ?? '').split(/\s+/).filter((a) => a !== '');
const server = spawn(process.execPath, [...serverNodeArgs, ...profileArgs, '--import', 'tsx', path.join(import.meta.dirname, 'server.ts')], {
  env: {
    ...process.env,
    IMMUNOGUIDE_DATA_DIR: dataDir,
    ...(databaseUrl !== undefined ? { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: databaseSchema } : {}),
    IMMUNOGUIDE_DEMO: 'false',
    LOG_LEVEL: 'info',
    IMMUNOGUIDE_PUBLIC_URL: BENCH_PUBLIC_URL,
    CDS_TRUSTED_ISSUERS: JSON.stringify({ [BENCH_ISSUER]: jwksUrl }),
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
/** CPU time the server process has used so far (ms), and the sizes of its record writes since the last call. */
/** The server's main thread during a run: GC pauses (count, total, longest, how many over 5 ms) and event-loop delay. */
interface ServerPauses {
  gc: { count: number; totalMs: number; maxMs: number; over5Ms: number; maxByKind: Record<string, number> };
  loop: { p99Ms: number; maxMs: number };
  /** The database writes of the call records (each answer waits for its own). */
  write: { p50Ms: number; p99Ms: number; maxMs: number };
  /** Time inside the server per request (fastify onRequest to response sent). */
  server: { p50Ms: number; p99Ms: number; maxMs: number };
}
async function serverStats(): Promise<{ cpuMs: number; batches: Record<string, number> } & ServerPauses> {
  const line = new Promise<string>((resolve) => serverLines.once('line', resolve));
  server.kill('SIGUSR2');
  const stats = JSON.parse(await line) as { cpuMicros: number; batches: Record<string, number> } & ServerPauses;
  return { cpuMs: stats.cpuMicros / 1000, batches: stats.batches, gc: stats.gc, loop: stats.loop, write: stats.write, server: stats.server };
}
console.error(`server at ${url} (pid ${server.pid}), data ${dataDir}`);

// --- the request: patient-view with prefetch from the discovery templates ----------------------
const discovery = (await (await fetch(`${url}/cds-services`)).json()) as { services: Array<{ id: string; prefetch: Record<string, string> }> };
const service = discovery.services.find((s) => s.id === BENCH_SERVICE_ID)!;
const { body, observations } = patientViewBody(service);
const bodyBuffer = Buffer.from(body);
const serviceUrl = `${url}/cds-services/${BENCH_SERVICE_ID}`;

const probe = await fetch(serviceUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${takeToken()}` }, body });
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
  /** Raw latencies of the responses (ms). */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** autocannon's own p50/p99 (with its coordinated-omission samples), for autocannon's rate-limited run. */
  autocannonP50?: number;
  autocannonP99?: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Calls per database write of the call records: {size: writes}. */
  batches: Record<string, number>;
  /** The server's main thread during the run. */
  pauses: ServerPauses;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function summarise(latencies: number[]): Pick<RunResult, 'p50' | 'p90' | 'p99' | 'max'> {
  const sorted = latencies.sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10) / 10;
  return { p50: round(percentile(sorted, 0.5)), p90: round(percentile(sorted, 0.9)), p99: round(percentile(sorted, 0.99)), max: round(sorted.at(-1) ?? Number.NaN) };
}

async function autocannonRun(name: string, options: { seconds: number; connections: number; rate?: number }): Promise<RunResult> {
  const before = await serverStats();
  const raw: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: serviceUrl,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections: options.connections,
        duration: options.seconds,
        ...(options.rate ? { overallRate: options.rate } : {}),
        requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${takeToken()}` } }) }],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) raw.push(responseTime);
    });
  });
  const after = await serverStats();
  return {
    name,
    serverCpuMsPerRequest: (after.cpuMs - before.cpuMs) / Math.max(1, result.requests.total),
    requests: result.requests.total,
    reqPerSec: result.requests.total / options.seconds,
    ...summarise(raw),
    ...(options.rate ? { autocannonP50: result.latency.p50, autocannonP99: result.latency.p99 } : {}),
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    batches: after.batches,
    pauses: { gc: after.gc, loop: after.loop, write: after.write, server: after.server },
  };
}

/** Open loop: one request every 1000/rate ms whatever the answers; latency counted from when each was due. */
async function pacedRun(name: string, options: { seconds: number; rate: number }): Promise<RunResult> {
  const before = await serverStats();
  const agent = new http.Agent({ keepAlive: true, maxSockets: PACED_MAX_SOCKETS });
  const target = new URL(serviceUrl);
  const total = Math.round(options.rate * options.seconds);
  const interval = 1000 / options.rate;
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let sent = 0;
  let settled = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const settle = () => {
      if (++settled === total) resolve();
    };
    const send = (due: number) => {
      const request = http.request(
        target,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': bodyBuffer.length, authorization: `Bearer ${takeToken()}` } },
        (response) => {
          response.resume();
          response.on('end', () => {
            if (response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300) latencies.push(performance.now() - due);
            else non2xx++;
            settle();
          });
        },
      );
      request.on('error', () => {
        errors++;
        settle();
      });
      request.end(bodyBuffer);
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) send(start + sent++ * interval);
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    tick();
  });
  const elapsedSeconds = (performance.now() - start) / 1000;
  agent.destroy();
  const after = await serverStats();
  return {
    name,
    serverCpuMsPerRequest: (after.cpuMs - before.cpuMs) / Math.max(1, total),
    requests: total,
    reqPerSec: total / elapsedSeconds,
    ...summarise(latencies),
    errors,
    timeouts: 0,
    non2xx,
    batches: after.batches,
    pauses: { gc: after.gc, loop: after.loop, write: after.write, server: after.server },
  };
}

const loadBefore = os.loadavg();
const topBefore = topProcesses();
await autocannonRun('warm-up', { seconds: WARM_UP.seconds, connections: 4, rate: WARM_UP.rate });
const fixed = await autocannonRun(`autocannon ${RATE} req/s`, { seconds: SECONDS, connections: 10, rate: RATE });
const paced = await pacedRun(`paced ${RATE} req/s`, { seconds: SECONDS, rate: RATE });
const saturation = await autocannonRun('saturation', { seconds: SATURATION_SECONDS, connections: 16 });
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

const rows = [fixed, paced, saturation];
const batchSummary = (b: Record<string, number>) => {
  const writes = Object.values(b).reduce((s, n) => s + n, 0);
  const calls = Object.entries(b).reduce((s, [size, n]) => s + Number(size) * n, 0);
  return writes === 0 ? '-' : `${(calls / writes).toFixed(1)} (max ${Math.max(...Object.keys(b).map(Number))})`;
};
console.log(
  `CDS Hooks patient-view with prefetch (${observations} Observations, ${(body.length / 1024).toFixed(1)} KiB body), database ${databaseUrl === undefined ? 'embedded PGlite' : 'PostgreSQL'}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, server flags ${serverNodeArgs.join(' ') || '(none)'}`,
);
console.log('| run | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | autocannon p50 / p99 ms | errors | timeouts | non-2xx | server CPU ms/request | calls per record write | server GC pauses: n (total), max ms, > 5 ms | event-loop delay p99 / max ms | record write p50 / p99 / max ms | in server p50 / p99 / max ms |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const own = r.autocannonP99 === undefined ? '' : `${r.autocannonP50} / ${r.autocannonP99}`;
  console.log(
    `| ${r.name} | ${r.requests} | ${r.reqPerSec.toFixed(0)} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${own} | ${r.errors} | ${r.timeouts} | ${r.non2xx} | ${r.serverCpuMsPerRequest.toFixed(2)} | ${batchSummary(r.batches)} | ${r.pauses.gc.count} (${r.pauses.gc.totalMs.toFixed(0)} ms), ${r.pauses.gc.maxMs.toFixed(1)}, ${r.pauses.gc.over5Ms} | ${r.pauses.loop.p99Ms.toFixed(1)} / ${r.pauses.loop.maxMs.toFixed(1)} | ${r.pauses.write.p50Ms.toFixed(1)} / ${r.pauses.write.p99Ms.toFixed(1)} / ${r.pauses.write.maxMs.toFixed(1)} | ${r.pauses.server.p50Ms.toFixed(1)} / ${r.pauses.server.p99Ms.toFixed(1)} / ${r.pauses.server.maxMs.toFixed(1)} |`,
  );
}
console.log(`load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
console.log(`busiest processes before the runs:\n${topBefore}`);
if (tokensExhausted) console.log('WARNING: the pre-signed tokens ran out; later requests reused a token and were refused (replay)');
const clean = (r: RunResult) => r.errors === 0 && r.timeouts === 0 && r.non2xx === 0;
const verdict = (r: RunResult) => (r.p99 <= TARGET_P99_MS && clean(r) ? 'met' : 'NOT met');
console.log(
  `target (p99 <= ${TARGET_P99_MS} ms at a fixed ${RATE} req/s, no errors), judged on the paced run (one request every ${(1000 / RATE).toFixed(1)} ms, open loop): ${verdict(paced)} (p99 ${paced.p99} ms). ` +
    `The autocannon run is not a fixed rate (each connection sends its per-second budget back to back): p99 ${fixed.p99} ms, autocannon's own ${fixed.autocannonP99} ms, ${verdict(fixed)} against the same bound. ` +
    `Saturation ${clean(saturation) ? 'without' : 'WITH'} errors.`,
);
console.log(JSON.stringify({ rows, loadBefore, loadAfter }));

function topProcesses(): string {
  try {
    return execFileSync('ps', ['-eo', 'pcpu,pid,comm', '--sort=-pcpu'], { encoding: 'utf8' }).split('\n').slice(0, 6).join('\n');
  } catch {
    return '(ps unavailable)';
  }
}
