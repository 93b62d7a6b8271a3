/**
 * The contract every ingest format implements: parse a CHUNK of an input file into canonical
 * measurements, patient records and OperationOutcome-style issues. Streaming readers
 * (src/sources/ingest/) and the HTTP import jobs both build on it: a worker that receives
 * part N of an uploaded file calls `parseChunk` with that part's lines and the number of its
 * first line.
 *
 * Chunks of the line-based formats (FHIR NDJSON, simple CSV) are independent. The MIMIC-IV
 * tables are not entirely: a GCS total is assembled from three rows and a urine volume's
 * interval starts at the previous charting of the stay. For them, feed the chunks of one table
 * in order with the same `state` (createParserState) and call `finishParse` at the end; without
 * a shared state, groups split across chunks are reported as warnings instead of guessed.
 * A FHIR Bundle (one JSON document, not line-based) is parsed whole by `parseDocument`.
 */
import type { MeasurementQualifiers } from '../clinical/sofa/types.ts';
import type { Concept, IsoDateTime, Measurement, Provenance } from '../clinical/types.ts';
import type { ConceptDictionary } from './concepts/dictionary.ts';
import { parseFhirLines } from './fhir/parse.ts';
import { parseMeasurementCsvChunk } from './measurement-csv.ts';
import { finishMimicTable, parseMimicRows } from './mimic/parse.ts';

/** Input formats of `immunoguide import --format`. */
export type ImportFormat = 'fhir' | 'csv' | 'mimic-iv';

/** The tables of the MIMIC-IV hosp and icu modules the reader understands. */
export const MIMIC_TABLES = [
  'patients',
  'admissions',
  'icustays',
  'labevents',
  'chartevents',
  'inputevents',
  'outputevents',
  'microbiologyevents',
  'prescriptions',
  'emar',
] as const;
export type MimicTable = (typeof MIMIC_TABLES)[number];

/** A line-based format a chunk can be in: FHIR NDJSON, the simple CSV, or one MIMIC-IV table (CSV). */
export type ChunkFormat = 'fhir' | 'csv' | `mimic-iv:${MimicTable}`;

/**
 * One problem with one record, shaped like a FHIR OperationOutcome.issue: `code` is from the
 * FHIR IssueType value set, `location` names the line (and the element within it).
 */
export interface ImportIssue {
  severity: 'error' | 'warning';
  code: IssueCode;
  diagnostics: string;
  /** ["line 12"], or ["line 1", "Bundle.entry[3].resource"]. */
  location: string[];
  file: string;
}

/** The subset of http://hl7.org/fhir/issue-type the importers use. */
export type IssueCode =
  | 'structure' // not valid JSON / CSV, wrong shape
  | 'required' // a required element is missing
  | 'value' // a value is invalid (bad number, time, unit, implausible)
  | 'invalid'
  | 'code-invalid' // a code the record needs is unknown or ambiguous
  | 'not-supported' // a resource type or feature we do not read
  | 'conflict' // contradicts stored data (patient at another site)
  | 'too-long' // a line above the size limit
  | 'incomplete' // a group of rows that never completed (MIMIC-IV GCS)
  | 'informational';

/** Demographics as the source states them; absent fields are left as stored. */
export interface PatientRecord {
  id: string;
  /** The site the source assigns the patient to (FHIR meta.tag); the import's --site otherwise. */
  siteId?: string;
  birthDate?: string;
  sex?: 'female' | 'male' | 'other' | 'unknown';
  deceasedAt?: IsoDateTime;
}

/**
 * A canonical measurement as imported: provenance is mandatory; `reported` (Measurement's) holds
 * the value and unit as the source wrote them whenever they differ from the canonical ones.
 */
export interface SourceMeasurement extends Measurement {
  provenance: Provenance;
  /** How to read the value (a GCS whose verbal response was charted as intubated); see the SOFA presets. */
  qualifiers?: MeasurementQualifiers;
  /** Source-specific keys kept for later work (MIMIC-IV stay_id, hadm_id, specimen_id, itemid...). */
  context?: Record<string, string | number>;
}

/** An ICU stay or hospital admission (FHIR Encounter, MIMIC-IV icustays / admissions). */
export interface StayRecord {
  id: string;
  patientId: string;
  kind: 'icu' | 'hospital';
  start?: IsoDateTime;
  end?: IsoDateTime;
  /** The hospital admission an ICU stay belongs to. */
  admissionId?: string;
}

/** A diagnosis (FHIR Condition) that maps to no measurement concept, kept for eligibility work. */
export interface ConditionRecord {
  patientId: string;
  codings: Array<{ system: string; code: string; display?: string }>;
  onset?: IsoDateTime;
  recordId: string;
}

