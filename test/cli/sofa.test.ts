import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../support/cli.ts';

const FIXTURE = 'test/fixtures/csv/sofa-two-patients.csv';
/** UTF-8 BOM, CRLF line ends, quoted fields, columns out of order, interval_hours, blank lines. */
const CRLF_FIXTURE = 'test/fixtures/csv/sofa-crlf-bom.csv';

type Components = Record<'respiration' | 'coagulation' | 'liver' | 'cardiovascular' | 'cns' | 'renal', number | null>;
interface SofaJson {
  preset: { id: string; version: string };
  thresholds: { id: string; version: string };
  patients: Array<{
    patientId: string;
    start: string;
    days: Array<{
      day: number;
      start: string;
      end: string;
      total: number;
      components: Components;
      missing: string[];
      evidence: Record<string, { value: number; unit: string; comparison: string; time: string; inputs: Array<{ provenance?: { source: string } }> }>;
    }>;
  }>;
  records: number;
  rejected: number;
  issues: Array<{ severity: string; code: string; location: string[]; diagnostics: string }>;
}

test('sofa scores each patient by day, lists missing components, and reports every bad line (exit 1)', async () => {
  const run = await runCli(['sofa', FIXTURE, '--preset', 'vincent1996', '--json']);
  assert.equal(run.exitCode, 1, 'bad lines make the exit code 1');
  const out = run.json<SofaJson>();
  assert.deepEqual([out.preset.id, out.preset.version], ['vincent1996', '1.0.0']);
  assert.equal(out.thresholds.id, 'sofa-vincent1996');
  const p1 = out.patients.find((p) => p.patientId === 'P1');
  assert.ok(p1);
  // Day 1 [08:00, 08:00 + 24 h): P/F 220 / 0.55 = 400 -> 0; platelets 95 -> 2; bilirubin 34 umol/L on
  // the printed SI column (33-101) -> 2; MAP 65 -> 1; GCS 12 -> 2; renal not measured.
  assert.deepEqual(p1.days[0]?.components, { respiration: 0, coagulation: 2, liver: 2, cardiovascular: 1, cns: 2, renal: null });
  assert.equal(p1.days[0]?.total, 7);
  assert.deepEqual(p1.days[0]?.missing, ['renal']);
  assert.deepEqual([p1.days[0]?.start, p1.days[0]?.end], ['2026-01-05T08:00:00Z', '2026-01-06T08:00:00Z']);
  assert.equal(p1.days[0]?.evidence.liver?.comparison, 'bilirubin 34 umol/L >= 33 umol/L: 2');
  assert.equal(p1.days[0]?.evidence.liver?.inputs[0]?.provenance?.source, 'csv');
  // Day 2: creatinine 3.5 -> 3; norepinephrine 0.15 held 2 h -> 4; platelets 19 x10^9/L -> 4.
  assert.deepEqual(p1.days[1]?.components, { respiration: null, coagulation: 4, liver: null, cardiovascular: 4, cns: null, renal: 3 });
  assert.equal(p1.days[1]?.total, 11);
  const p2 = out.patients.find((p) => p.patientId === 'P2');
  assert.equal(p2?.days[0]?.components.renal, 0);
  assert.deepEqual([out.records, out.rejected], [15, 4]);
  assert.deepEqual(out.issues.map((i) => i.location[0]), ['line 13', 'line 14', 'line 15', 'line 16']);
  assert.match(out.issues[0]?.diagnostics ?? '', /column value: "not-a-number" is not a number/);
  assert.match(out.issues[1]?.diagnostics ?? '', /column time: .*time zone/);
  assert.match(out.issues[2]?.diagnostics ?? '', /unknown concept "lactate_dehydrogenase"/);
  assert.match(out.issues[3]?.diagnostics ?? '', /not convertible to molecules per monocyte/);
  assert.match(run.stderr, /4 problem\(s\) in 4 of 15 line\(s\)/);
});

test('the default preset is mimic-iv: SI values are converted before scoring', async () => {
  const out = (await runCli(['sofa', FIXTURE, '--json'])).json<SofaJson>();
  assert.equal(out.preset.id, 'mimic-iv');
  const day1 = out.patients[0]?.days[0];
  // 34 umol/L = 1.988 mg/dL: 1 on the conventional column (vincent1996's SI column says 2).
  assert.equal(day1?.components.liver, 1);
  assert.equal(day1?.evidence.liver?.comparison, 'bilirubin 1.98830409357 mg/dL >= 1.2 mg/dL: 1');
  assert.equal(day1?.total, 6);
});

