/**
 * `immunoguide synth --patients N --format fhir|mimic-iv|csv --out DIR [--seed S]`: a synthetic
 * ICU sepsis cohort (src/sources/synthetic/cohort.ts) written as
 *
 *   DIR/fhir/         FHIR Bulk Data NDJSON, one file per resource type, or
 *   DIR/mimic-iv/     MIMIC-IV in the published layout (hosp/, icu/), or
 *   DIR/csv/          the simple measurement CSV,
 *   DIR/ground-truth.json   what the generator knows of each patient,
 *   DIR/site-concepts.json  (MIMIC-IV only) the site concepts file mapping the local mHLA-DR item.
 *
 * The data sit in a sub-directory so `immunoguide import|screen DIR/<format>` reads them without
 * taking the ground truth for data. The same seed (and --days) gives the same cohort in all
 * three formats and byte-identical files on every run: nothing depends on the clock or on DIR.
 * DIR is created if missing; a non-empty DIR is refused unless --force (which replaces
 * DIR/<format> and the two files above, and leaves anything else alone).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ImportFormat } from '../../sources/import-format.ts';
import { type SyntheticRecord, syntheticCohort } from '../../sources/synthetic/cohort.ts';
import { exportSimpleCsv } from '../../sources/synthetic/export-csv.ts';
import { type ExportReport, exportFhirNdjson } from '../../sources/synthetic/export-fhir.ts';
import { exportMimicIv, mimicSubjectId } from '../../sources/synthetic/export-mimic.ts';
import { VERSION } from '../../version.ts';
import { CommandFailure, UsageError } from '../context.ts';
import { progressBar } from '../progress.ts';
import type { RegisterCommand } from './index.ts';

interface SynthOptions {
  patients?: string;
  format?: string;
  out?: string;
  seed: string;
  days: string;
  gzip?: boolean;
  force?: boolean;
  json?: boolean;
}

const FORMATS: readonly ImportFormat[] = ['fhir', 'mimic-iv', 'csv'];
/** Patient ids have six digits (SYN-000001); MIMIC-IV subject ids are 10,000,000 + that number. */
const MAX_PATIENTS = 999_999;
/** The cohort generator's own default seed, so `synth` without --seed matches the library. */
export const DEFAULT_SYNTH_SEED = 20260124;
/**
 * Class mix of `synth` (issue 4): about 20 % MALS, 40 % immunoparalysis, 40 % unclassified among
 * sepsis patients, as in ImmunoSep's screening. (The demo cohort keeps the generator's default.)
 */
export const SYNTH_PREVALENCE = Object.freeze({ MALS: 0.2, immunoparalysis: 0.4 });
/** The generator's default stay length in days. */
const DEFAULT_DAYS = 10;
/**
 * MIMIC-IV has no mHLA-DR item: the export uses a site-local labevents itemid, outside the
 * published ranges, mapped in DIR/site-concepts.json as a hospital would map its own.
 */