/** A study drug given (anakinra, interferon gamma): medication entries of the dictionary. */
export interface AdministrationRecord {
  patientId: string;
  medication: string;
  time: IsoDateTime;
  endTime?: IsoDateTime;
  dose?: { value: number; unit: string };
  recordId: string;
}

export interface ParseResult {
  patients: PatientRecord[];
  measurements: SourceMeasurement[];
  issues: ImportIssue[];
  /** Input records seen (non-blank lines, Bundle entries, table rows). */
  records: number;
  /** Records with at least one error issue (their valid parts are still returned). */
  rejected: number;
  /** Valid records that carry nothing ImmunoGuide reads (codes not in the dictionary, other resources). */
  skipped: number;
  stays: StayRecord[];
  conditions: ConditionRecord[];
  administrations: AdministrationRecord[];
  /** Codes seen but not in the dictionary, with counts: what a site may want to map. */
  unmapped: Map<string, number>;
}

export interface ParseContext {
  /** 1-based number of the first line of the chunk in its file. */
  firstLineNumber: number;
  /**
   * The line number of each element of `lines`, when they are not consecutive (a CSV record
   * whose quoted field spans lines); `firstLineNumber` + index otherwise.
   */
  lineNumbers?: readonly number[];
  /** The CSV header line (CSV and MIMIC-IV tables; the first chunk may carry it as its first line instead). */
  header?: string;
  /** File name for issues. */
  fileName: string;
  /** Site of patients the source does not assign to one. */
  siteId?: string;
  /** Provenance source label (default: the format name, e.g. "fhir", "mimic-iv", "csv"). */
  source?: string;
  dictionary: ConceptDictionary;
  /** Shared across the chunks of one file, in order (required for exact MIMIC-IV GCS and urine intervals). */
  state?: ParserState;
}

/** Opaque per-file state of the stateful formats (see the file comment). */
export interface ParserState {
  /** Pending rows keyed by group (MIMIC-IV GCS components of one stay and time). */
  readonly groups: Map<string, unknown>;
  /** Per-key memory (MIMIC-IV urine: the last charting time of each stay; FHIR: devices seen). */
  readonly memory: Map<string, unknown>;
  /** Values read from other tables first (MIMIC-IV icustays: stay -> intime). */
  readonly lookups: Map<string, unknown>;
}

export function createParserState(): ParserState {
  return { groups: new Map(), memory: new Map(), lookups: new Map() };
}

export function emptyResult(): ParseResult {
  return {
    patients: [],
    measurements: [],
    issues: [],
    records: 0,
    rejected: 0,
    skipped: 0,
    stays: [],
    conditions: [],
    administrations: [],
    unmapped: new Map(),
  };
}

/** Adds `b` into `a` (for callers that gather chunk results). */
export function mergeResults(a: ParseResult, b: ParseResult): ParseResult {
  a.patients.push(...b.patients);
  for (const m of b.measurements) a.measurements.push(m);
  a.issues.push(...b.issues);
  a.records += b.records;
  a.rejected += b.rejected;
  a.skipped += b.skipped;
  a.stays.push(...b.stays);
  a.conditions.push(...b.conditions);
  a.administrations.push(...b.administrations);
  for (const [code, count] of b.unmapped) a.unmapped.set(code, (a.unmapped.get(code) ?? 0) + count);
  return a;
}

/** The canonical tuple of a measurement: what "identical measurements" means across formats. */
export function canonicalTuple(m: Measurement): string {
  return [m.patientId, m.concept, String(m.value), m.unit, m.time, m.endTime ?? ''].join('\t');
}

/**
 * Parses a chunk of a line-based input: FHIR NDJSON lines, simple CSV lines or the rows of one
 * MIMIC-IV table. `lines` are without line ends (or a text, split here). CSV and MIMIC-IV
 * chunks need the header: `context.header`, or the chunk's first line when it is line 1.
 */
export function parseChunk(format: ChunkFormat, lines: readonly string[] | string, context: ParseContext): ParseResult {
  const list = typeof lines === 'string' ? splitLines(lines) : lines;
  if (format === 'fhir') return parseFhirLines(list, context);
  if (format === 'csv') return parseMeasurementCsvChunk(list, context);
  return parseMimicRows(format.slice('mimic-iv:'.length) as MimicTable, list, context);
}

/**
 * What is still pending at the end of a file (MIMIC-IV GCS components that never completed):
 * call once after the last chunk, with the same state.
 */
export function finishParse(format: ChunkFormat, context: ParseContext): ParseResult {
  if (format.startsWith('mimic-iv:')) return finishMimicTable(format.slice('mimic-iv:'.length) as MimicTable, context);
  return emptyResult();
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

export type { Concept };
