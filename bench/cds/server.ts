/**
 * The server side of bench/cds: ImmunoGuide with the CDS Hooks plugin on a temporary embedded
 * database (or DATABASE_URL), configured from the environment like a deployment
 * (IMMUNOGUIDE_PUBLIC_URL, CDS_TRUSTED_ISSUERS, ...) and mounted by buildApp as `serve` does.
 * Prints {"url": ...} on stdout once listening; on SIGUSR2 prints {"cpuMicros": ..., "batches":
 * {size: count}} (CPU time used so far, and the sizes of the call-record writes since the last
 * SIGUSR2); stops on SIGTERM.
 *
 * Runs as its own process so that the load generator (bench/cds/patient-view.ts) does not share
 * its event loop.
 */
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
const app = await buildApp({
  db,
  authenticator,
  logger: { level: config.logLevel },
  cds: {
    settings: loadCdsSettings(process.env),
    dictionary: loadConceptDictionary(process.env),
    recorder: { onBatch: (size) => batches.set(size, (batches.get(size) ?? 0) + 1) },
  },
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
// The load generator asks for the CPU time used so far, to report CPU per request.
process.on('SIGUSR2', () => {
  const usage = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ cpuMicros: usage.user + usage.system, batches: Object.fromEntries(batches) })}\n`);
  batches = new Map();
});
process.on('SIGINT', () => void stop());
