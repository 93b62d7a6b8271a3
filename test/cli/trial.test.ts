import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { IMMUNOSEP_TRIAL } from '../../src/trial/definition.ts';
import { generateSequence } from '../../src/trial/sequence.ts';
import { runCli } from '../support/cli.ts';

const SEED_HEX = 'aa'.repeat(32);
const KEY = 'immuneClass=MALS;site=athens';

test('trial sequence --json regenerates the list from the seed', async () => {
  const run = await runCli(['trial', 'sequence', '--seed', SEED_HEX, '--stratum', KEY, '--length', '14', '--json']);
  assert.equal(run.exitCode, 0, run.stderr);
  const report = run.json<{ stratumKey: string; seedSha256: string; counts: Record<string, number>; slots: unknown[]; definition: { id: string } }>();
  const expected = generateSequence(IMMUNOSEP_TRIAL, Buffer.from(SEED_HEX, 'hex'), KEY, 14);
  assert.ok(expected.ok);
  assert.deepEqual(report.slots, expected.value);
  assert.deepEqual(report.counts, { placebo: 7, anakinra: 7 });
  assert.equal(report.definition.id, 'immunosep');
  assert.equal(report.seedSha256, 'e0e77a507412b120f6ede61f62295b1a7b2ff19d3dcc8f7253e51663470c888e');
});

test('trial sequence prints a readable list', async () => {
  const run = await runCli(['trial', 'sequence', '--seed', SEED_HEX, '--stratum', KEY, '--length', '2']);
  assert.equal(run.exitCode, 0);
  assert.match(run.stdout, /^\s+1\s+1\s+6\s+placebo\s+ADXA-2CF4-M5D5$/m);
  assert.match(run.stdout, /^\s+2\s+1\s+6\s+anakinra\s+XQ71-5CER-G50B$/m);
  assert.match(run.stdout, /note: block sizes \(unconfirmed\)/);
});

test('trial sequence --definition reads another definition', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-trial-'));
  try {
    const file = path.join(dir, 'def.json');
    fs.writeFileSync(file, JSON.stringify({ ...IMMUNOSEP_TRIAL, id: 'other', blockSizes: [4] }));
    const run = await runCli(['trial', 'sequence', '--seed', SEED_HEX, '--stratum', KEY, '--length', '8', '--definition', file, '--json']);
    assert.equal(run.exitCode, 0, run.stderr);
    const slots = run.json<{ slots: Array<{ blockSize: number }> }>().slots;
    assert.deepEqual(new Set(slots.map((s) => s.blockSize)), new Set([4]));
    fs.writeFileSync(file, JSON.stringify({ ...IMMUNOSEP_TRIAL, blockSizes: [3] }));
    const bad = await runCli(['trial', 'sequence', '--seed', SEED_HEX, '--stratum', KEY, '--length', '8', '--definition', file]);
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /3 is not a multiple of the MALS ratio sum 2/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('trial sequence: usage errors exit 2 with the reason', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--seed', 'abcd', '--stratum', KEY, '--length', '2'], /16 to 64 bytes/],
    [['--seed', SEED_HEX, '--stratum', 'site=athens;immuneClass=MALS', '--length', '2'], /not canonical: expected "immuneClass=MALS;site=athens"/],
    [['--seed', SEED_HEX, '--stratum', KEY, '--length', '-1'], /--length must be a non-negative integer/],
    [['--seed', SEED_HEX, '--stratum', KEY], /required option '--length <n>'/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(['trial', 'sequence', ...args, '--json']);
    assert.equal(run.exitCode, 2, args.join(' '));
    assert.match(run.json<{ error: { message: string } }>().error.message, message);
  }
});