export const SYNTH_HLA_DR_ITEMID = 990_001;
export const GROUND_TRUTH_FILE = 'ground-truth.json';
export const SITE_CONCEPTS_FILE = 'site-concepts.json';

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('synth')
    .description('write a synthetic ICU sepsis cohort as FHIR NDJSON, MIMIC-IV tables or the measurement CSV, with its ground truth')
    .option('--patients <n>', `number of patients (1-${MAX_PATIENTS.toLocaleString('en-US')})`)
    .option('--format <format>', `output format: ${FORMATS.join(', ')}`)
    .option('--out <dir>', 'output directory (created if missing; must be empty unless --force)')
    .option('--seed <s>', 'random seed (0-4294967295): the same seed gives the same cohort in every format', String(DEFAULT_SYNTH_SEED))
    .option('--days <n>', 'days of ICU data per patient (fewer when the patient dies)', String(DEFAULT_DAYS))
    .option('--gzip', 'gzip the data files (.ndjson.gz, .csv.gz)')
    .option('--force', 'write into a non-empty directory (replaces DIR/<format> and the ground truth)')
    .option('--json', 'machine-readable summary on stdout')
    .action(async (options: SynthOptions) => {
      const patients = wholeNumber('--patients', options.patients, 1, MAX_PATIENTS);
      const format = options.format;
      if (format === undefined) throw new UsageError(`--format is required (${FORMATS.join(', ')})`);
      if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`unknown --format "${format}" (use ${FORMATS.join(', ')})`);
      if (options.out === undefined || options.out.trim() === '') throw new UsageError('--out DIR is required');
      const seed = wholeNumber('--seed', options.seed, 0, 0xffff_ffff);
      const days = wholeNumber('--days', options.days, 1, 365);
      const dir = path.resolve(ctx.cwd, options.out);
      prepareDirectory(dir, format as ImportFormat, options.force === true);

      const dataDir = path.join(dir, format);
      const truthPath = path.join(dir, GROUND_TRUTH_FILE);
      const truth = new GroundTruthWriter(truthPath, { format: format as ImportFormat, seed, days, patients, dataDir: format });
      const progress = progressBar(ctx, 'synth');
      let done = 0;
      let deaths = 0;
      const strata = { MALS: 0, immunoparalysis: 0, unclassified: 0 };
      // The exporters pull patients one by one; each is written to the ground truth on its way.
      const records = function* (): Generator<SyntheticRecord> {
        for (const record of syntheticCohort({ patients, seed, days, prevalence: SYNTH_PREVALENCE })) {
          truth.patient(record);
          done++;
          strata[record.patient.intendedStratum]++;
          if (record.patient.deceasedAt !== null) deaths++;
          progress.update(done, patients, done, 'patients');
          yield record;
        }
      };
      let report: ExportReport;
      try {
        const gzip = options.gzip === true;
        report =
          format === 'fhir'
            ? await exportFhirNdjson(records(), dataDir, { gzip })
            : format === 'mimic-iv'
              ? await exportMimicIv(records(), dataDir, { gzip, hlaDrItemid: SYNTH_HLA_DR_ITEMID })
              : await exportSimpleCsv(records(), dataDir, { gzip });
      } catch (error) {
        throw new CommandFailure(`cannot write the cohort into ${dir}: ${(error as Error).message}`);
      } finally {
        progress.done();
        truth.close();
      }
      const files = report.files.map((f) => ({ path: path.relative(dir, f.path), lines: f.lines, bytes: f.bytes }));
      files.push({ path: GROUND_TRUTH_FILE, lines: truth.lines, bytes: fs.statSync(truthPath).size });
      let conceptsFile: string | null = null;
      if (format === 'mimic-iv') {
        conceptsFile = path.join(dir, SITE_CONCEPTS_FILE);
        const text = `${JSON.stringify(siteConcepts(), null, 2)}\n`;
        fs.writeFileSync(conceptsFile, text);
        files.push({ path: SITE_CONCEPTS_FILE, lines: text.split('\n').length - 1, bytes: Buffer.byteLength(text) });
      }
      const summary = {
        dir,
        format,
        data: dataDir,
        groundTruth: truthPath,
        conceptsFile,
        seed,
        days,
        patients: report.patients,
        measurements: report.measurements,
        deaths,
        intendedClasses: strata,
        files,
      };
      ctx.print(options.json === true, summary, () => humanSummary(summary));
    });
};

function wholeNumber(flag: string, text: string | undefined, min: number, max: number): number {
  if (text === undefined) throw new UsageError(`${flag} is required`);
  if (!/^\s*\d+\s*$/.test(text)) throw new UsageError(`${flag} must be a whole number (got "${text}")`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`${flag} must be between ${min} and ${max.toLocaleString('en-US')} (got ${value})`);
  return value;
}

/** Creates DIR, refuses a non-empty one without --force, and with --force clears what synth writes. */
function prepareDirectory(dir: string, format: ImportFormat, force: boolean): void {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new UsageError(`--out ${dir} is not a directory`);
    const entries = fs.readdirSync(dir);
    if (entries.length > 0 && !force) {
      throw new CommandFailure(`${dir} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}); choose an empty directory or give --force`, { dir, entries: entries.length });
    }
    // Only what this command writes: a stale file of an earlier run (another --gzip choice)
    // would otherwise be read with the new ones.
    for (const name of [format, GROUND_TRUTH_FILE, SITE_CONCEPTS_FILE]) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new CommandFailure(`cannot create ${dir}: ${(error as Error).message}`);
  }
}

