import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SYNTH_PREVALENCE } from '../../src/cli/commands/synth.ts';
import { main } from '../../src/cli/main.ts';
import { loadConceptDictionary } from '../../src/sources/concepts/dictionary.ts';
import { canonicalTuple } from '../../src/sources/import-format.ts';
import { runImport } from '../../src/sources/ingest/run.ts';
import { syntheticCohort } from '../../src/sources/synthetic/cohort.ts';
import { syntheticPatientId } from '../../src/sources/synthetic/export-mimic.ts';
import { runCli } from '../support/cli.ts';

interface SynthSummary {
  dir: string;
  format: string;
  data: string;
  groundTruth: string;
  conceptsFile: string | null;
  seed: number;
  days: number;
  patients: number;
  measurements: number;
  deaths: number;
  intendedClasses: Record<string, number>;
  files: Array<{ path: string; lines: number; bytes: number }>;
}

interface GroundTruth {
  format: string;
  seed: number;
  patients: Array<{ patientId: string; sourcePatientId: string; immuneClass: string; died: boolean; deceasedAt: string | null; measurements: number; siteId: string }>;
}

const PATIENTS = 25;
const DAYS = 3;
const SEED = 4711;

/** Every file under DIR as relative path -> content. */
function tree(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (sub: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else files.set(rel, fs.readFileSync(path.join(dir, rel)));
    }
  };
  walk('');
  return files;
}

