/**
 * `immunoguide users`: local-issuer user management, including the first administrator
 * (admin bootstrap) on a fresh deployment.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import { hashPassword } from '../../server/auth/passwords.ts';
import { ROLES, isRole } from '../../server/auth/principal.ts';
import { migrate } from '../../store/migrate.ts';
import { openDatabase } from '../../store/open.ts';
import { createUser, findUserByUsername, listUsers, setUserPassword } from '../../store/users.ts';
import { type CommandContext, CommandFailure, UsageError } from '../context.ts';
import type { RegisterCommand } from './index.ts';

const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];

async function withDatabase<T>(ctx: CommandContext, work: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const db = await openDatabase(loadConfig(ctx.env, ctx.cwd));
  try {
    await migrate(db);
    return await work(db);
  } finally {
    await db.close();
  }
}

async function readPassword(ctx: CommandContext, fromStdin: boolean | undefined): Promise<{ password: string; generated: boolean }> {
  if (!fromStdin) return { password: randomBytes(18).toString('base64url'), generated: true };
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (password.length < 12) throw new UsageError('the password must have at least 12 characters');
  return { password, generated: false };
}

export const register: RegisterCommand = (program, ctx) => {
  const users: Command = program.command('users').description('manage users of the local token issuer');

  users
    .command('add')
    .description('create a user; prints a generated password once unless --password-stdin')
    .requiredOption('--username <name>', 'lower-case login name')
    .requiredOption('--role <role>', `role (repeatable or comma-separated): ${ROLES.join(', ')}`, collect)
    .requiredOption('--site <id>', 'site id (repeatable or comma-separated)', collect)
    .option('--display-name <name>', 'name shown in the app and the audit log')
    .option('--password-stdin', 'read the password from standard input')
    .option('--json', 'machine-readable output')
    .action(async (options: { username: string; role: string[]; site: string[]; displayName?: string; passwordStdin?: boolean; json?: boolean }) => {
      const badRole = options.role.find((role) => !isRole(role));
      if (badRole !== undefined) throw new UsageError(`unknown role "${badRole}"; roles are ${ROLES.join(', ')}`);
      if (!/^[a-z0-9._@-]{2,64}$/.test(options.username)) {
        throw new UsageError('the username must be 2-64 characters of a-z, 0-9, . _ @ -');
      }
      const { password, generated } = await readPassword(ctx, options.passwordStdin);
      const user = await withDatabase(ctx, async (db) => {
        if (await findUserByUsername(db, options.username)) throw new CommandFailure(`user ${options.username} already exists`);
        return createUser(db, {
          username: options.username,
          displayName: options.displayName ?? options.username,
          passwordHash: await hashPassword(password),
          roles: options.role,
          sites: options.site,
        });
      });
      const result = { id: user.id, username: user.username, roles: user.roles, sites: user.sites, ...(generated ? { password } : {}) };
      ctx.print(options.json === true, result, () =>
        [
          `created user ${user.username} (${user.roles.join(', ')}; sites ${user.sites.join(', ')})`,
          ...(generated ? [`password: ${password}`, 'store it now: it is not shown again'] : []),
        ].join('\n'),
      );
    });

  users
    .command('set-password')
    .description('set a new password (generated and printed once unless --password-stdin)')
    .requiredOption('--username <name>')
    .option('--password-stdin', 'read the password from standard input')
    .option('--json', 'machine-readable output')
    .action(async (options: { username: string; passwordStdin?: boolean; json?: boolean }) => {
      const { password, generated } = await readPassword(ctx, options.passwordStdin);
      const hash = await hashPassword(password);
      const changed = await withDatabase(ctx, (db) => setUserPassword(db, options.username, hash));
      if (!changed) throw new CommandFailure(`no user ${options.username}`);
      ctx.print(options.json === true, { username: options.username, ...(generated ? { password } : {}) }, () =>
        generated ? `new password for ${options.username}: ${password}` : `password of ${options.username} changed`,
      );
    });

  users
    .command('list')
    .description('list users')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const rows = await withDatabase(ctx, listUsers);
      const view = rows.map(({ username, displayName, roles, sites, disabled }) => ({ username, displayName, roles, sites, disabled }));
      ctx.print(options.json === true, { users: view }, () =>
        view.length === 0
          ? 'no users'
          : view.map((u) => `${u.username.padEnd(20)} ${u.roles.join(',').padEnd(24)} ${u.sites.join(',')}${u.disabled ? ' (disabled)' : ''}`).join('\n'),
      );
    });
};
