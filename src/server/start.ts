/** Starts the HTTP server on the configured database: open, migrate, listen. */
import type { FastifyInstance } from 'fastify';
import { type Config, loadAuthSettings } from '../config.ts';
import type { Database } from '../store/db.ts';
import type { MigrationReport } from '../store/migrate.ts';
import { openMigratedDatabase } from '../store/open.ts';
import { DEMO_DAYS, DEMO_PATIENTS, type SeedReport, seedDemoCohort } from '../sources/synthetic/seed.ts';
import { warmUpCensus } from './api/assessment.ts';
import { buildApp } from './app.ts';
import { createAuthenticator } from './auth/authenticator.ts';
import { importPartHandler } from './imports.ts';
import { JobWorker } from './jobs/worker.ts';
import { loadCdsSettings } from './cds/settings.ts';
import { loadConceptDictionary } from '../sources/concepts/dictionary.ts';
import { bootstrapAdmin, seedDemoUsers } from './auth/bootstrap.ts';
import { countUsers } from '../store/users.ts';

export interface RunningServer {
  app: FastifyInstance;
  db: Database;
  url: string;
  migrations: MigrationReport;
  demo: SeedReport;
  /** Stops accepting connections, finishes in-flight requests, then closes the database. */
  close(): Promise<void>;
}

export async function startServer(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const authSettings = loadAuthSettings(env);
  const { db, migrations } = await openMigratedDatabase(config);
  let app: FastifyInstance;
  let worker: JobWorker | undefined;
  let demo: SeedReport = { seeded: false, patients: 0, measurements: 0 };
  try {
    const wantsDemo = config.demo === 'true' || (config.demo === 'auto' && db.backend === 'pglite');
    if (wantsDemo) {
      // A cohort "as of now": DEMO_PATIENTS admissions spread evenly over the last DEMO_DAYS days
      // at three sites, nothing in the future; the most recent are still in the ICU.
      const now = Date.now();
      const hour = 3_600_000;
      const start = new Date(Math.floor((now - DEMO_DAYS * 24 * hour) / hour) * hour).toISOString();
      demo = await seedDemoCohort(db, {
        patients: DEMO_PATIENTS,
        start,
        admissionSpacingHours: (DEMO_DAYS * 24) / DEMO_PATIENTS,
        until: new Date(now).toISOString(),
      });
    }
    if (authSettings.mode === 'local') {
      if (demo.seeded) await seedDemoUsers(db);
      await bootstrapAdmin(db, env.IMMUNOGUIDE_ADMIN_PASSWORD);
    }
    const authenticator = await createAuthenticator(db, authSettings);
    const dictionary = loadConceptDictionary(env);
    const cds = { settings: loadCdsSettings(env), dictionary };
    // Every instance works on the shared job queue (imports), on either backend.
    const jobWorker = new JobWorker(db, { handlers: { 'import-part': importPartHandler(dictionary) } });
    worker = jobWorker;
    app = await buildApp({ db, authenticator, logger: { level: config.logLevel }, cds, sofaPreset: config.sofaPreset, onJobEnqueued: () => jobWorker.poke() });
    if (authSettings.mode === 'local' && (await countUsers(db)) === 0) {
      app.log.warn(
        'no users yet: create the first administrator with `npx immunoguide users add --username admin --role admin --site SITE`' +
          ' or start once with IMMUNOGUIDE_ADMIN_PASSWORD set',
      );
    }
    // The first census after a start would otherwise compile the engine and the query paths.
    const warm = await warmUpCensus(db, config.sofaPreset, new Date().toISOString());
    if (warm.patients > 0) app.log.info({ patients: warm.patients, ms: Math.round(warm.ms) }, 'census warmed up');
    await app.listen({ host: config.host, port: config.port });
    worker?.start();
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    app,
    db,
    migrations,
    demo,
    url: `http://${host}:${port}`,
    close() {
      closing ??= (async () => {
        try {
          await app.close();
          await worker?.stop();
        } finally {
          await db.close();
        }
      })();
      return closing;
    },
  };
}
