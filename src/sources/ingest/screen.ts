/**
 * The screen pipeline behind `immunoguide screen` and bench/ingest: the whole clinical pipeline
 * over files, without a store. Files are streamed through the import pipeline (runImport
 * without a sink: the same readers, chunking, issues and bounded line memory as `immunoguide
 * import`); each patient's canonical measurements are kept, packed in columns; at the end each
 * patient is assessed by the pure engine (src/clinical/assessment.ts: daily SOFA, Sepsis-3,
 * immune class, eligibility, therapy) and handed to `onPatient`, then dropped.
 *
 * Memory: no raw line outlives its chunk, and memory does not grow with the input. Measurements
 * are kept as numbers (38 bytes each: concept, unit, reported value and unit, start, end) plus,
 * sparsely, the provenance of the measurements a decision cites (antibiotics, cultures, the rule
 * set's biomarkers) and SOFA qualifiers, in a log of fixed size (screen-store.ts); when it fills
 * up it goes, sorted by patient id, to a temporary file as a run (about 40 bytes a measurement:
 * 130 MB for the 3.3 million measurements of a 1 GB FHIR extract), and the runs are merged by
 * patient id at the end, each patient read back when its turn to be assessed comes. Nothing is
 * held per patient but the FHIR reader's charted weights (bounded: screen-state.ts, adapter.ts).
 * The cited provenance is held as JSON bytes in that log, not as objects. V8's own heap growth
 * is what made the peak creep up with the length of a run: `immunoguide screen` bounds it
 * (boundHeapGrowth).
 *
 * Threads: with `workers` > 1 (the default for inputs of 64 MiB or more on a machine with
 * several cores) worker threads parse the chunks and assess the patients (screen-parallel.ts);
 * the result is the same, byte for byte, as in one thread.
 *
 * "When": the core has no clock. Each patient is assessed at `options.at` when given, else at
 * the time of its own latest measurement (the start of the latest measurement), which is "now"
 * for an extract taken as the data stood; a patient with no measurement is then not assessed.
 */
import os from 'node:os';
import v8 from 'node:v8';
import type { PatientAssessment, SofaDaySummary } from '../../clinical/assessment.ts';
import type { EligibilityResult } from '../../clinical/eligibility.ts';
import { IMMUNE_RULE_SETS, IMMUNOSEP, ruleSetInputs } from '../../clinical/immune/index.ts';
import type { Comparison, ImmuneRuleSet, StaleInput } from '../../clinical/immune/types.ts';
import type { Sepsis3Assessment } from '../../clinical/sepsis3.ts';
import { DEFAULT_SOFA_PRESET } from '../../clinical/sofa/index.ts';
import type { Concept, ImmuneClassName, IsoDateTime } from '../../clinical/types.ts';
import type { ConceptDictionary } from '../concepts/dictionary.ts';
import type { ImportFormat, ImportIssue, PatientRecord, SourceMeasurement } from '../import-format.ts';
import { type FileFormat, discoverInputs } from './files.ts';
import { type ImportProgress, runImport } from './run.ts';
import { ScreenPool, readParallel } from './screen-parallel.ts';
import { Codes, PatientColumns, screenPatient } from './screen-patient.ts';
import { PatientStore } from './screen-store.ts';

export interface ScreenOptions {
  format?: ImportFormat;
  dictionary: ConceptDictionary;
  /** One evaluation time for every patient; default: each patient's latest measurement time. */
  at?: IsoDateTime;
  /** Immune rule set (default immunosep). */
  ruleSet?: ImmuneRuleSet;
  /** SOFA preset (default the engine's). */
  sofaPreset?: string;
  /** Issues kept in the summary (default 10,000); all go to onIssue. */
  maxIssues?: number;
  /** Records per parsed chunk (default: the import pipeline's). */
  chunkRecords?: number;
  /**
   * Threads that parse and assess (screen-parallel.ts); 1 reads and assesses in this thread.
   * Default: os.availableParallelism() for inputs of 64 MiB or more, else 1. The result is the
   * same whatever the number.
   */
  workers?: number;
  onIssue?: (issue: ImportIssue) => void;
  onProgress?: (progress: ScreenProgress) => void;
  /** Each patient's result, in patient id order, as soon as it is computed. */
  onPatient?: (patient: PatientScreen) => void;
  /**
   * Measurements kept in memory until the read ends; beyond that many, they wait in a temporary
   * file, sorted by patient id (screen-store.ts). Default: 262,144 (about 20 MB of memory).
   */
  memoryMeasurements?: number;
  /** Directory of that temporary file (default: the system's). */
  tempDir?: string;
  /**
   * With worker threads: a thread whose V8 heap grows past this many bytes while assessing is
   * replaced by a fresh one (default 96 MiB; see screen-parallel.ts). The result does not depend on it.
   */
  recycleWorkerHeapBytes?: number;
  /** Clock for elapsed times (tests). */
  now?: () => number;
}

