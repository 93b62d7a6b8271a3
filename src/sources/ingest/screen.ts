/**
 * The screen pipeline behind `immunoguide screen` and bench/ingest: the whole clinical pipeline
 * over files, without a store. Files are streamed through the import pipeline (runImport
 * without a sink: the same readers, chunking, issues and bounded line memory as `immunoguide
 * import`); each patient's canonical measurements are kept, packed in columns; at the end each
 * patient is assessed by the pure engine (src/clinical/assessment.ts: daily SOFA, Sepsis-3,
 * immune class, eligibility, therapy) and handed to `onPatient`, then dropped.
 *
 * Memory: no raw line outlives its chunk. What stays is 38 bytes per measurement (concept,
 * unit, value, start, end, reported value and unit as numbers, in fixed blocks) plus, sparsely,
 * the provenance of the measurements a decision cites (antibiotics, cultures, the rule set's
 * biomarkers) and SOFA qualifiers: about 60 bytes a measurement in all (measured on a synthetic
 * FHIR extract), some 200 MB for the 3.3 million measurements of a 1 GB one.
 *
 * "When": the core has no clock. Each patient is assessed at `options.at` when given, else at
 * the time of its own latest measurement (the start of the latest measurement), which is "now"
 * for an extract taken as the data stood; a patient with no measurement is then not assessed.
 */
import { type PatientAssessment, type PatientFacts, type SofaDaySummary, assessPatient } from '../../clinical/assessment.ts';
import type { EligibilityResult } from '../../clinical/eligibility.ts';
import { IMMUNOSEP, ruleSetInputs } from '../../clinical/immune/index.ts';
import type { Comparison, ImmuneRuleSet, StaleInput } from '../../clinical/immune/types.ts';
import type { Sepsis3Assessment } from '../../clinical/sepsis3.ts';
import { DEFAULT_SOFA_PRESET } from '../../clinical/sofa/index.ts';
import type { MeasurementQualifiers } from '../../clinical/sofa/types.ts';
import type { Concept, ImmuneClassName, IsoDateTime, Measurement, Provenance } from '../../clinical/types.ts';
import type { ConceptDictionary } from '../concepts/dictionary.ts';
import type { ImportFormat, ImportIssue, PatientRecord, SourceMeasurement } from '../import-format.ts';
import type { FileFormat } from './files.ts';
import { type ImportProgress, runImport } from './run.ts';

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
  onIssue?: (issue: ImportIssue) => void;
  onProgress?: (progress: ScreenProgress) => void;
  /** Each patient's result, in patient id order, as soon as it is computed. */
  onPatient?: (patient: PatientScreen) => void;
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

