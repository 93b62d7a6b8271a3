import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { assessPatient } from '../../src/clinical/assessment.ts';
import { defaultConceptDictionary, loadConceptDictionary } from '../../src/sources/concepts/dictionary.ts';
import { createParserState, parseChunk } from '../../src/sources/import-format.ts';
import { type PatientScreen, type ScreenOptions, type ScreenSummary, runScreen } from '../../src/sources/ingest/screen.ts';
import { readLineChunks } from '../../src/sources/ingest/lines.ts';
import { byteChunks, chunkLines } from '../../src/sources/ingest/screen-chunks.ts';
import { SIZE_LIMIT_FLOOR } from '../../src/sources/ingest/screen-state.ts';
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
      [['screen', csv, '--workers', '0'], /--workers must be a whole number >= 1/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args);
      assert.equal(run.exitCode, 2, args.join(' '));
      assert.match(run.stderr, message);
    }
  });
});

/** The JSON of a screen with the run's timings blanked: what must not depend on the threads. */
function timeless(text: string): string {
  return text.replace(/"(elapsedMs|recordsPerSecond)": ?\d+/g, '"$1":0');
}

/** runScreen's patients and summary as one JSON text (timings fixed by the clock). */
async function screenJson(paths: string[], options: Omit<ScreenOptions, 'dictionary' | 'onPatient' | 'now'> & { dictionary?: ScreenOptions['dictionary'] }): Promise<string> {
  const patients: PatientScreen[] = [];
  const summary = await runScreen(paths, { dictionary: defaultConceptDictionary(), ...options, onPatient: (p) => patients.push(p), now: () => 0 });
  return JSON.stringify({ patients, summary });
}

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const UCUM = 'http://unitsofmeasure.org';
const quantityOf = (value: number) => ({ value, unit: 'ng/mL', system: UCUM, code: 'ng/mL' });

/**
 * FHIR NDJSON whose records depend on earlier ones, in a seeded random order: norepinephrine in
 * ug/min converted with the patient's latest weight charted before (or refused when none was),
 * administrations naming a Medication resource defined (and redefined) anywhere in the file,
 * lab values, broken and blank lines.
 */
function dependentFhirLines(count: number, seed: number): string[] {
  let state = seed >>> 0;
  const random = (): number => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const lines: string[] = [];
  const start = Date.UTC(2026, 0, 5);
  for (let i = 0; i < count; i++) {
    const subject = { reference: `Patient/P-${Math.floor(random() * 12)}` };
    const time = new Date(start + Math.floor(random() * 96) * 3_600_000).toISOString();
    const kind = random();
    const quantity = (value: number, unit: string) => ({ value, unit, system: UCUM, code: unit });
    const observation = (id: string, loinc: string, value: object) => ({ resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: loinc }] }, subject, effectiveDateTime: time, valueQuantity: value });
    if (kind < 0.15) lines.push(JSON.stringify(observation(`w-${i}`, '29463-7', quantity(50 + Math.floor(random() * 60), 'kg'))));
    else if (kind < 0.4) {
      const drug = random() < 0.5 ? { medicationReference: { reference: `Medication/m-${Math.floor(random() * 4)}` } } : { medicationCodeableConcept: { coding: [{ system: RXNORM, code: '7512' }] } };
      const end = new Date(Date.parse(time) + 3_600_000).toISOString();
      lines.push(JSON.stringify({ resourceType: 'MedicationAdministration', id: `ma-${i}`, status: 'completed', ...drug, subject, effectivePeriod: { start: time, end }, dosage: { rateQuantity: quantity(5 + Math.floor(random() * 20), 'ug/min') } }));
    } else if (kind < 0.45) {
      lines.push(JSON.stringify({ resourceType: 'Medication', id: `m-${Math.floor(random() * 4)}`, code: { coding: [{ system: RXNORM, code: random() < 0.7 ? '7512' : '3616' }] } }));
    } else if (kind < 0.75) lines.push(JSON.stringify(observation(`f-${i}`, '2276-4', quantity(100 + Math.floor(random() * 9000), 'ng/mL'))));
    else if (kind < 0.97) lines.push(JSON.stringify(observation(`c-${i}`, '2160-0', quantity(Math.round(random() * 40) / 10, 'mg/dL'))));
    else if (kind < 0.985) lines.push('{"resourceType": "Observation", broken');
    else lines.push('');
  }
  return lines;
}