export type ScreenProgress =
  | ({ phase: 'read' } & ImportProgress)
  | { phase: 'assess'; done: number; patients: number; elapsedMs: number };

/** One patient's result: what the bedside assessment says, in a shape for files and tables. */
export interface PatientScreen {
  patientId: string;
  /** The site the source assigns (FHIR meta.tag), else null. */
  siteId: string | null;
  /** Evaluation time; null when the patient has no measurement and no --at was given. */
  at: IsoDateTime | null;
  measurements: number;
  sepsis3: Sepsis3Assessment | null;
  immuneClass: {
    class: ImmuneClassName;
    ruleSet: string;
    version: string;
    /** One line, e.g. "MALS: ferritin 4450.4 ng/mL > 4420 ng/mL (immunosep 1.0.0)". */
    explanation: string;
    comparisons: Comparison[];
    /** Hours since the newest biomarker sample the class rests on. */
    evidenceAgeHours: number | null;
    missing?: Concept[];
    stale?: StaleInput[];
    possible?: string[];
  } | null;
  sofa: { preset: string; today: number | null; days: SofaDaySummary[] };
  eligibility: EligibilityResult | null;
  therapy: PatientAssessment['therapy'];
  dataGaps: string[];
}

export interface ScreenFileSummary {
  path: string;
  format: FileFormat;
  records: number;
  measurements: number;
  rejected: number;
  skipped: number;
}

export interface ScreenSummary {
  /** No record was rejected and no error was reported. */
  ok: boolean;
  /** The evaluation time given, or null: each patient's latest measurement. */
  at: IsoDateTime | null;
  ruleSet: { id: string; version: string };
  sofaPreset: string;
  /** Patients found (with measurements or a patient record). */
  patients: number;
  /** Patients not assessed: no measurement and no `at`. */
  notAssessed: number;
  classes: Record<ImmuneClassName, number>;
  sepsis3: { met: number; notMet: number; notAssessable: number };
  eligibility: { eligible: number; notEligible: number; incomplete: number };
  files: ScreenFileSummary[];
  records: number;
  measurements: number;
  rejected: number;
  skipped: number;
  errors: number;
  warnings: number;
  /** errors + warnings. */
  issueCount: number;
  /** Issues not listed in `issues` (over maxIssues). */
  issuesOmitted: number;
  issues: ImportIssue[];
  unmapped: Array<{ code: string; count: number }>;
  elapsedMs: number;
  recordsPerSecond: number;
}

/**
 * Input size from which runScreen uses worker threads when `workers` is not given: below it,
 * starting the threads (each loads the parsers and the engine) costs more than they save.
 */
export const AUTO_WORKERS_MIN_BYTES = 64 * 1024 * 1024;

/** How far V8 lets a heap grow past what its last full collection left live, in % (see boundHeapGrowth). */
export const SCREEN_HEAP_GROWING_PERCENT = 25;

/**
 * Makes V8 grow every heap of this process (the main thread's and the worker threads', now and
 * later) by at most `percent` % over what its last full collection left live, instead of up to
 * 4 times on a machine with much memory, unless the process was started with a
 * --heap-growing-percent of its own. `immunoguide screen` and bench/ingest call it before
 * runScreen: a screen allocates and drops a lot, and with V8's default the heaps of a long run
 * kept growing with the input although what they hold live does not (peak RSS on a 4.15 GB
 * extract: 490-505 MB with the default, 444-453 MB with 25 %, same time; bench/BENCHMARKS.md).
 * It changes when collections run, never what a program computes. Returns whether it set it.
 */
