/** `immunoguide serve`: the HTTP server (API, FHIR, CDS Hooks, web app) on the configured database. */
import { ConfigError, loadConfig } from '../../config.ts';
import { startServer } from '../../server/start.ts';
import { UsageError } from '../context.ts';
import type { RegisterCommand } from './index.ts';

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('serve')
    .description('start the ImmunoGuide server (embedded database under ./data unless DATABASE_URL is set)')
    .option('-p, --port <port>', 'TCP port (default: $PORT or 8080)')
    .option('--host <host>', 'interface to bind (default: $HOST or 127.0.0.1)')
    .option('--json', 'print the startup summary as JSON')
    .action(async (options: { port?: string; host?: string; json?: boolean }) => {
      let config;
      try {
        config = loadConfig(
          { ...ctx.env, ...(options.port !== undefined ? { PORT: options.port } : {}), ...(options.host ? { HOST: options.host } : {}) },
          ctx.cwd,
        );
      } catch (error) {
        if (error instanceof ConfigError) throw new UsageError(error.message);
        throw error;
      }
      const server = await startServer(config);
      const summary = {
        url: server.url,
        health: `${server.url}/health`,
        database: { backend: server.db.backend, location: server.db.location },
        migrationsApplied: server.migrations.applied.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`),
        schemaVersion: server.migrations.version,
        demoCohort: server.demo,
      };
      ctx.print(options.json === true, summary, () =>
        [
          `ImmunoGuide is running at ${server.url}`,
          `  database: ${server.db.backend} (${server.db.location}), schema version ${server.migrations.version}` +
            (server.migrations.applied.length > 0 ? `, ${server.migrations.applied.length} migration(s) applied now` : ''),
          ...(server.demo.seeded
            ? [`  demo cohort: ${server.demo.patients} synthetic patients, ${server.demo.measurements} measurements (IMMUNOGUIDE_DEMO=false to skip)`]
            : []),
          '  press Ctrl+C to stop',
        ].join('\n'),
      );
      const shutdown = (signal: string): void => {
        server.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
        server.close().then(
          () => process.exit(0),
          (error: unknown) => {
            server.app.log.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
};