describe('immunoguide screen on worker threads', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-screen-workers-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes the same JSON with --workers 2 as with --workers 1, in all three formats', async () => {
    for (const format of ['fhir', 'mimic-iv', 'csv']) {
      const dir = path.join(tmp, `synth-${format}`);
      const synth = await runCli(['synth', '--patients', '30', '--format', format, '--out', dir, '--seed', '5', '--days', '6', '--json']);
      assert.equal(synth.exitCode, 0, synth.stderr);
      const { data, conceptsFile } = synth.json<{ data: string; conceptsFile: string | null }>();
      const env = conceptsFile === null ? {} : { IMMUNOGUIDE_CONCEPTS_FILE: conceptsFile };
      const one = await runCli(['screen', data, '--json', '--workers', '1'], env);
      const two = await runCli(['screen', data, '--json', '--workers', '2'], env);
      assert.equal(one.exitCode, 0, one.stderr);
      assert.equal(two.exitCode, 0, two.stderr);
      assert.equal(timeless(two.stdout), timeless(one.stdout), format);
      const { patients, summary } = one.json<ScreenDocument>();
      assert.equal(patients.length, 30, format);
      assert.ok(summary.measurements > 1000, format);
      // Many small chunks: the MIMIC-IV tables' state carried from chunk to chunk on one thread.
      const dictionary = loadConceptDictionary(env);
      assert.equal(await screenJson([data], { dictionary, workers: 2, chunkRecords: 97 }), await screenJson([data], { dictionary, workers: 1, chunkRecords: 97 }), format);
      if (format === 'fhir') {
        // The installed command starts its threads too (its loader is registered differently).
        const bin = spawnSync(process.execPath, [path.resolve(import.meta.dirname, '../../bin/immunoguide.mjs'), 'screen', data, '--json', '--workers', '2'], { cwd: tmp, encoding: 'utf8' });
        assert.equal(bin.status, 0, bin.stderr);
        assert.equal(timeless(bin.stdout), timeless(one.stdout));
      }
    }
  });

  it('gives the in-order result when records depend on records parsed at the same time on other threads', async () => {
    const dir = path.join(tmp, 'dependent');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'a.ndjson'), `${dependentFhirLines(2500, 11).join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'b.ndjson'), `${dependentFhirLines(1000, 12).join('\n')}\n`);
    // Small chunks: many in flight at once, so weights and Medications often come from a chunk
    // another thread is still parsing.
    for (const chunkRecords of [7, 150]) {
      const one = await screenJson([dir], { workers: 1, chunkRecords });
      assert.equal(await screenJson([dir], { workers: 2, chunkRecords }), one, `chunks of ${chunkRecords}`);
      assert.equal(await screenJson([dir], { workers: 3, chunkRecords }), one, `chunks of ${chunkRecords}, 3 workers`);
    }
    // Not vacuous: some rates were converted with a charted weight, some refused for want of one,
    // and some administrations were read through a Medication resource.
    const { summary, patients } = JSON.parse(await screenJson([dir], { workers: 1 })) as ScreenDocument;
    assert.ok(summary.issues.some((issue) => /total rate/.test(issue.diagnostics)));
    assert.ok(summary.issues.some((issue) => /invalid JSON/.test(issue.diagnostics)));
    assert.ok(patients.some((p) => p.sofa.days.some((d) => d.components.cardiovascular !== null && d.components.cardiovascular >= 3)), 'vasopressor doses read');
  });

  it('keeps the limit of what the FHIR reader remembers, in parallel as in order', async () => {
    // The parallel check trusts size comparisons below SIZE_LIMIT_FLOOR (screen-state.ts): the
    // FHIR reader must still remember Medications and weights when that many are remembered.
    const dictionary = defaultConceptDictionary();
    const remembers = (line: string, drug: object, rateUnit: string, concept: string): boolean => {
      const state = createParserState();
      for (let i = 0; i < SIZE_LIMIT_FLOOR - 1; i++) state.memory.set(`filler/${i}`, i);
      const admin = JSON.stringify({
        resourceType: 'MedicationAdministration',
        id: 'a',
        status: 'completed',
        ...drug,
        subject: { reference: 'Patient/P' },
        effectiveDateTime: '2026-01-05T12:00:00Z',
        dosage: { rateQuantity: { value: 7, unit: rateUnit, system: UCUM, code: rateUnit } },
      });
      const result = parseChunk('fhir', [line, admin], { firstLineNumber: 1, fileName: 'x.ndjson', dictionary, state });
      return result.measurements.some((m) => m.concept === concept);
    };
    const medication = JSON.stringify({ resourceType: 'Medication', id: 'm', code: { coding: [{ system: RXNORM, code: '3616' }] } });
    assert.equal(remembers(medication, { medicationReference: { reference: 'Medication/m' } }, 'ug/kg/min', 'dobutamine'), true);
    const weight = JSON.stringify({
      resourceType: 'Observation',
      id: 'w',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
      subject: { reference: 'Patient/P' },
      effectiveDateTime: '2026-01-05T08:00:00Z',
      valueQuantity: { value: 70, unit: 'kg', system: UCUM, code: 'kg' },
    });
    assert.equal(remembers(weight, { medicationCodeableConcept: { coding: [{ system: RXNORM, code: '7512' }] } }, 'ug/min', 'norepinephrine'), true);

    // Past the limit, parallel and in-order reading agree on what is forgotten.
    const file = path.join(tmp, 'many-medications.ndjson');
    const lines: string[] = [];
    for (let i = 0; i < SIZE_LIMIT_FLOOR + 2000; i++) {
      lines.push(JSON.stringify({ resourceType: 'Medication', id: `m-${i}`, code: { coding: [{ system: RXNORM, code: '3616' }] } }));
      if (i % 9000 === 0 || i > SIZE_LIMIT_FLOOR - 5) {
        lines.push(
          JSON.stringify({
            resourceType: 'MedicationAdministration',
            id: `a-${i}`,
            status: 'completed',
            medicationReference: { reference: `Medication/m-${i}` },
            subject: { reference: `Patient/P-${i % 7}` },
            effectiveDateTime: '2026-01-05T12:00:00Z',
            dosage: { rateQuantity: { value: 5, unit: 'ug/kg/min', system: UCUM, code: 'ug/kg/min' } },
          }),
        );
      }
    }
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const one = await screenJson([file], { workers: 1, at: '2026-01-06T00:00:00Z' });
    assert.equal(await screenJson([file], { workers: 2, at: '2026-01-06T00:00:00Z' }), one);
    const { summary } = JSON.parse(one) as ScreenDocument;
    assert.ok(summary.measurements > 12 && summary.measurements < 2000, String(summary.measurements));
  });

  it('lists bad lines with their own line numbers on worker threads', async () => {
    // Three chunks of 5,000 lines: the bad lines of the later ones keep their file line numbers.
    const csv = path.join(tmp, 'long.csv');
    const lines = ['patient_id,time,concept,value,unit'];
    const bad: number[] = [];
    for (let i = 0; i < 12_000; i++) {
      const time = `2026-02-01T${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z`;
      if (i % 997 === 5) {
        lines.push(`P-${i % 4},${time},creatinine,lots,mg/dL`);
        bad.push(lines.length);
      } else lines.push(`P-${i % 4},${time},ferritin,${100 + (i % 900)},ng/mL`);
    }
    fs.writeFileSync(csv, `${lines.join('\n')}\n`);
    const ndjson = path.join(tmp, 'long.ndjson');
    const fhir = dependentFhirLines(11_000, 3);
    fs.writeFileSync(ndjson, `${fhir.join('\n')}\n`);
    const broken = fhir.flatMap((line, index) => (line.includes('broken') ? [index + 1] : []));

    const run = await runCli(['screen', csv, ndjson, '--json', '--workers', '2', '--at', '2026-02-02T00:00:00Z']);
    assert.equal(run.exitCode, 1);
    const { summary } = run.json<ScreenDocument>();
    const at = (file: string, code: string) => summary.issues.filter((i) => i.file === file && i.code === code).map((i) => i.location[0]);
    assert.deepEqual(at(csv, 'value'), bad.map((line) => `line ${line}`));
    assert.deepEqual(at(ndjson, 'structure'), broken.map((line) => `line ${line}`));
    assert.ok(bad.at(-1)! > 10_000 && broken.at(-1)! > 10_000);
    assert.equal(summary.files.find((f) => f.path === csv)?.records, 12_000);
    const inOrder = await runCli(['screen', csv, ndjson, '--json', '--workers', '1', '--at', '2026-02-02T00:00:00Z']);
    assert.equal(timeless(run.stdout), timeless(inOrder.stdout));
  });

  it('cuts plain files into the chunks of the line reader, bytes sent to the threads', async () => {
    const dir = path.join(tmp, 'bytes');
    fs.mkdirSync(dir);
    const observation = (i: number, display: string) =>
      JSON.stringify({
        resourceType: 'Observation',
        id: `o-${i}`,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '2276-4', display }] },
        subject: { reference: `Patient/P-${i % 5}` },
        effectiveDateTime: `2026-01-0${1 + (i % 9)}T0${i % 10}:00:00Z`,
        valueQuantity: quantityOf(100 + i),
      });
    // A byte order mark, CRLF, blank lines, characters of 2 to 4 bytes, invalid UTF-8 (within a
    // line and cut short before a line end), no newline at the end.
    const parts: Buffer[] = [];
    for (let i = 0; i < 120; i++) {
      if (i % 11 === 3) parts.push(Buffer.alloc(0));
      else if (i % 13 === 5) parts.push(Buffer.concat([Buffer.from('{"resourceType":"Observation","id":"x'), Buffer.from([0xff, 0xfe]), Buffer.from('"')]));
      else if (i % 17 === 8) parts.push(Buffer.concat([Buffer.from(observation(i, 'ferritin').slice(0, -2)), Buffer.from([0xe2, 0x98])]));
      else parts.push(Buffer.from(observation(i, 'ferritin é ☃ 😀')));
    }
    const withEnds = (lines: Buffer[], end: string) => Buffer.concat(lines.flatMap((line, i) => (i === 0 ? [line] : [Buffer.from(end), line])));
    fs.writeFileSync(path.join(dir, 'a.ndjson'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), withEnds(parts, '\r\n')]));
    const rows = ['patient_id,time,concept,value,unit'];
    for (let i = 0; i < 90; i++) rows.push(`P-${i % 4},2026-01-0${1 + (i % 9)}T0${i % 10}:00:00Z,ferritin,${i % 17 === 0 ? 'x' : 100 + i},ng/mL`);
    fs.writeFileSync(path.join(dir, 'b.csv'), `\ufeff${rows.join('\r\n')}`);
    // A line of 9 MB: chunks from it on are read as lines (the line reader splits at 8 Mi characters).
    const long = [...Array.from({ length: 60 }, (_, i) => observation(i, 'ferritin'))];
    long.splice(25, 0, observation(999, 'x'.repeat(9_000_000)));
    fs.writeFileSync(path.join(dir, 'c.ndjson'), `${long.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'd.ndjson'), '\n\n\n');
    fs.writeFileSync(path.join(dir, 'e.csv'), `\n${rows.slice(0, 5).join('\n')}\n`);

    for (const file of ['a.ndjson', 'b.csv', 'c.ndjson', 'd.ndjson']) {
      for (const records of [1, 4, 5000]) {
        const reader: string[][] = [];
        for await (const chunk of readLineChunks(path.join(dir, file), { chunkRecords: records })) reader.push(chunk.lines);
        const chunks = byteChunks(path.join(dir, file), records, (size) => new ArrayBuffer(size));
        const bytes: string[][] = [];
        let next = await chunks.next();
        while (next.done !== true) {
          bytes.push(chunkLines(next.value.bytes, next.value.length, next.value.first));
          next = await chunks.next();
        }
        // The same chunks, up to where byteChunks hands over (only before the long line).
        assert.deepEqual(bytes, reader.slice(0, bytes.length), `${file}, chunks of ${records}`);
        assert.equal(next.value === undefined, file !== 'c.ndjson', `${file}, chunks of ${records}`);
        if (file === 'c.ndjson') assert.equal(next.value, records === 5000 ? 0 : Math.floor(25 / records));
      }
    }
    for (const chunkRecords of [1, 3, 5000]) {
      assert.equal(await screenJson([dir], { workers: 2, chunkRecords }), await screenJson([dir], { workers: 1, chunkRecords }), `chunks of ${chunkRecords}`);
    }
  });
});
