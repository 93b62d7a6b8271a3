import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assessPatient } from '../../src/clinical/assessment.ts';
import type { PatientScreen, ScreenSummary } from '../../src/sources/ingest/screen.ts';
import { SYNTH_PREVALENCE } from '../../src/cli/commands/synth.ts';
import { syntheticCohort } from '../../src/sources/synthetic/cohort.ts';
import { syntheticPatientId } from '../../src/sources/synthetic/export-mimic.ts';
import { runCli } from '../support/cli.ts';

interface ScreenDocument {
  patients: PatientScreen[];
  summary: ScreenSummary;
}

interface GroundTruth {
  patients: Array<{ patientId: string; immuneClass: string }>;
}

describe('immunoguide screen', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-screen-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('finds the class of the ground truth for every patient of a one-day synthetic cohort', async () => {
    // One day of data: each patient is assessed at its latest measurement of day 0, when its
    // admission biomarker sample (the one the ground truth's class describes) is still valid.
    const dir = path.join(tmp, 'day0');
    const synth = await runCli(['synth', '--patients', '60', '--format', 'fhir', '--out', dir, '--seed', '99', '--days', '1']);
    assert.equal(synth.exitCode, 0, synth.stderr);
    const run = await runCli(['screen', path.join(dir, 'fhir'), '--json']);
    assert.equal(run.exitCode, 0, run.stderr);
    const { patients, summary } = run.json<ScreenDocument>();
    const truth = JSON.parse(fs.readFileSync(path.join(dir, 'ground-truth.json'), 'utf8')) as GroundTruth;
    assert.equal(patients.length, 60);
    assert.deepEqual(
      patients.map((p) => [p.patientId, p.immuneClass?.class]),
      truth.patients.map((p) => [p.patientId, p.immuneClass]),
    );
    const counts = { MALS: 0, immunoparalysis: 0, unclassified: 0, indeterminate: 0 };
    for (const p of truth.patients) counts[p.immuneClass as keyof typeof counts]++;
    assert.deepEqual(summary.classes, counts);
    assert.ok(counts.MALS > 0 && counts.immunoparalysis > 0 && counts.unclassified > 0, JSON.stringify(counts));
    assert.equal(summary.patients, 60);
    assert.equal(summary.rejected, 0);
    assert.equal(summary.at, null);
    // The targeted therapy follows the class.
    for (const p of patients) {
      if (p.immuneClass?.class === 'MALS') assert.equal(p.therapy?.regimen.drug, 'anakinra');
      if (p.immuneClass?.class === 'unclassified') assert.equal(p.therapy, null);
    }
  });

  it('equals assessPatient on the generated data, in all three formats', async () => {
    const patients = 24;
    const days = 8;
    const seed = 123;
    const byFormat = new Map<string, PatientScreen[]>();
    for (const format of ['fhir', 'mimic-iv', 'csv']) {
      const dir = path.join(tmp, `all-${format}`);
      const synth = await runCli(['synth', '--patients', String(patients), '--format', format, '--out', dir, '--seed', String(seed), '--days', String(days), '--json']);
      assert.equal(synth.exitCode, 0, synth.stderr);
      const { data, conceptsFile } = synth.json<{ data: string; conceptsFile: string | null }>();
      const run = await runCli(['screen', data, '--json'], conceptsFile === null ? {} : { IMMUNOGUIDE_CONCEPTS_FILE: conceptsFile });
      assert.equal(run.exitCode, 0, run.stderr);
      const results = run.json<ScreenDocument>().patients.map((p) => ({ ...p, patientId: format === 'mimic-iv' ? syntheticPatientId(p.patientId) : p.patientId }));
      byFormat.set(format, results.sort((a, b) => a.patientId.localeCompare(b.patientId)));
    }
    const essentials = (p: PatientScreen) => ({
      patientId: p.patientId,
      at: p.at,
      class: p.immuneClass?.class,
      explanation: p.immuneClass?.explanation,
      sofa: p.sofa.days.map((d) => [d.day, d.total, d.components]),
      sepsis3: p.sepsis3?.met ?? null,
      onset: p.sepsis3?.onsetTime ?? null,
      therapy: p.therapy?.regimen.drug ?? null,
    });
    const expected = [...syntheticCohort({ patients, seed, days, prevalence: SYNTH_PREVALENCE })].map(({ patient, measurements }) => {
      const at = measurements.reduce((max, m) => (m.time > max ? m.time : max), '');
      const assessment = assessPatient({ patient: { id: patient.id, birthDate: patient.birthDate, sex: patient.sex, deceasedAt: patient.deceasedAt }, measurements, at });
      return {
        patientId: patient.id,
        at: assessment.at,
        class: assessment.classification.class,
        explanation: assessment.classification.summary,
        sofa: assessment.sofa.days.map((d) => [d.day, d.total, d.components]),
        sepsis3: assessment.sepsis3?.met ?? null,
        onset: assessment.sepsis3?.onsetTime ?? null,
        therapy: assessment.therapy?.regimen.drug ?? null,
      };
    });
    for (const [format, results] of byFormat) assert.deepEqual(results.map(essentials), expected, format);
    // Not vacuous: a SOFA history, Sepsis-3 met for someone, and more than one class.
    assert.ok(expected.some((p) => p.sofa.length >= 5));
    assert.ok(expected.some((p) => p.sepsis3 === true));
    assert.ok(new Set(expected.map((p) => p.class)).size >= 2);
    // FHIR names sites and birth dates; the CSV carries neither.
    assert.equal(byFormat.get('fhir')![0]!.siteId, 'athens');
    assert.equal(byFormat.get('csv')![0]!.siteId, null);
  });

  it('counts and lists malformed lines without stopping, writes --out as JSON lines, exits 1', async () => {
    const csv = path.join(tmp, 'mixed.csv');
    const lines = ['patient_id,time,concept,value,unit'];
    const bad: number[] = [];
    for (let i = 0; i < 300; i++) {
      const patient = `P-${i % 3}`;
      const time = `2026-02-01T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z`;
      if (i % 10 === 7) {
        lines.push(i % 20 === 7 ? `${patient},yesterday,creatinine,1.1,mg/dL` : `${patient},${time},creatinine,lots,mg/dL`);
        bad.push(lines.length);
      } else lines.push(`${patient},${time},${i % 2 === 0 ? 'ferritin' : 'hla_dr'},${i % 2 === 0 ? 6000 : 3000},${i % 2 === 0 ? 'ng/mL' : 'molecules/cell'}`);
    }
    fs.writeFileSync(csv, `${lines.join('\n')}\n`);
    const out = path.join(tmp, 'mixed.ndjson');
    const run = await runCli(['screen', csv, '--out', out, '--json', '--at', '2026-02-02T00:00:00+01:00']);
    assert.equal(run.exitCode, 1);
    const summary = run.json<ScreenSummary & { out: string }>();
    assert.equal(summary.ok, false);
    assert.equal(summary.records, 300);
    assert.equal(summary.rejected, bad.length);
    assert.equal(summary.measurements, 300 - bad.length);
    assert.equal(summary.issueCount, bad.length);
    assert.deepEqual(
      summary.issues.map((i) => i.location[0]),
      bad.map((line) => `line ${line}`),
    );
    assert.equal(summary.at, '2026-02-01T23:00:00.000Z');
    assert.equal(summary.patients, 3);
    assert.deepEqual(summary.classes, { MALS: 3, immunoparalysis: 0, unclassified: 0, indeterminate: 0 });
    assert.equal(summary.out, out);
    assert.equal(bad.length, 30);
    assert.match(run.stderr, /30 record\(s\) rejected/);
    const written = fs.readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as PatientScreen);
    assert.deepEqual(written.map((p) => [p.patientId, p.at, p.immuneClass?.class]), [
      ['P-0', '2026-02-01T23:00:00.000Z', 'MALS'],
      ['P-1', '2026-02-01T23:00:00.000Z', 'MALS'],
      ['P-2', '2026-02-01T23:00:00.000Z', 'MALS'],
    ]);

    // The human form lists the bad lines too, with the class counts.
    const human = await runCli(['screen', csv]);
    assert.equal(human.exitCode, 1);
    assert.match(human.stdout, /classes: MALS 3, immunoparalysis 0, unclassified 0, indeterminate 0/);
    assert.match(human.stdout, new RegExp(`mixed\\.csv:line ${bad[0]}: error: `));
  });

  it('prints one table row per patient and the class counts', async () => {
    const csv = path.join(tmp, 'two.csv');
    fs.writeFileSync(
      csv,
      [
        'patient_id,time,concept,value,unit',
        'A-1,2026-03-01T08:00:00Z,ferritin,300,ng/mL',
        'A-1,2026-03-01T08:00:00Z,hla_dr,3000,molecules/cell',
        'B-2,2026-03-01T09:00:00Z,ferritin,300,ng/mL',
        'B-2,2026-03-01T09:00:00Z,hla_dr,12000,molecules/cell',
        'C-3,2026-03-01T10:00:00Z,creatinine,1.0,mg/dL',
      ].join('\n'),
    );
    const run = await runCli(['screen', csv]);
    assert.equal(run.exitCode, 0, run.stderr);
    const rows = run.stdout.split('\n');
    assert.match(rows[0]!, /^patient\s+site\s+at\s+class/);
    assert.match(rows[1]!, /^A-1\s+-\s+2026-03-01T08:00:00\.000Z\s+immunoparalysis\s/);
    assert.match(rows[2]!, /^B-2\s+-\s+2026-03-01T09:00:00\.000Z\s+unclassified\s/);
    assert.match(rows[3]!, /^C-3\s+-\s+2026-03-01T10:00:00\.000Z\s+indeterminate\s/);
    assert.match(run.stdout, /classes: MALS 0, immunoparalysis 1, unclassified 1, indeterminate 1/);
  });

  it('refuses bad arguments with exit 2', async () => {
    const csv = path.join(tmp, 'two.csv');
    const cases: Array<[string[], RegExp]> = [
      [['screen', csv, '--format', 'hl7v2'], /unknown --format "hl7v2"/],
      [['screen', csv, '--at', '2026-03-01'], /--at: .*no time of day/],
      [['screen', csv, '--at', '2026-03-01T10:00:00'], /--at: .*no time zone/],
      [['screen', csv, '--rule-set', 'astrology'], /unknown rule set "astrology"/],
      [['screen', path.join(tmp, 'missing.ndjson')], /no such file or directory/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args);
      assert.equal(run.exitCode, 2, args.join(' '));
      assert.match(run.stderr, message);
    }
  });
});
