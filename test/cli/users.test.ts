import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { verifyPassword } from '../../src/server/auth/passwords.ts';
import { openPGlite } from '../../src/store/pglite.ts';
import { findUserByUsername } from '../../src/store/users.ts';
import { runCli } from '../support/cli.ts';

test('users add bootstraps an administrator with a generated password shown once', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-users-'));
  const env = { IMMUNOGUIDE_DATA_DIR: dataDir };
  const run = await runCli(['users', 'add', '--username', 'admin', '--role', 'admin', '--site', 'athens,milan', '--json'], env);
  assert.equal(run.exitCode, 0, run.stderr);
  const created = run.json<{ username: string; roles: string[]; sites: string[]; password: string }>();
  assert.deepEqual([created.username, created.roles, created.sites], ['admin', ['admin'], ['athens', 'milan']]);
  assert.ok(created.password.length >= 20);

  const again = await runCli(['users', 'add', '--username', 'admin', '--role', 'admin', '--site', 'athens'], env);
  assert.equal(again.exitCode, 1);
  assert.match(again.stderr, /already exists/);

  const badRole = await runCli(['users', 'add', '--username', 'x1', '--role', 'surgeon', '--site', 'athens'], env);
  assert.equal(badRole.exitCode, 2);
  assert.match(badRole.stderr, /unknown role "surgeon"/);

  const list = await runCli(['users', 'list', '--json'], env);
  assert.deepEqual(
    list.json<{ users: Array<{ username: string }> }>().users.map((u) => u.username),
    ['admin'],
  );

  const db = await openPGlite({ dataDir });
  try {
    const stored = await findUserByUsername(db, 'admin');
    assert.ok(stored?.passwordHash && (await verifyPassword(created.password, stored.passwordHash)));
    assert.ok(!stored.passwordHash.includes(created.password), 'only a hash is stored');
  } finally {
    await db.close();
  }
});
