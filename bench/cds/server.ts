/**
 * The server side of bench/cds: ImmunoGuide with the CDS Hooks plugin on a temporary embedded
 * database, configured from the environment like a deployment (IMMUNOGUIDE_PUBLIC_URL,
 * CDS_TRUSTED_ISSUERS, ...). Prints {"url": ...} on stdout once listening, {"cpuMicros": ...} on
 * SIGUSR2; stops on SIGTERM.
 *
 * Runs as its own process so that the load generator (bench/cds/patient-view.ts) does not share
 * its event loop.
 */
import { loadAuthSettings, loadConfig } from '../../src/config.ts';
import { buildApp } from '../../src/server/app.ts';
import { createAuthenticator } from '../../src/server/auth/authenticator.ts';
import { cdsHooksRoutes } from '../../src/server/cds/plugin.ts';
import { loadCdsSettings } from '../../src/server/cds/settings.ts';
import { openMigratedDatabase } from '../../src/store/open.ts';

const config = loadConfig(process.env);
const { db } = await openMigratedDatabase(config);
const authenticator = await createAuthenticator(db, loadAuthSettings(process.env));
const app = await buildApp({ db, authenticator, logger: { level: config.logLevel } });
// Until the lead registers the plugin in buildApp, register it here (once).
if (!app.routeTable.some((r) => r.url === '/cds-services/:id')) {
  await app.register(cdsHooksRoutes, { db, settings: loadCdsSettings(process.env) });
}
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
  process.stdout.write(`${JSON.stringify({ cpuMicros: usage.user + usage.system })}\n`);
});
process.on('SIGINT', () => void stop());
