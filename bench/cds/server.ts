/**
 * The server side of bench/cds: ImmunoGuide with the CDS Hooks plugin on a temporary embedded
 * database (or DATABASE_URL), configured from the environment like a deployment
 * (IMMUNOGUIDE_PUBLIC_URL, CDS_TRUSTED_ISSUERS, ...) and mounted by buildApp as `serve` does.
 * Prints {"url": ...} on stdout once listening; on SIGUSR2 prints {"cpuMicros": ..., "batches":
 * {size: count}, "gc": {...}, "loop": {...}} (CPU time used so far; since the last SIGUSR2: the
 * sizes of the call-record writes, the main thread's GC pauses and event-loop delay); stops on SIGTERM.
 *
 * Runs as its own process so that the load generator (bench/cds/patient-view.ts) does not share
 * its event loop.
 */
import { PerformanceObserver, constants, monitorEventLoopDelay } from 'node:perf_hooks';
import { loadAuthSettings, loadConfig } from '../../src/config.ts';
import { buildApp } from '../../src/server/app.ts';
import { createAuthenticator } from '../../src/server/auth/authenticator.ts';
import { loadCdsSettings } from '../../src/server/cds/settings.ts';
import { loadConceptDictionary } from '../../src/sources/concepts/dictionary.ts';
import { openMigratedDatabase } from '../../src/store/open.ts';

const config = loadConfig(process.env);
const { db } = await openMigratedDatabase(config);
const authenticator = await createAuthenticator(db, loadAuthSettings(process.env));
let batches = new Map<number, number>();
/** How long each call-record write took (ms), since the last SIGUSR2. */
let writeMs: number[] = [];
const app = await buildApp({
  db,
  authenticator,
  logger: { level: config.logLevel },
  cds: {
    settings: loadCdsSettings(process.env),
    dictionary: loadConceptDictionary(process.env),
    recorder: {
      onBatch: (size, ms) => {
        batches.set(size, (batches.get(size) ?? 0) + 1);
        writeMs.push(ms);
      },
    },
  },
});
// Time each request spent inside the server (from fastify's onRequest to the response sent).
let handledMs: number[] = [];
app.addHook('onResponse', async (_request, reply) => {
  handledMs.push(reply.elapsedTime);
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const port = typeof address === 'object' && address !== null ? address.port : 0;
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);

const stop = async () => {
  await app.close();
  await db.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
// What the tail latency is made of, per run: the main thread's garbage-collection pauses and
// how late its event loop ran (a request waits at least that long).
let gcPauses: number[] = [];
/** Longest pause per kind (minor = scavenge, major = mark-compact, incremental, weakcb). */
let gcMaxByKind: Record<string, number> = {};
const GC_KINDS: Record<number, string> = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcPauses.push(entry.duration);
    const kind = GC_KINDS[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
    gcMaxByKind[kind] = Math.max(gcMaxByKind[kind] ?? 0, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });
let loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
// The load generator asks for the CPU time used so far, to report CPU per request, and for the
// pauses and loop delays since the last time it asked.
process.on('SIGUSR2', () => {
  const usage = process.cpuUsage();
  const sorted = gcPauses.sort((a, b) => a - b);
  const gc = { count: sorted.length, totalMs: sorted.reduce((a, b) => a + b, 0), maxMs: sorted.at(-1) ?? 0, over5Ms: sorted.filter((d) => d > 5).length, maxByKind: gcMaxByKind };
  const loop = { p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 };
  const writes = writeMs.sort((a, b) => a - b);
  const write = { p50Ms: writes[Math.floor(writes.length / 2)] ?? 0, p99Ms: writes[Math.max(0, Math.ceil(writes.length * 0.99) - 1)] ?? 0, maxMs: writes.at(-1) ?? 0 };
  writeMs = [];
  const handled = handledMs.sort((a, b) => a - b);
  const server = { p50Ms: handled[Math.floor(handled.length / 2)] ?? 0, p99Ms: handled[Math.max(0, Math.ceil(handled.length * 0.99) - 1)] ?? 0, maxMs: handled.at(-1) ?? 0 };
  handledMs = [];
  process.stdout.write(`${JSON.stringify({ cpuMicros: usage.user + usage.system, batches: Object.fromEntries(batches), gc, loop, write, server })}\n`);
  batches = new Map();
  gcPauses = [];
  gcMaxByKind = {};
  loopDelay.disable();
  loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
});
process.on('SIGINT', () => void stop());
