/**
 * `immunoguide audit verify`: recomputes the hash chain of the configured database's audit log
 * and names the first edited, deleted or reordered entry. Exit 0 when the chain is intact, 1
 * when it is not (the report is printed either way; with --json it is the one JSON document).
 * Read-only: it does not migrate the database.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import { verifyAuditChain } from '../../store/audit.ts';
import { openDatabase } from '../../store/open.ts';
import { CommandFailure, EXIT_FAILURE } from '../context.ts';
import type { RegisterCommand } from './index.ts';

export const register: RegisterCommand = (program, ctx, result) => {
  const audit: Command = program.command('audit').description('the tamper-evident trial audit log');

  audit
    .command('verify')
    .description('verify the audit hash chain; exit 1 naming the first bad entry when it is broken')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const db = await openDatabase(loadConfig(ctx.env, ctx.cwd));
      try {
        const present = await db.query<{ present: boolean }>(`SELECT to_regclass('audit_entry') IS NOT NULL AS present`);
        if (!present.rows[0]?.present) {
          throw new CommandFailure('this database has no audit log yet (schema older than 0003): run `immunoguide migrate` first');
        }
        const verification = await verifyAuditChain(db);
        const report = verification.ok
          ? { database: db.location, valid: true, count: verification.count, head: verification.head }
          : { database: db.location, valid: false, count: verification.count, firstBad: verification.problem, recordedHead: verification.recordedHead ?? null };
        ctx.print(options.json === true, report, () =>
          verification.ok
            ? `audit chain valid: ${verification.count} entries; head ${verification.head.seq} ${verification.head.hash}`
            : `audit chain BROKEN at entry ${verification.problem.seq} (${verification.problem.kind}): ${verification.problem.message}`,
        );
        if (!verification.ok) {
          ctx.stderr.write(`immunoguide: audit chain broken at entry ${verification.problem.seq} (${verification.problem.kind})\n`);
          result.exitCode = EXIT_FAILURE;
        }
      } finally {
        await db.close();
      }
    });
};
