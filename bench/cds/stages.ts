/**
 * bench/cds/stages.ts: where the CPU time of a patient-view call goes, measured in one process
 * (no sockets, no other process), so the numbers move little with what else runs on the machine.
 *
 * 1. End to end through Fastify (`app.inject`: routing, body parsing and validation, the EHR JWT,
 *    the assessment, the card, the call record, serialisation; `LOG_LEVEL` as in the environment,
 *    default info, logs to stderr - redirect it), one call at a time and with `--concurrency`
 *    calls in flight: CPU time of the process per call, and how many calls each record write
 *    carried (group commit).
 * 2. Each stage on its own, in a loop, CPU time per call: parsing the body, verifying the JWT,
 *    mapping the prefetch (FHIR adapter), the evaluation (of which the assessment), the card,
 *    serialising the answer, and the record of the call with its jti claim alone and in batches.
 *
 *   node --import tsx bench/cds/stages.ts [--requests 2000] [--concurrency 10] [--database-url postgres://...] 2>/dev/null
 *
 * The same request and tokens as the load test (fixture.ts); embedded PGlite in a temporary
 * directory unless --database-url is given (then a fresh schema, dropped after).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { assessPatient } from '../../src/clinical/assessment.ts';
import { buildApp } from '../../src/server/app.ts';
import { createAuthenticator } from '../../src/server/auth/authenticator.ts';
import { patientViewCards } from '../../src/server/cds/cards.ts';
import { clinicalInputFrom } from '../../src/server/cds/clinical-input.ts';
import { evaluatePatient } from '../../src/server/cds/evaluate.ts';
import { fhirAccessFor, gatherPatientData } from '../../src/server/cds/patient-data.ts';
import { createCdsJwtVerifier } from '../../src/server/cds/security.ts';
import { buildCatalog } from '../../src/server/cds/services.ts';
import { DEFAULT_CDS_SETTINGS } from '../../src/server/cds/settings.ts';
import type { CdsRequest } from '../../src/server/cds/types.ts';
import { loadAuthSettings } from '../../src/config.ts';
import { defaultConceptDictionary } from '../../src/sources/concepts/dictionary.ts';
import { type CdsCallEntry, recordCdsCall, recordCdsCalls } from '../../src/store/cds.ts';
import type { Database } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPGlite } from '../../src/store/pglite.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { BENCH_ISSUER, BENCH_KID, BENCH_PUBLIC_URL, BENCH_SERVICE_ID, patientViewBody, signBenchTokens } from './fixture.ts';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const REQUESTS = option('requests', 2000);
const CONCURRENCY = option('concurrency', 10);
const databaseIndex = process.argv.indexOf('--database-url');
const databaseUrl = databaseIndex === -1 ? undefined : process.argv[databaseIndex + 1];

// --- the EHR's keys, the database, the app ----------------------------------------------------
const { privateKey, publicKey } = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(publicKey)), kid: BENCH_KID, alg: 'ES256', use: 'sig' };
const jwksServer = http.createServer((_request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify({ keys: [jwk] }));
});
await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-bench-cds-stages-'));
const schema = `ig_bench_cds_stages_${process.pid}`;
const db: Database = databaseUrl === undefined ? await openPGlite({ dataDir }) : await openPostgres({ url: databaseUrl, schema });
await migrate(db);

const dictionary = defaultConceptDictionary();
const settings = {
  ...DEFAULT_CDS_SETTINGS,
  publicUrl: BENCH_PUBLIC_URL,
  trustedIssuers: new Map<string, string | null>([[BENCH_ISSUER, jwksUrl]]),
  rateLimitPerMinute: 10_000_000,
  jwtMaxAgeSeconds: 3600,
};
let batches = new Map<number, number>();
const app = await buildApp({
  db,
  authenticator: await createAuthenticator(db, loadAuthSettings({})),
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
  rateLimitPerMinute: false,
  cds: { settings, dictionary, recorder: { onBatch: (size) => batches.set(size, (batches.get(size) ?? 0) + 1) } },
});
await app.ready();

const catalog = buildCatalog(dictionary);
const service = catalog.services.find((s) => s.id === BENCH_SERVICE_ID)!;
const { body } = patientViewBody(service);
const tokens = await signBenchTokens(privateKey, 5 * REQUESTS + 2 * REQUESTS + 1200);
let nextToken = 0;
const audience = `${BENCH_PUBLIC_URL}/cds-services/${BENCH_SERVICE_ID}`;

function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

async function endToEnd(concurrency: number, requests: number): Promise<{ cpuMsPerCall: number; meanBatch: number }> {
  batches = new Map();
  let started = 0;
  const before = cpuMicros();
  const worker = async () => {
    while (started < requests) {
      started++;
      const response = await app.inject({
        method: 'POST',
        url: `/cds-services/${BENCH_SERVICE_ID}`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[nextToken++]}` },
        payload: body,
      });
      if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}: ${response.body}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const cpuMsPerCall = (cpuMicros() - before) / 1000 / requests;
  const writes = [...batches.values()].reduce((s, n) => s + n, 0);
  const calls = [...batches].reduce((s, [size, n]) => s + size * n, 0);
  return { cpuMsPerCall, meanBatch: calls / Math.max(1, writes) };
}

/** CPU microseconds per call of `work`, after a warm-up. */
async function stage(work: (i: number) => unknown, calls = REQUESTS): Promise<number> {
  for (let i = 0; i < Math.min(200, calls); i++) await work(i);
  const before = cpuMicros();
  for (let i = 0; i < calls; i++) await work(i);
  return (cpuMicros() - before) / calls;
}

