import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_MIGRATIONS_DIR, MigrationError, appliedMigrations, loadMigrations, migrate } from '../../src/store/migrate.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

function tempMigrations(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-migrations-'));
  for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), sql);
  return dir;
}

async function tableExists(t: TestDatabase, table: string): Promise<boolean> {
  const result = await t.db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
  return result.rows[0]?.present === true;
}

describe('migration files', () => {
  test('the shipped migrations are numbered without gaps', () => {
    const migrations = loadMigrations(DEFAULT_MIGRATIONS_DIR);
    assert.ok(migrations.length >= 1);
    assert.deepEqual(
      migrations.map((m) => m.version),
      migrations.map((_, i) => i + 1),
    );
  });

  test('a gap in numbering is refused', () => {
    const dir = tempMigrations({ '0001_a.sql': 'SELECT 1;', '0003_c.sql': 'SELECT 1;' });
    assert.throws(() => loadMigrations(dir), /without gaps/);
  });

  test('a badly named file is refused', () => {
    const dir = tempMigrations({ '1_a.sql': 'SELECT 1;' });
    assert.throws(() => loadMigrations(dir), /does not match/);
  });
});

for (const { backend, skip } of await testBackends()) {
  describe(`migrations on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await openTestDatabase(backend, { migrated: false });
    });
    after(async () => t?.dispose());

    test('apply all, then nothing on the second run', async () => {
      const first = await migrate(t.db);
      assert.equal(first.applied.length, loadMigrations().length);
      assert.ok(await tableExists(t, 'measurement'));
      const second = await migrate(t.db);
      assert.deepEqual(second.applied, []);
      assert.equal(second.version, first.version);
    });

    test('a broken migration fails loudly and leaves the database as it was', async () => {
      const dir = tempMigrations({
        '0001_good.sql': 'CREATE TABLE good_one (id int);',
        '0002_also_good.sql': 'CREATE TABLE good_two (id int); INSERT INTO good_two VALUES (1);',
        '0003_broken.sql': 'CREATE TABLE half_done (id int);\nINSERT INTO no_such_table VALUES (1);',
      });
      const scratch = await openTestDatabase(backend, { migrated: false });
      try {
        await assert.rejects(migrate(scratch.db, dir), (error: unknown) => {
          assert.ok(error instanceof MigrationError);
          assert.match(error.message, /0003_broken\.sql failed/);
          assert.match(error.message, /no_such_table/);
          assert.match(error.message, /still at version 0/);
          return true;
        });
        // All-or-nothing: neither the good migrations before it nor the broken one's first statement stuck.
        for (const table of ['good_one', 'good_two', 'half_done']) {
          assert.equal(await tableExists(scratch, table), false, `${table} must not exist`);
        }
        assert.deepEqual(await appliedMigrations(scratch.db), []);
      } finally {
        await scratch.dispose();
      }
    });

    test('a broken migration on an up-to-date database keeps its data and version', async () => {
      const good = { '0001_good.sql': 'CREATE TABLE kept (v text); INSERT INTO kept VALUES (\'stored\');' };
      const scratch = await openTestDatabase(backend, { migrated: false });
      try {
        await migrate(scratch.db, tempMigrations(good));
        const broken = tempMigrations({ ...good, '0002_broken.sql': 'DROP TABLE kept; SELECT 1/0;' });
        await assert.rejects(migrate(scratch.db, broken), /0002_broken\.sql failed: division by zero/);
        const rows = await scratch.db.query<{ v: string }>('SELECT v FROM kept');
        assert.deepEqual(rows.rows, [{ v: 'stored' }]);
        assert.equal((await appliedMigrations(scratch.db)).length, 1);
      } finally {
        await scratch.dispose();
      }
    });

    test('an applied migration that was edited is detected', async () => {
      const scratch = await openTestDatabase(backend, { migrated: false });
      try {
        await migrate(scratch.db, tempMigrations({ '0001_a.sql': 'CREATE TABLE a (id int);' }));
        await assert.rejects(
          migrate(scratch.db, tempMigrations({ '0001_a.sql': 'CREATE TABLE a (id bigint);' })),
          /differs from the one applied/,
        );
        await assert.rejects(migrate(scratch.db, tempMigrations({})), /knows only 0 migration/);
      } finally {
        await scratch.dispose();
      }
    });

    test('concurrent migrators apply each migration once', { skip: backend === 'pglite' && 'one connection' }, async () => {
      const scratch = await openTestDatabase(backend, { migrated: false });
      try {
        const reports = await Promise.all([migrate(scratch.db), migrate(scratch.db), migrate(scratch.db)]);
        const total = reports.reduce((sum, r) => sum + r.applied.length, 0);
        assert.equal(total, loadMigrations().length);
      } finally {
        await scratch.dispose();
      }
    });
  });
}