test('--start anchors day 1 for every patient', async () => {
  const out = (await runCli(['sofa', FIXTURE, '--start', '2026-01-04T20:00:00Z', '--json'])).json<SofaJson>();
  for (const patient of out.patients) {
    assert.equal(patient.start, '2026-01-04T20:00:00Z');
    assert.equal(patient.days[0]?.end, '2026-01-05T20:00:00Z');
  }
  // P1 day 1 [Jan 4 20:00, Jan 5 20:00) holds the first day's values; day 2 the creatinine etc.
  const p1 = out.patients.find((p) => p.patientId === 'P1');
  assert.equal(p1?.days.length, 2);
  assert.equal(p1?.days[1]?.components.renal, 3);
});

test('BOM, CRLF, quoted fields, blank lines and interval_hours: the good lines are scored, the bad one named', async () => {
  const mimic = await runCli(['sofa', CRLF_FIXTURE, '--json']);
  assert.equal(mimic.exitCode, 1);
  const out = mimic.json<SofaJson>();
  // Line 7 is "1,5" (a quoted decimal comma): refused, counted with the blank line before it.
  assert.deepEqual(out.issues.map((i) => [i.location[0], i.code]), [['line 7', 'value']]);
  assert.match(out.issues[0]?.diagnostics ?? '', /column value: "1,5" is not a number/);
  assert.deepEqual([out.records, out.rejected], [8, 1]);
  const day = out.patients[0]?.days[0];
  assert.equal(out.patients[0]?.patientId, 'P3');
  // Urine 4 x 100 mL over 6 h intervals (interval_hours) ending 14:00 ... 08:00: 400 mL/day -> 3;
  // creatinine 132.6 umol/L = 1.5 mg/dL -> 1; norepinephrine for 30 min not at an hour end -> MAP 72 -> 0.
  assert.deepEqual(day?.components, { respiration: null, coagulation: null, liver: null, cardiovascular: 0, cns: null, renal: 3 });
  assert.equal(day?.evidence.renal?.value, 400);
  const vincent = (await runCli(['sofa', CRLF_FIXTURE, '--preset', 'vincent1996', '--json'])).json<SofaJson>();
  assert.equal(vincent.patients[0]?.days[0]?.components.renal, 3, 'the day is charted throughout: 400 mL');
  assert.equal(vincent.patients[0]?.days[0]?.components.cardiovascular, 0, 'norepinephrine for 30 min: not >= 1 h');
});

test('human output is a table per patient with the missing components and every bad line', async () => {
  const run = await runCli(['sofa', FIXTURE]);
  assert.equal(run.exitCode, 1);
  assert.match(run.stdout, /patient P1: day 1 starts 2026-01-05T08:00:00Z, preset mimic-iv/);
  const rows = run.stdout.split('\n').map((line) => line.trim().split(/\s+/).join(' '));
  assert.ok(rows.includes('day resp coag liver cardio cns renal total missing'));
  assert.ok(rows.includes('1 0 2 1 1 2 - 6 renal'), 'P1 day 1');
  assert.ok(rows.includes('2 - 4 - 4 - 3 11 respiration, liver, cns'), 'P1 day 2');
  assert.match(run.stdout, /error: line 13: column value: .*not a number/);
  assert.match(run.stdout, /error: line 16: /);
});

test('usage errors exit 2; an unreadable file exits 1', async () => {
  const unknown = await runCli(['sofa', FIXTURE, '--preset', 'apache', '--json']);
  assert.equal(unknown.exitCode, 2);
  assert.match(unknown.json<{ error: { message: string } }>().error.message, /unknown preset "apache" \(presets: mimic-iv, ricu, vincent1996\)/);
  assert.equal((await runCli(['sofa', FIXTURE, '--start', 'monday'])).exitCode, 2);
  assert.equal((await runCli(['sofa', FIXTURE, '--start', '2026-01-05T08:00:00'])).exitCode, 2, 'a time without a zone');
  assert.equal((await runCli(['sofa'])).exitCode, 2, 'FILE is required');
  const missing = await runCli(['sofa', 'no/such/file.csv', '--json']);
  assert.equal(missing.exitCode, 1);
  assert.match(missing.json<{ error: { message: string } }>().error.message, /cannot read no\/such\/file.csv: no such file/);
});