export function boundHeapGrowth(percent = SCREEN_HEAP_GROWING_PERCENT): boolean {
  if (!Number.isInteger(percent) || percent < 1) throw new RangeError(`heap growing percent must be a whole number >= 1, got ${percent}`);
  if (process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}

/** Streams PATHs through the readers and assesses every patient found; see the file comment. */
export async function runScreen(paths: readonly string[], options: ScreenOptions): Promise<ScreenSummary> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const ruleSet = options.ruleSet ?? IMMUNOSEP;
  const sofaPreset = options.sofaPreset ?? DEFAULT_SOFA_PRESET;
  const settings = { ruleSet, sofaPreset, ...(options.at === undefined ? {} : { at: options.at }) };
  // Provenance is kept only where a result cites it: Sepsis-3 names the antibiotic and culture
  // records, the immune class names its biomarker samples.
  const cited = new Set<Concept>(['antibiotic', 'culture', ...ruleSetInputs(ruleSet)]);
  const codes = new Codes();
  const store = new PatientStore(codes, {
    ...(options.memoryMeasurements === undefined ? {} : { memoryRows: options.memoryMeasurements }),
    ...(options.tempDir === undefined ? {} : { dir: options.tempDir }),
  });
  const onProgress = options.onProgress === undefined ? undefined : (progress: ImportProgress) => options.onProgress?.({ phase: 'read', ...progress });

  const workers = workerCount(paths, options);
  const pool =
    workers > 1
      ? new ScreenPool(
          workers,
          {
            dictionary: { data: options.dictionary.data, sources: options.dictionary.sources },
            cited: [...cited],
            // A registered rule set goes by id (the worker uses the same object); another is copied.
            ruleSet: IMMUNE_RULE_SETS.includes(ruleSet) ? { ruleSetId: ruleSet.id } : { ruleSet },
            sofaPreset,
            ...(options.at === undefined ? {} : { at: options.at }),
          },
          codes,
        )
      : undefined;
  try {
    const read =
      pool === undefined
        ? await runImport(paths, {
            ...(options.format === undefined ? {} : { format: options.format }),
            dictionary: options.dictionary,
            ...(options.maxIssues === undefined ? {} : { maxIssues: options.maxIssues }),
            ...(options.chunkRecords === undefined ? {} : { chunkRecords: options.chunkRecords }),
            ...(options.onIssue === undefined ? {} : { onIssue: options.onIssue }),
            ...(onProgress === undefined ? {} : { onProgress }),
            onMeasurements: (measurements: readonly SourceMeasurement[], records: readonly PatientRecord[]) => {
              for (const record of records) store.facts(record);
              for (const m of measurements) store.push(m, cited.has(m.concept));
            },
            now,
          })
        : await readParallel(paths, pool, {
            ...(options.format === undefined ? {} : { format: options.format }),
            dictionary: options.dictionary,
            ...(options.maxIssues === undefined ? {} : { maxIssues: options.maxIssues }),
            ...(options.chunkRecords === undefined ? {} : { chunkRecords: options.chunkRecords }),
            ...(options.onIssue === undefined ? {} : { onIssue: options.onIssue }),
            ...(onProgress === undefined ? {} : { onProgress }),
            now,
            store,
            cited,
          });

    const summary: ScreenSummary = {
      ok: read.errors === 0 && read.rejected === 0,
      at: options.at ?? null,
      ruleSet: { id: ruleSet.id, version: ruleSet.version },
      sofaPreset,
      patients: 0,
      notAssessed: 0,
      classes: { MALS: 0, immunoparalysis: 0, unclassified: 0, indeterminate: 0 },
      sepsis3: { met: 0, notMet: 0, notAssessable: 0 },
      eligibility: { eligible: 0, notEligible: 0, incomplete: 0 },
      files: read.files.map(({ path, format, records, measurements, rejected, skipped }) => ({ path, format, records, measurements, rejected, skipped })),
      records: read.records,
      measurements: read.measurements,
      rejected: read.rejected,
      skipped: read.skipped,
      errors: read.errors,
      warnings: read.warnings,
      issueCount: read.errors + read.warnings,
      issuesOmitted: read.issuesOmitted,
      issues: read.issues,
      unmapped: read.unmapped,
      elapsedMs: 0,
      recordsPerSecond: 0,
    };

    // Patient id order, so the output does not depend on the order of files and lines.
    const patients = store.finish();
    summary.patients = patients;
    let done = 0;
    const emit = (result: PatientScreen): void => {
      if (result.at === null) summary.notAssessed++;
      if (result.immuneClass !== null) summary.classes[result.immuneClass.class]++;
      if (result.at !== null) {
        if (result.sepsis3 === null) summary.sepsis3.notAssessable++;
        else if (result.sepsis3.met) summary.sepsis3.met++;
        else summary.sepsis3.notMet++;
      }
      if (result.eligibility !== null) {
        const status = result.eligibility.status;
        if (status === 'eligible') summary.eligibility.eligible++;
        else if (status === 'not-eligible') summary.eligibility.notEligible++;
        else summary.eligibility.incomplete++;
      }
      options.onPatient?.(result);
      done++;
      options.onProgress?.({ phase: 'assess', done, patients, elapsedMs: now() - started });
    };
    if (pool === undefined) for (let patient = store.next(); patient !== undefined; patient = store.next()) emit(screenPatient(new PatientColumns(patient), codes.values, settings));
    else await pool.assess(patients, () => store.next()!, codes.values, emit, options.recycleWorkerHeapBytes === undefined ? {} : { recycleHeapBytes: options.recycleWorkerHeapBytes });
    summary.elapsedMs = Math.round(now() - started);
    summary.recordsPerSecond = summary.elapsedMs > 0 ? Math.round((summary.records * 1000) / summary.elapsedMs) : 0;
    return summary;
  } finally {
    store.close();
    await pool?.close();
  }
}

/** Threads to use: `workers` when given (at least 1), else all cores for inputs of AUTO_WORKERS_MIN_BYTES or more. */
function workerCount(paths: readonly string[], options: ScreenOptions): number {
  if (options.workers !== undefined) {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError(`workers must be a whole number >= 1, got ${options.workers}`);
    return options.workers;
  }
  const bytes = discoverInputs(paths, options.format).reduce((sum, file) => sum + file.size, 0);
  return bytes >= AUTO_WORKERS_MIN_BYTES ? Math.max(1, os.availableParallelism()) : 1;
}