/** Streams PATHs through the readers and assesses every patient found; see the file comment. */
export async function runScreen(paths: readonly string[], options: ScreenOptions): Promise<ScreenSummary> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const ruleSet = options.ruleSet ?? IMMUNOSEP;
  const sofaPreset = options.sofaPreset ?? DEFAULT_SOFA_PRESET;
  // Provenance is kept only where a result cites it: Sepsis-3 names the antibiotic and culture
  // records, the immune class names its biomarker samples.
  const cited = new Set<Concept>(['antibiotic', 'culture', ...ruleSetInputs(ruleSet)]);
  const codes = new Codes();
  const patients = new Map<string, PatientColumns>();
  const patientOf = (id: string): PatientColumns => {
    let patient = patients.get(id);
    if (patient === undefined) {
      patient = new PatientColumns(detach(id));
      patients.set(patient.id, patient);
    }
    return patient;
  };

  const read = await runImport(paths, {
    ...(options.format === undefined ? {} : { format: options.format }),
    dictionary: options.dictionary,
    ...(options.maxIssues === undefined ? {} : { maxIssues: options.maxIssues }),
    ...(options.chunkRecords === undefined ? {} : { chunkRecords: options.chunkRecords }),
    ...(options.onIssue === undefined ? {} : { onIssue: options.onIssue }),
    ...(options.onProgress === undefined ? {} : { onProgress: (progress: ImportProgress) => options.onProgress?.({ phase: 'read', ...progress }) }),
    onMeasurements: (measurements: readonly SourceMeasurement[], records: readonly PatientRecord[]) => {
      for (const record of records) patientOf(record.id).facts(record);
      for (const m of measurements) patientOf(m.patientId).push(m, codes, cited.has(m.concept));
    },
    now,
  });

  const summary: ScreenSummary = {
    ok: read.errors === 0 && read.rejected === 0,
    at: options.at ?? null,
    ruleSet: { id: ruleSet.id, version: ruleSet.version },
    sofaPreset,
    patients: patients.size,
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
  const ids = [...patients.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let done = 0;
  for (const id of ids) {
    const columns = patients.get(id)!;
    patients.delete(id);
    const result = screenPatient(columns, codes, { ruleSet, sofaPreset, ...(options.at === undefined ? {} : { at: options.at }) });
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
    options.onProgress?.({ phase: 'assess', done, patients: ids.length, elapsedMs: now() - started });
  }
  summary.elapsedMs = Math.round(now() - started);
  summary.recordsPerSecond = summary.elapsedMs > 0 ? Math.round((summary.records * 1000) / summary.elapsedMs) : 0;
  return summary;
}

function screenPatient(columns: PatientColumns, codes: Codes, settings: { at?: IsoDateTime; ruleSet: ImmuneRuleSet; sofaPreset: string }): PatientScreen {
  const at = settings.at ?? (columns.length === 0 ? null : new Date(columns.lastTime).toISOString());
  if (at === null) {
    return {
      patientId: columns.id,
      siteId: columns.siteId,
      at: null,
      measurements: 0,
      sepsis3: null,
      immuneClass: null,
      sofa: { preset: settings.sofaPreset, today: null, days: [] },
      eligibility: null,
      therapy: null,
      dataGaps: ['no measurements: nothing to assess (give --at to assess the patient record alone)'],
    };
  }
  const assessment = assessPatient({ patient: columns.patientFacts(), measurements: columns.measurements(codes), at, ruleSet: settings.ruleSet, sofaPreset: settings.sofaPreset });
  const c = assessment.classification;
  return {
    patientId: columns.id,
    siteId: columns.siteId,
    at: assessment.at,
    measurements: columns.length,
    sepsis3: assessment.sepsis3,
    immuneClass: {
      class: c.class,
      ruleSet: c.ruleSet.id,
      version: c.ruleSet.version,
      explanation: c.summary,
      comparisons: c.evidence.comparisons,
      evidenceAgeHours: assessment.evidenceAgeHours,
      ...(c.class === 'indeterminate' ? { missing: c.missing, stale: c.stale, possible: c.possible } : {}),
    },
    sofa: { preset: assessment.sofa.preset, today: assessment.sofa.today?.total ?? null, days: assessment.sofa.days },
    eligibility: assessment.eligibility,
    therapy: assessment.therapy,
    dataGaps: assessment.dataGaps,
  };
}

/** Small tables of the strings that repeat across measurements (concepts, units, source labels). */
class Codes {
  readonly #index = new Map<string, number>();
  readonly values: string[] = [];

  of(text: string): number {
    let index = this.#index.get(text);
    if (index === undefined) {
      index = this.values.length;
      // Indexes are stored in 16 bits (+1 for reported units); sources use a few dozen strings.
      if (index >= 0xfffe) throw new RangeError('more than 65,533 distinct concepts and units in one screen');
      const own = detach(text);
      this.values.push(own);
      this.#index.set(own, index);
    }
    return index;
  }
}

/** What a few measurements carry beyond numbers: cited provenance, SOFA qualifiers. */
interface Extra {
  provenance?: Provenance;
  qualifiers?: MeasurementQualifiers;
}

/**
 * Rows per block: a patient's first blocks are small (most extracts have patients with few
 * measurements), later ones a fixed size. Blocks are never copied or resized, so the read
 * leaves no freed buffers behind, and at most one partly filled block per patient.
 */
const BLOCK_ROWS = [64, 128, 256] as const;
/** Bytes per row: value, reported value, start, end (float64); concept, unit, reported unit (uint16). */
const ROW_BYTES = 4 * 8 + 3 * 2;

/** A block of rows: columns laid out in one ArrayBuffer. */
class Block {
  readonly rows: number;
  readonly value: Float64Array;
  readonly reportedValue: Float64Array;
  readonly time: Float64Array;
  /** End of an interval, NaN for a point in time. */
  readonly end: Float64Array;
  readonly concept: Uint16Array;
  readonly unit: Uint16Array;
  /** Reported unit + 1 (0: reported as canonical). */
  readonly reportedUnit: Uint16Array;

  constructor(rows: number) {
    this.rows = rows;
    const buffer = new ArrayBuffer(rows * ROW_BYTES);
    this.value = new Float64Array(buffer, 0, rows);
    this.reportedValue = new Float64Array(buffer, rows * 8, rows);
    this.time = new Float64Array(buffer, rows * 16, rows);
    this.end = new Float64Array(buffer, rows * 24, rows);
    this.concept = new Uint16Array(buffer, rows * 32, rows);
    this.unit = new Uint16Array(buffer, rows * 34, rows);
    this.reportedUnit = new Uint16Array(buffer, rows * 36, rows);
  }
}

/** One patient's measurements packed in blocks of typed arrays. */
class PatientColumns {
  readonly id: string;
  siteId: string | null = null;
  #facts: PatientFacts;
  length = 0;
  lastTime = Number.NEGATIVE_INFINITY;
  readonly #blocks: Block[] = [];
  /** Rows used in the last block. */
  #used = 0;
  #extras: Map<number, Extra> | undefined;

  constructor(id: string) {
    this.id = id;
    this.#facts = { id, birthDate: null, sex: null, deceasedAt: null };
  }

  /** Demographics as a source states them; later records fill or replace what they state. */
  facts(record: PatientRecord): void {
    if (record.siteId !== undefined) this.siteId = detach(record.siteId);
    if (record.birthDate !== undefined) this.#facts.birthDate = detach(record.birthDate);
    if (record.sex !== undefined) this.#facts.sex = record.sex;
    if (record.deceasedAt !== undefined) this.#facts.deceasedAt = detach(record.deceasedAt);
  }

  patientFacts(): PatientFacts {
    return { ...this.#facts };
  }

  push(m: SourceMeasurement, codes: Codes, cite: boolean): void {
    let block = this.#blocks.at(-1);
    if (block === undefined || this.#used === block.rows) {
      block = new Block(BLOCK_ROWS[Math.min(this.#blocks.length, BLOCK_ROWS.length - 1)]!);
      this.#blocks.push(block);
      this.#used = 0;
    }
    const r = this.#used++;
    const i = this.length++;
    const time = Date.parse(m.time);
    block.concept[r] = codes.of(m.concept);
    block.unit[r] = codes.of(m.unit);
    block.value[r] = m.value;
    block.time[r] = time;
    block.end[r] = m.endTime === undefined ? Number.NaN : Date.parse(m.endTime);
    if (m.reported !== undefined) {
      block.reportedValue[r] = m.reported.value;
      block.reportedUnit[r] = codes.of(m.reported.unit) + 1;
    }
    if (time > this.lastTime) this.lastTime = time;
    const qualifiers = m.qualifiers !== undefined && Object.keys(m.qualifiers).length > 0 ? { ...m.qualifiers } : undefined;
    if (cite || qualifiers !== undefined) {
      this.#extras ??= new Map();
      this.#extras.set(i, {
        ...(cite ? { provenance: { source: detach(m.provenance.source), recordId: detach(m.provenance.recordId) } } : {}),
        ...(qualifiers === undefined ? {} : { qualifiers }),
      });
    }
  }

  /** The measurements as the engine reads them (canonical ISO instants, as the readers produce). */
  measurements(codes: Codes): Measurement[] {
    const list: Measurement[] = [];
    // Many measurements share a time (a panel, a blood gas): format each instant once.
    const instants = new Map<number, string>();
    const iso = (ms: number): string => {
      let text = instants.get(ms);
      if (text === undefined) instants.set(ms, (text = new Date(ms).toISOString()));
      return text;
    };
    let i = 0;
    for (const [index, block] of this.#blocks.entries()) {
      const rows = index === this.#blocks.length - 1 ? this.#used : block.rows;
      for (let r = 0; r < rows; r++, i++) {
        const m: Measurement & { qualifiers?: MeasurementQualifiers } = {
          patientId: this.id,
          concept: codes.values[block.concept[r]!] as Concept,
          value: block.value[r]!,
          unit: codes.values[block.unit[r]!]!,
          time: iso(block.time[r]!),
        };
        const end = block.end[r]!;
        if (!Number.isNaN(end)) m.endTime = iso(end);
        const reportedUnit = block.reportedUnit[r]!;
        if (reportedUnit !== 0) m.reported = { value: block.reportedValue[r]!, unit: codes.values[reportedUnit - 1]! };
        const extra = this.#extras?.get(i);
        if (extra?.provenance !== undefined) m.provenance = extra.provenance;
        if (extra?.qualifiers !== undefined) m.qualifiers = extra.qualifiers;
        list.push(m);
      }
    }
    return list;
  }
}

/**
 * A copy of a string that shares no memory with the text it was cut from: V8 may keep a
 * substring as a view of its parent, which would keep a whole chunk of input lines alive for
 * every patient id or record id held until the end.
 */
function detach(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}