describe('immunoguide synth', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-synth-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const synth = (format: string, out: string, ...extra: string[]) =>
    runCli(['synth', '--patients', String(PATIENTS), '--format', format, '--out', out, '--seed', String(SEED), '--days', String(DAYS), '--json', ...extra]);

  it('writes the same files for the same seed, and other files for another seed', async () => {
    const a = await synth('fhir', path.join(tmp, 'a'), '--gzip');
    const b = await synth('fhir', path.join(tmp, 'b'), '--gzip');
    assert.equal(a.exitCode, 0, a.stderr);
    assert.equal(b.exitCode, 0, b.stderr);
    const first = tree(path.join(tmp, 'a'));
    const second = tree(path.join(tmp, 'b'));
    assert.deepEqual([...first.keys()].sort(), [...second.keys()].sort());
    for (const [file, content] of first) assert.ok(content.equals(second.get(file)!), `${file} differs between two runs`);
    assert.ok(first.has(path.join('fhir', 'Patient.ndjson.gz')));
    assert.ok(first.has('ground-truth.json'));

    const other = await runCli(['synth', '--patients', String(PATIENTS), '--format', 'fhir', '--out', path.join(tmp, 'c'), '--seed', String(SEED + 1), '--days', String(DAYS), '--gzip']);
    assert.equal(other.exitCode, 0, other.stderr);
    assert.notDeepEqual(tree(path.join(tmp, 'c')).get('ground-truth.json'), first.get('ground-truth.json'));
  });

  it('reports the files written, patients, measurements and seed in --json', async () => {
    const run = await synth('csv', path.join(tmp, 'summary'));
    assert.equal(run.exitCode, 0, run.stderr);
    const summary = run.json<SynthSummary>();
    const cohort = [...syntheticCohort({ patients: PATIENTS, seed: SEED, days: DAYS, prevalence: SYNTH_PREVALENCE })];
    assert.equal(summary.seed, SEED);
    assert.equal(summary.patients, PATIENTS);
    assert.equal(summary.measurements, cohort.reduce((sum, r) => sum + r.measurements.length, 0));
    assert.equal(summary.deaths, cohort.filter((r) => r.patient.deceasedAt !== null).length);
    assert.deepEqual(
      summary.files.map((f) => f.path),
      [path.join('csv', 'measurements.csv'), 'ground-truth.json'],
    );
    const csv = summary.files[0]!;
    assert.equal(csv.lines, summary.measurements + 1, 'header + one line per measurement');
    assert.equal(csv.bytes, fs.statSync(path.join(summary.dir, csv.path)).size);
    assert.equal(summary.conceptsFile, null);

    const truth = JSON.parse(fs.readFileSync(summary.groundTruth, 'utf8')) as GroundTruth;
    assert.equal(truth.seed, SEED);
    assert.deepEqual(
      truth.patients.map((p) => [p.patientId, p.immuneClass, p.died, p.measurements, p.siteId]),
      cohort.map((r) => [r.patient.id, r.patient.intendedStratum, r.patient.deceasedAt !== null, r.measurements.length, r.patient.siteId]),
    );
    const counts: Record<string, number> = { MALS: 0, immunoparalysis: 0, unclassified: 0 };
    for (const p of truth.patients) counts[p.immuneClass]!++;
    assert.deepEqual(summary.intendedClasses, counts);
  });

  it('gives the same canonical measurements as FHIR NDJSON, MIMIC-IV and CSV (read by the import parsers)', async () => {
    const read = new Map<string, string[]>();
    const truths = new Map<string, GroundTruth>();
    const cohort = [...syntheticCohort({ patients: PATIENTS, seed: SEED, days: DAYS, prevalence: SYNTH_PREVALENCE })];
    // MIMIC-IV says more than the generator wrote (each GCS response beside the total, the O2
    // device behind the ventilation flag): compared are the concepts the generator produced.
    const concepts = new Set(cohort.flatMap((r) => r.measurements.map((m) => m.concept)));
    for (const format of ['fhir', 'mimic-iv', 'csv']) {
      const run = await synth(format, path.join(tmp, `x-${format}`));
      assert.equal(run.exitCode, 0, run.stderr);
      const summary = run.json<SynthSummary>();
      // MIMIC-IV has no mHLA-DR item: synth maps its local one in the site concepts file it writes.
      const dictionary = loadConceptDictionary(summary.conceptsFile === null ? {} : { IMMUNOGUIDE_CONCEPTS_FILE: summary.conceptsFile });
      const tuples: string[] = [];
      const parsed = await runImport([summary.data], {
        dictionary,
        onMeasurements: (measurements) => {
          for (const m of measurements) {
            if (concepts.has(m.concept)) tuples.push(canonicalTuple({ ...m, patientId: format === 'mimic-iv' ? syntheticPatientId(m.patientId) : m.patientId }));
          }
        },
      });
      assert.equal(parsed.errors, 0, `${format}: ${JSON.stringify(parsed.issues.slice(0, 3))}`);
      assert.equal(parsed.rejected, 0, format);
      assert.equal(tuples.length, summary.measurements, format);
      read.set(format, tuples.sort());
      truths.set(format, JSON.parse(fs.readFileSync(summary.groundTruth, 'utf8')) as GroundTruth);
    }
    const generated = cohort.flatMap((r) => r.measurements.map(canonicalTuple)).sort();
    for (const [format, tuples] of read) assert.deepEqual(tuples, generated, `${format} = generator`);
    // One ground truth, whatever the format (only the id as written differs for MIMIC-IV).
    const strip = (t: GroundTruth) => t.patients.map(({ sourcePatientId: _, ...rest }) => rest);
    assert.deepEqual(strip(truths.get('mimic-iv')!), strip(truths.get('fhir')!));
    assert.deepEqual(strip(truths.get('csv')!), strip(truths.get('fhir')!));
    assert.equal(truths.get('mimic-iv')!.patients[0]!.sourcePatientId, '10000001');
  });

  it('refuses a non-empty directory unless --force, which replaces only what synth writes', async () => {
    const dir = path.join(tmp, 'busy');
    fs.mkdirSync(path.join(dir, 'csv'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    fs.writeFileSync(path.join(dir, 'csv', 'stale.csv'), 'patient_id,time,concept,value,unit\n');
    const refused = await synth('csv', dir);
    assert.equal(refused.exitCode, 1);
    assert.match(refused.stdout, /not empty/);
    assert.equal(fs.existsSync(path.join(dir, 'ground-truth.json')), false);

    const forced = await synth('csv', dir, '--force');
    assert.equal(forced.exitCode, 0, forced.stderr);
    assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'mine');
    assert.equal(fs.existsSync(path.join(dir, 'csv', 'stale.csv')), false, 'an earlier run of the format is replaced');
    assert.ok(fs.existsSync(path.join(dir, 'csv', 'measurements.csv')));
  });

  it('creates a missing directory and explains usage errors with exit 2', async () => {
    const nested = path.join(tmp, 'new', 'deeper');
    assert.equal((await runCli(['synth', '--patients', '2', '--format', 'csv', '--out', nested])).exitCode, 0);
    assert.ok(fs.existsSync(path.join(nested, 'csv', 'measurements.csv')));

    const cases: Array<[string[], RegExp]> = [
      [['--patients', '0', '--format', 'csv', '--out', path.join(tmp, 'u1')], /--patients must be between 1 and/],
      [['--patients', 'ten', '--format', 'csv', '--out', path.join(tmp, 'u2')], /--patients must be a whole number/],
      [['--format', 'csv', '--out', path.join(tmp, 'u3')], /--patients is required/],
      [['--patients', '3', '--format', 'hl7v2', '--out', path.join(tmp, 'u4')], /unknown --format "hl7v2"/],
      [['--patients', '3', '--out', path.join(tmp, 'u5')], /--format is required/],
      [['--patients', '3', '--format', 'fhir'], /--out DIR is required/],
      [['--patients', '3', '--format', 'fhir', '--out', path.join(tmp, 'u6'), '--seed', '-1'], /--seed must be a whole number/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(['synth', ...args]);
      assert.equal(run.exitCode, 2, args.join(' '));
      assert.match(run.stderr, message);
    }
    for (const u of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']) assert.equal(fs.existsSync(path.join(tmp, u)), false, `${u} not created`);
  });

  it('draws a progress bar on a terminal and prints a human summary', async () => {
    let stdout = '';
    let stderr = '';
    const exitCode = await main(['synth', '--patients', '5', '--format', 'mimic-iv', '--out', path.join(tmp, 'tty'), '--seed', '3'], {
      stdout: { write: (text: string) => (stdout += text), isTTY: true },
      stderr: { write: (text: string) => (stderr += text), isTTY: true },
      env: {},
      cwd: tmp,
    });
    assert.equal(exitCode, 0, stderr);
    assert.match(stderr, /synth \[#+\] 100\.0%/);
    assert.match(stdout, /wrote 5 synthetic patients/);
    assert.match(stdout, /mimic-iv[/\\]hosp[/\\]patients\.csv: 6 lines/);
    assert.match(stdout, /IMMUNOGUIDE_CONCEPTS_FILE=.*site-concepts\.json immunoguide screen /);
  });
});
