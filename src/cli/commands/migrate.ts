/** `immunoguide migrate`: apply pending schema migrations (the server also does this at start-up). */
import { loadConfig } from '../../config.ts';
import { DEFAULT_MIGRATIONS_DIR, appliedMigrations, loadMigrations, migrate } from '../../store/migrate.ts';
import { openDatabase } from '../../store/open.ts';
import type { RegisterCommand } from './index.ts';

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('migrate')
    .description('bring the database schema up to date (all pending migrations in one transaction)')
    .option('--status', 'only show applied and pending migrations')
    .option('--migrations <dir>', 'directory of NNNN_name.sql files', DEFAULT_MIGRATIONS_DIR)
    .option('--json', 'machine-readable output')
    .action(async (options: { status?: boolean; migrations: string; json?: boolean }) => {
      const config = loadConfig(ctx.env, ctx.cwd);
      const db = await openDatabase(config);
      try {
        if (options.status) {
          const applied = await appliedMigrations(db);
          const known = loadMigrations(options.migrations);
          const pending = known.slice(applied.length).map((m) => m.file);
          ctx.print(
            options.json === true,
            { database: db.location, applied, pending },
            () =>
              [
                `database: ${db.backend} (${db.location})`,
                ...applied.map((m) => `  applied  ${String(m.version).padStart(4, '0')}_${m.name}  ${m.appliedAt}`),
                ...pending.map((file) => `  pending  ${file}`),
              ].join('\n'),
          );
          return;
        }
        const report = await migrate(db, options.migrations);
        ctx.print(options.json === true, { database: db.location, ...report }, () =>
          report.applied.length === 0
            ? `schema is up to date (version ${report.version})`
            : `applied ${report.applied.length} migration(s); schema version ${report.version}`,
        );
      } finally {
        await db.close();
      }
    });
};