/** The site concepts file that maps the synthetic mHLA-DR item (see docs/ingest.md). */
function siteConcepts(): unknown {
  return {
    version: 'immunoguide-synth',
    concepts: {
      hla_dr: { mimic: [{ table: 'labevents', itemid: SYNTH_HLA_DR_ITEMID, label: 'mHLA-DR (Quantibrite), synthetic local item', unit: 'AB/cell' }] },
    },
  };
}

/**
 * DIR/ground-truth.json, written patient by patient (one patient a line inside a JSON document)
 * so a large cohort never sits in memory. Nothing in it depends on the clock or on DIR.
 */
class GroundTruthWriter {
  readonly #fd: number;
  readonly #format: ImportFormat;
  #first = true;
  lines = 0;

  constructor(file: string, header: { format: ImportFormat; seed: number; days: number; patients: number; dataDir: string }) {
    this.#fd = fs.openSync(file, 'w');
    this.#format = header.format;
    const head = {
      generator: 'immunoguide synth',
      version: VERSION,
      ...header,
      notes: [
        'immuneClass: the class the generator aimed for. It is the ImmunoSep class (immunosep rule set) of the admission sample (day 0); later samples (days 2, 4, 6) drift towards recovery and may classify otherwise, and a sample is valid 48 h.',
        'suspectedInfection: every synthetic patient has a culture drawn and an antibiotic started around ICU admission (the Sepsis-3 suspicion criterion); whether Sepsis-3 is met depends on the SOFA rise the engine computes.',
        'sourcePatientId: the patient id as written in the data (MIMIC-IV: subject_id).',
      ],
    };
    const text = JSON.stringify(head);
    this.#write(`${text.slice(0, -1)},"patients":[\n`);
  }

  patient({ patient, measurements }: SyntheticRecord): void {
    const biomarkers = new Map<string, { time: string; ferritin?: number; hlaDr?: number }>();
    for (const m of measurements) {
      if (m.concept !== 'ferritin' && m.concept !== 'hla_dr') continue;
      const sample = biomarkers.get(m.time) ?? { time: m.time };
      if (m.concept === 'ferritin') sample.ferritin = m.value;
      else sample.hlaDr = m.value;
      biomarkers.set(m.time, sample);
    }
    const entry = {
      patientId: patient.id,
      sourcePatientId: this.#format === 'mimic-iv' ? mimicSubjectId(patient.id) : patient.id,
      siteId: patient.siteId,
      sex: patient.sex,
      birthDate: patient.birthDate,
      admittedAt: patient.admittedAt,
      immuneClass: patient.intendedStratum,
      biomarkerSamples: [...biomarkers.values()],
      suspectedInfection: patient.infection,
      died: patient.deceasedAt !== null,
      deceasedAt: patient.deceasedAt,
      measurements: measurements.length,
      firstMeasurementAt: measurements[0]?.time ?? null,
      lastMeasurementAt: measurements.at(-1)?.time ?? null,
    };
    this.#write(`${this.#first ? '' : ',\n'}${JSON.stringify(entry)}`);
    this.#first = false;
  }

  close(): void {
    this.#write(`${this.#first ? '' : '\n'}]}\n`);
    fs.closeSync(this.#fd);
  }

  #write(text: string): void {
    fs.writeSync(this.#fd, text);
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.lines++;
  }
}

function humanSummary(summary: {
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
}): string {
  const n = (value: number): string => value.toLocaleString('en-US');
  const lines = [
    `wrote ${n(summary.patients)} synthetic patients (${n(summary.measurements)} measurements, ${summary.days} days, seed ${summary.seed}) as ${summary.format} into ${summary.dir}`,
    `  intended classes: ${Object.entries(summary.intendedClasses).map(([name, count]) => `${name} ${n(count)}`).join(', ')}; deaths ${n(summary.deaths)}`,
  ];
  for (const file of summary.files) lines.push(`  ${file.path}: ${n(file.lines)} lines, ${n(file.bytes)} bytes`);
  const env = summary.conceptsFile === null ? '' : `IMMUNOGUIDE_CONCEPTS_FILE=${summary.conceptsFile} `;
  lines.push(`screen it: ${env}immunoguide screen ${summary.data}`);
  return lines.join('\n');
}
