import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { trialDatasetJson } from '../../src/stats/trial-data.ts';
import { ACTIVE_LABEL, PLACEBO_LABEL, smallTrial, swappedArms } from '../stats/trial-fixtures.ts';
import { runCli } from '../support/cli.ts';

function workspace(data: unknown = trialDatasetJson(smallTrial())): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ig-report-cli-'));
  writeFileSync(path.join(dir, 'trial.json'), typeof data === 'string' ? data : JSON.stringify(data));
  return dir;
}

const AT = ['--generated-at', '2026-03-01T12:00:00Z'];

test('report writes the unblinded HTML and summarises it in JSON', async () => {
  const dir = workspace();
  const run = await runCli(['report', '--input', 'trial.json', '--out', 'report.html', ...AT, '--json'], {}, dir);
  assert.equal(run.exitCode, 0, run.stderr);
  const summary = run.json<{ out: string; blinded: boolean; patients: number; analysed: number; endpointDefinition: { id: string; version: string }; sofaPreset: string; bytes: number }>();
  assert.equal(summary.out, path.join(dir, 'report.html'));
  assert.deepEqual(
    { blinded: summary.blinded, patients: summary.patients, analysed: summary.analysed, endpointDefinition: summary.endpointDefinition, sofaPreset: summary.sofaPreset },
    { blinded: false, patients: 8, analysed: 7, endpointDefinition: { id: 'immunosep-sap', version: '1.0.0' }, sofaPreset: 'vincent1996' },
  );
  const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
  assert.equal(Buffer.byteLength(html), summary.bytes);
  assert.ok(html.includes(ACTIVE_LABEL) && html.includes('UNBLINDED REPORT') && html.includes('2026-03-01T12:00:00Z'));
  const text = await runCli(['report', '--input', 'trial.json', '--out', 'again.html', ...AT], {}, dir);
  assert.equal(text.exitCode, 0);
  assert.match(text.stdout, /^wrote again\.html: UNBLINDED report, 8 patients \(7 analysed\), endpoint definition immunosep-sap 1\.0\.0, SOFA preset vincent1996\n$/);
  assert.equal(readFileSync(path.join(dir, 'again.html'), 'utf8'), html, 'same input, same bytes');
});

test('report --blinded: no arm information in the file, identical bytes under any allocation', async () => {
  const dir = workspace();
  const run = await runCli(['report', '--input', 'trial.json', '--blinded', '--out', 'blinded.html', ...AT], {}, dir);
  assert.equal(run.exitCode, 0, run.stderr);
  const bytes = readFileSync(path.join(dir, 'blinded.html'));
  for (const forbidden of [ACTIVE_LABEL, PLACEBO_LABEL, 'placebo', 'active', '"arm"']) assert.equal(bytes.indexOf(forbidden), -1, forbidden);
  writeFileSync(path.join(dir, 'swapped.json'), JSON.stringify(trialDatasetJson(swappedArms(smallTrial()))));
  const swapped = await runCli(['report', '--input', 'swapped.json', '--blinded', '--out', 'blinded2.html', ...AT], {}, dir);
  assert.equal(swapped.exitCode, 0);
  // The source file name is printed: render both from files with the same name.
  const again = await runCli(['report', '--input', 'trial.json', '--blinded', '--out', 'blinded3.html', ...AT], {}, dir);
  assert.equal(again.exitCode, 0);
  const a = readFileSync(path.join(dir, 'blinded3.html'), 'utf8');
  const b = readFileSync(path.join(dir, 'blinded2.html'), 'utf8').replace('from swapped.json', 'from trial.json');
  assert.equal(b, a);
});

test('report --definition analyses under another shipped definition', async () => {
  const dir = workspace();
  const run = await runCli(['report', '--input', 'trial.json', '--out', 'r.html', '--definition', 'immunosep-paper', ...AT, '--json'], {}, dir);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.equal(run.json<{ endpointDefinition: { id: string } }>().endpointDefinition.id, 'immunosep-paper');
  assert.ok(readFileSync(path.join(dir, 'r.html'), 'utf8').includes('minus the window mean &gt;= 1.4'));
});

test('report: exit 1 for unreadable, malformed or inconsistent data, 2 for a wrong invocation', async () => {
  const dir = workspace();
  const missing = await runCli(['report', '--input', 'nope.json', '--out', 'r.html', '--json'], {}, dir);
  assert.equal(missing.exitCode, 1);
  assert.match(missing.json<{ error: { message: string } }>().error.message, /cannot read nope\.json \(ENOENT\)/);

  const notJson = workspace('{"format": ');
  assert.equal((await runCli(['report', '--input', 'trial.json', '--out', 'r.html'], {}, notJson)).exitCode, 1);

  const json = trialDatasetJson(smallTrial()) as { patients: Array<Record<string, unknown>> };
  const invalid = workspace({ ...json, patients: [{ ...json.patients[0], arm: 'both' }] });
  const bad = await runCli(['report', '--input', 'trial.json', '--out', 'r.html', '--json'], {}, invalid);
  assert.equal(bad.exitCode, 1);
  const error = bad.json<{ error: { message: string; details: { problems: Array<{ path: string }> } } }>().error;
  assert.match(error.message, /patients\[0\]\.arm: must be one of active, placebo/);
  assert.equal(error.details.problems[0]?.path, 'patients[0].arm');

  const contradictory = workspace({ ...json, patients: [{ ...json.patients[2], sofa: [{ day: 8, total: 4 }] }] });
  const c = await runCli(['report', '--input', 'trial.json', '--out', 'r.html'], {}, contradictory);
  assert.equal(c.exitCode, 1);
  assert.match(c.stderr, /B1 patients\[0\]\.sofa\[0\]\.total: a SOFA of 4 is recorded on day 8, after death on day 5/);

  for (const args of [
    ['report', '--input', 'trial.json', '--out', 'r.html', '--definition', 'nope'],
    ['report', '--input', 'trial.json', '--out', 'r.html', '--generated-at', 'yesterday'],
    ['report', '--input', 'trial.json'],
  ]) {
    assert.equal((await runCli(args, {}, dir)).exitCode, 2, args.join(' '));
  }
  const unwritable = await runCli(['report', '--input', 'trial.json', '--out', 'no/such/dir/r.html'], {}, dir);
  assert.equal(unwritable.exitCode, 1);
});