// --- 1. end to end -----------------------------------------------------------------------------
// Warm-up (JIT), then each mode twice, alternating; the lower of the two counts.
await endToEnd(CONCURRENCY, 1000);
const singleRuns = [await endToEnd(1, REQUESTS)];
const concurrentRuns = [await endToEnd(CONCURRENCY, REQUESTS)];
singleRuns.push(await endToEnd(1, REQUESTS));
concurrentRuns.push(await endToEnd(CONCURRENCY, REQUESTS));
const best = (runs: Array<{ cpuMsPerCall: number; meanBatch: number }>) => runs.reduce((a, b) => (b.cpuMsPerCall < a.cpuMsPerCall ? b : a));
const single = best(singleRuns);
const concurrent = best(concurrentRuns);
console.error(JSON.stringify({ singleRuns, concurrentRuns }));

// --- 2. stages ---------------------------------------------------------------------------------
const request = JSON.parse(body) as CdsRequest;
const verifier = createCdsJwtVerifier(db, settings, { now: Date.now });
const access = fhirAccessFor(request, { allowedHosts: [], authenticated: true, timeoutMs: 1000, fetch });
const data = await gatherPatientData(request, access, catalog.prefetchKeys);
const at = new Date().toISOString();
const input = clinicalInputFrom(data, dictionary);
const ev = evaluatePatient(data, { dictionary, at });
const cardOptions = { catalog, dictionary, publicUrl: BENCH_PUBLIC_URL, smartLaunchUrl: undefined, newId: () => randomUUID() };
const cards = patientViewCards(ev, cardOptions);
const entry = (): CdsCallEntry => ({
  call: { serviceId: service.id, hook: service.hook, hookInstance: request.hookInstance, issuer: BENCH_ISSUER, tenant: 'bench', userRef: 'Practitioner/dr-1', patientRef: data.patientId, dataSources: data.keys.map((k) => ({ key: k.key, source: k.source, status: k.status, count: k.count })) },
  cards: cards.map((c) => ({ uuid: randomUUID(), indicator: c.indicator, summary: c.summary, kind: c.source.topic?.code ?? 'card', suggestions: (c.suggestions ?? []).map((s) => ({ uuid: s.uuid, label: s.label })) })),
  claim: { issuer: BENCH_ISSUER, jti: randomUUID(), expiresAt: new Date(Date.now() + 3_600_000) },
});

const rows: Array<[string, number]> = [
  ['parse the body (JSON.parse, 17 KiB)', await stage(() => JSON.parse(body))],
  ['verify the EHR JWT (ES256, jose)', await stage(() => verifier.verify(`Bearer ${tokens[nextToken++]}`, [audience]))],
  ['map the prefetch (FHIR adapter) to clinical input', await stage(async () => clinicalInputFrom(await gatherPatientData(request, access, catalog.prefetchKeys), dictionary))],
  ['  of which the assessment (assessPatient)', await stage(() => assessPatient({ patient: input.patient, measurements: input.measurements, at }))],
  ['evaluate (clinical input, assessment, safety facts)', await stage(() => evaluatePatient(data, { dictionary, at }))],
  ['build the card', await stage(() => patientViewCards(ev, cardOptions))],
  ['serialise the answer (JSON.stringify)', await stage(() => JSON.stringify({ cards }))],
  ['record call + card + jti, one call per statement', await stage(() => { const e = entry(); return recordCdsCall(db, e.call, e.cards, e.claim); })],
  ['record call + card + jti, 5 calls per statement (per call)', (await stage(() => recordCdsCalls(db, Array.from({ length: 5 }, entry)), REQUESTS / 5)) / 5],
  ['record call + card + jti, 10 calls per statement (per call)', (await stage(() => recordCdsCalls(db, Array.from({ length: 10 }, entry)), REQUESTS / 10)) / 10],
];

await app.close();
jwksServer.close();
if (databaseUrl !== undefined) await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
await db.close();
fs.rmSync(dataDir, { recursive: true, force: true });

console.log(`CDS patient-view, CPU time in one process (${databaseUrl === undefined ? 'embedded PGlite' : 'PostgreSQL'}, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);
console.log('| end to end (app.inject) | CPU ms/call | calls per record write |');
console.log('|---|---:|---:|');
console.log(`| one call at a time | ${single.cpuMsPerCall.toFixed(3)} | ${single.meanBatch.toFixed(1)} |`);
console.log(`| ${CONCURRENCY} calls in flight | ${concurrent.cpuMsPerCall.toFixed(3)} | ${concurrent.meanBatch.toFixed(1)} |`);
console.log('| stage | CPU us/call |');
console.log('|---|---:|');
for (const [name, micros] of rows) console.log(`| ${name} | ${micros.toFixed(0)} |`);
