import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VERSION } from '../../src/version.ts';
import { runCli } from '../support/cli.ts';

test('--help lists the commands and exits 0', async () => {
  const run = await runCli(['--help']);
  assert.equal(run.exitCode, 0);
  assert.match(run.stdout, /Usage: immunoguide/);
  assert.match(run.stdout, /serve/);
  assert.match(run.stdout, /migrate/);
});

test('--version prints the package version', async () => {
  const run = await runCli(['--version']);
  assert.equal(run.exitCode, 0);
  assert.equal(run.stdout.trim(), VERSION);
});

test('no arguments prints help and is a usage error', async () => {
  const run = await runCli([]);
  assert.equal(run.exitCode, 2);
  assert.match(run.stdout + run.stderr, /Usage: immunoguide/);
});

test('an unknown command or option is a usage error (exit 2) with a hint', async () => {
  const unknownCommand = await runCli(['frobnicate']);
  assert.equal(unknownCommand.exitCode, 2);
  assert.match(unknownCommand.stderr, /unknown command 'frobnicate'/);
  const unknownOption = await runCli(['migrate', '--no-such-flag']);
  assert.equal(unknownOption.exitCode, 2);
  assert.match(unknownOption.stderr, /unknown option '--no-such-flag'/);
});

test('with --json a usage error is also one JSON document on stdout', async () => {
  const run = await runCli(['migrate', '--bogus', '--json']);
  assert.equal(run.exitCode, 2);
  assert.equal(run.json<{ error: { kind: string } }>().error.kind, 'usage');
});

test('serve with an invalid port is a usage error', async () => {
  const run = await runCli(['serve', '--port', 'eighty']);
  assert.equal(run.exitCode, 2);
  assert.match(run.stderr, /PORT must be an integer/);
});

test('migrate --status on an empty embedded database lists every migration as pending', async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dataDir = mkdtempSync(join(tmpdir(), 'ig-cli-'));
  const status = await runCli(['migrate', '--status', '--json'], { IMMUNOGUIDE_DATA_DIR: dataDir });
  assert.equal(status.exitCode, 0, status.stderr);
  const before = status.json<{ applied: unknown[]; pending: string[] }>();
  assert.deepEqual(before.applied, []);
  assert.ok(before.pending.includes('0001_init.sql'));
  const migrated = await runCli(['migrate', '--json'], { IMMUNOGUIDE_DATA_DIR: dataDir });
  assert.equal(migrated.exitCode, 0, migrated.stderr);
  assert.equal(migrated.json<{ applied: unknown[] }>().applied.length, before.pending.length);
  const again = await runCli(['migrate'], { IMMUNOGUIDE_DATA_DIR: dataDir });
  assert.match(again.stdout, /schema is up to date/);
});
