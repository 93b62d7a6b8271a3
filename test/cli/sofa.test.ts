import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../support/cli.ts';

const FIXTURE = 'test/fixtures/csv/sofa-two-patients.csv';

interface SofaJson {
  preset: { id: string };
  patients: Array<{ patientId: string; days: Array<{ day: number; total: number; components: Record<string, number | null>; missing: string[] }> }>;
  issues: Array<{ location: string[]; diagnostics: string }>;
}

test('sofa scores each patient by day, lists missing components, and reports every bad line (exit 1)', async () => {
  const run = await runCli(['sofa', FIXTURE, '--preset', 'vincent1996', '--json']);
  assert.equal(run.exitCode, 1, 'bad lines make the exit code 1');
  const out = run.json<SofaJson>();
  assert.equal(out.preset.id, 'vincent1996');
  const p1 = out.patients.find((p) => p.patientId === 'P1')!;
  // Day 1 [08:00, 08:00+24h): P/F 220/0.55 = 400 -> 0; platelets 95 -> 2; bilirubin 34 umol/L -> 2 (SI column);
  // MAP 65 -> 1; GCS 12 -> 2; renal missing.
  assert.deepEqual(p1.days[0]!.components, { respiration: 0, coagulation: 2, liver: 2, cardiovascular: 1, cns: 2, renal: null });
  assert.equal(p1.days[0]!.total, 7);
  assert.deepEqual(p1.days[0]!.missing, ['renal']);
  // Day 2: creatinine 3.5 -> 3; norepinephrine 0.15 for 2 h -> 4; platelets 19 x10^9/L -> 4.
  assert.deepEqual(p1.days[1]!.components, { respiration: null, coagulation: 4, liver: null, cardiovascular: 4, cns: null, renal: 3 });
  const p2 = out.patients.find((p) => p.patientId === 'P2')!;
  assert.equal(p2.days[0]!.components.renal, 0);
  const lines = out.issues.map((i) => i.location[0]);
  assert.deepEqual(lines, ['line 13', 'line 14', 'line 15', 'line 16']);
  assert.match(out.issues[0]!.diagnostics, /column value: "not-a-number" is not a number/);
  assert.match(out.issues[1]!.diagnostics, /column time: .*time zone/);
  assert.match(out.issues[2]!.diagnostics, /unknown concept "lactate_dehydrogenase"/);
  assert.match(out.issues[3]!.diagnostics, /not convertible to molecules per monocyte/);
});

test('--start anchors day 1 for every patient', async () => {
  const out = (await runCli(['sofa', FIXTURE, '--start', '2026-01-04T20:00:00Z', '--json'])).json<SofaJson & { patients: Array<{ start: string }> }>();
  for (const patient of out.patients) assert.equal(patient.start, '2026-01-04T20:00:00.000Z');
});

test('human output is a table with the missing components', async () => {
  const run = await runCli(['sofa', FIXTURE]);
  assert.match(run.stdout, /patient P1: day 1 starts 2026-01-05T08:00:00.000Z, preset mimic-iv/);
  assert.match(run.stdout, /error: line 13: column value: .*not a number/);
});

test('usage errors exit 2; an unreadable file exits 1', async () => {
  assert.equal((await runCli(['sofa', FIXTURE, '--preset', 'apache'])).exitCode, 2);
  assert.equal((await runCli(['sofa', FIXTURE, '--start', 'monday'])).exitCode, 2);
  const missing = await runCli(['sofa', 'no/such/file.csv', '--json']);
  assert.equal(missing.exitCode, 1);
  assert.match(missing.json<{ error: { message: string } }>().error.message, /no such file/);
});
