/**
 * What the screen pipeline keeps of each patient and how it assesses one: measurements as
 * numbers in columns (Block), the shared string tables (Codes), a patient's measurements ready
 * to assess (PatientColumns, built from a PatientTransfer that the store of screen-store.ts hands
 * over, moved to a worker thread or not), the rows of a parsed chunk packed for the trip from a
 * worker thread (PackedRows), and screenPatient. The in-process path (screen.ts) and the worker
 * threads (screen-worker.ts) build the same columns from the same numbers, so they hand
 * assessPatient the same measurements.
 */
import { type PatientFacts, assessPatient } from '../../clinical/assessment.ts';
import type { ImmuneRuleSet } from '../../clinical/immune/types.ts';
import { parseInstant } from '../../clinical/instant.ts';
import type { MeasurementQualifiers } from '../../clinical/sofa/types.ts';
import type { Concept, IsoDateTime, Measurement, Provenance } from '../../clinical/types.ts';
import type { SourceMeasurement } from '../import-format.ts';
import type { PatientScreen } from './screen.ts';

export interface ScreenSettings {
  at?: IsoDateTime;
  ruleSet: ImmuneRuleSet;
  sofaPreset: string;
}

/** One patient's result; see PatientScreen. */
export function screenPatient(columns: PatientColumns, codes: readonly string[], settings: ScreenSettings): PatientScreen {
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
export class Codes {
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
export interface Extra {
  provenance?: Provenance;
  qualifiers?: MeasurementQualifiers;
}

/** Bytes per row: value, reported value, start, end (float64); concept, unit, reported unit (uint16). */
export const ROW_BYTES = 4 * 8 + 3 * 2;

/**
 * Rows laid out column by column in one ArrayBuffer (`rows` of each column, in this order): the
 * form a patient's measurements take in memory, in the spill file and on the way to a thread
 * (screen-store.ts).
 */
export class Block {
  readonly rows: number;
  readonly buffer: ArrayBuffer;
  readonly value: Float64Array;
  readonly reportedValue: Float64Array;
  readonly time: Float64Array;
  /** End of an interval, NaN for a point in time. */
  readonly end: Float64Array;
  readonly concept: Uint16Array;
  readonly unit: Uint16Array;
  /** Reported unit + 1 (0: reported as canonical). */
  readonly reportedUnit: Uint16Array;

  /** The rows of `buffer` from `byteOffset` (a multiple of 8). */
  constructor(rows: number, buffer = new ArrayBuffer(rows * ROW_BYTES), byteOffset = 0) {
    this.rows = rows;
    this.buffer = buffer;
    this.value = new Float64Array(buffer, byteOffset, rows);
    this.reportedValue = new Float64Array(buffer, byteOffset + rows * 8, rows);
    this.time = new Float64Array(buffer, byteOffset + rows * 16, rows);
    this.end = new Float64Array(buffer, byteOffset + rows * 24, rows);
    this.concept = new Uint16Array(buffer, byteOffset + rows * 32, rows);
    this.unit = new Uint16Array(buffer, byteOffset + rows * 34, rows);
    this.reportedUnit = new Uint16Array(buffer, byteOffset + rows * 36, rows);
  }

  /** Copies `from`'s rows to this block's rows from `at`. */
  copy(from: Block, at: number): void {
    this.value.set(from.value, at);
    this.reportedValue.set(from.reportedValue, at);
    this.time.set(from.time, at);
    this.end.set(from.end, at);
    this.concept.set(from.concept, at);
    this.unit.set(from.unit, at);
    this.reportedUnit.set(from.reportedUnit, at);
  }
}

/**
 * A patient's measurements as the store hands them over for assessing (screen-store.ts): one
 * block of `length` rows (its buffer is moved to a worker thread, not copied), and the extras
 * of the rows that have any, by row index.
 */
export interface PatientTransfer {
  id: string;
  siteId: string | null;
  facts: PatientFacts;
  length: number;
  lastTime: number;
  block: ArrayBuffer;
  extras: Array<[number, Extra]>;
}

/** One patient's measurements for assessing, read from a PatientTransfer. */
export class PatientColumns {
  readonly id: string;
  readonly siteId: string | null;
  readonly #facts: PatientFacts;
  readonly length: number;
  readonly lastTime: number;
  readonly #block: Block;
  readonly #extras: Map<number, Extra> | undefined;

  constructor(patient: PatientTransfer) {
    this.id = patient.id;
    this.siteId = patient.siteId;
    this.#facts = patient.facts;
    this.length = patient.length;
    this.lastTime = patient.lastTime;
    this.#block = new Block(patient.length, patient.block);
    this.#extras = patient.extras.length === 0 ? undefined : new Map(patient.extras);
  }

  patientFacts(): PatientFacts {
    return { ...this.#facts };
  }

  /** The measurements as the engine reads them (canonical ISO instants, as the readers produce). */
  measurements(codes: readonly string[]): Measurement[] {
    const list: Measurement[] = [];
    const iso = new IsoFormatter();
    const block = this.#block;
    for (let r = 0; r < block.rows; r++) {
      const m: Measurement & { qualifiers?: MeasurementQualifiers } = {
        patientId: this.id,
        concept: codes[block.concept[r]!] as Concept,
        value: block.value[r]!,
        unit: codes[block.unit[r]!]!,
        time: iso.format(block.time[r]!),
      };
      const end = block.end[r]!;
      if (!Number.isNaN(end)) m.endTime = iso.format(end);
      const reportedUnit = block.reportedUnit[r]!;
      if (reportedUnit !== 0) m.reported = { value: block.reportedValue[r]!, unit: codes[reportedUnit - 1]! };
      const extra = this.#extras?.get(r);
      if (extra?.provenance !== undefined) m.provenance = extra.provenance;
      if (extra?.qualifiers !== undefined) m.qualifiers = extra.qualifiers;
      list.push(m);
    }
    return list;
  }
}

const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00Z: from there on (and before 1970) toISOString writes a signed 6-digit year. */
const YEAR_10000_MS = 253_402_300_800_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** Dates ("2026-01-05T") by day since 1970, and times of day ("08:30:00.000Z") by millisecond of the day. */
const isoDates = new Map<number, string>();
const isoTimes = new Map<number, string>();
/** Entries of either table past which it starts again (times of day repeat: a grid of minutes or seconds). */
const MAX_ISO_PARTS = 100_000;

/**
 * Date.prototype.toISOString of epoch milliseconds, four times as fast for a patient's times:
 * the date and the time of day are each formatted once (for every patient of the thread) and
 * joined into a flat string as toISOString's, and a time equal to the previous one (a panel, a
 * blood gas) is not joined again.
 * Outside 1970-9999 (and for NaN, which throws as toISOString does) it is toISOString itself.
 */
class IsoFormatter {
  #lastMs = Number.NaN;
  #lastText = '';

  format(ms: number): string {
    if (ms === this.#lastMs) return this.#lastText;
    let text: string;
    if (ms >= 0 && ms < YEAR_10000_MS && Number.isInteger(ms)) {
      const day = Math.floor(ms / DAY_MS);
      const timeOfDay = ms - day * DAY_MS;
      let date = isoDates.get(day);
      if (date === undefined) {
        if (isoDates.size >= MAX_ISO_PARTS) isoDates.clear();
        isoDates.set(day, (date = new Date(day * DAY_MS).toISOString().slice(0, 11)));
      }
      let time = isoTimes.get(timeOfDay);
      if (time === undefined) {
        if (isoTimes.size >= MAX_ISO_PARTS) isoTimes.clear();
        const hours = Math.floor(timeOfDay / 3_600_000);
        const minutes = Math.floor((timeOfDay - hours * 3_600_000) / 60_000);
        const millis = timeOfDay - hours * 3_600_000 - minutes * 60_000;
        const seconds = Math.floor(millis / 1000);
        isoTimes.set(timeOfDay, (time = `${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[millis - seconds * 1000]}Z`));
      }
      // Joined by join, not +: + makes a cons string, and the engine's code, compiled for the
      // flat strings toISOString returns, would be deoptimised over and over by the mix.
      text = [date, time].join('');
    } else text = new Date(ms).toISOString();
    this.#lastMs = ms;
    this.#lastText = text;
    return text;
  }
}

/**
 * What a measurement carries beyond numbers, when anything: its provenance when a result may
 * cite it (Sepsis-3 names the antibiotic and culture records, the immune class its biomarker
 * samples), and SOFA qualifiers.
 */
export function extraOf(m: SourceMeasurement, cite: boolean): Extra | undefined {
  const qualifiers = m.qualifiers !== undefined && Object.keys(m.qualifiers).length > 0 ? { ...m.qualifiers } : undefined;
  if (!cite && qualifiers === undefined) return undefined;
  return {
    ...(cite ? { provenance: { source: detach(m.provenance.source), recordId: detach(m.provenance.recordId) } } : {}),
    ...(qualifiers === undefined ? {} : { qualifiers }),
  };
}

/**
 * The measurements of a parsed chunk as columns, for the trip from a worker thread to the main
 * thread: one ArrayBuffer (moved, not copied) holding each row's patient (an index into
 * patientIds, uint32) and then the rows as a Block (at packedRows(...).blockOffset); patient
 * ids once per chunk; the extras sparse, by row. Codes index the sending worker's own Codes
 * table, whose new strings travel with the rows.
 */
export interface PackedRows {
  count: number;
  patientIds: string[];
  buffer: ArrayBuffer;
  extras: Array<[number, Extra]>;
}

/** Where the block of packed rows starts: after the patient column, at a multiple of 8. */
export function packedBlockOffset(count: number): number {
  return Math.ceil((count * 4) / 8) * 8;
}

export function packRows(measurements: readonly SourceMeasurement[], codes: Codes, cited: ReadonlySet<string>): PackedRows {
  const count = measurements.length;
  const offset = packedBlockOffset(count);
  const buffer = new ArrayBuffer(offset + count * ROW_BYTES);
  const patient = new Uint32Array(buffer, 0, count);
  const { value, reportedValue, time, end, concept, unit, reportedUnit } = new Block(count, buffer, offset);
  const packed: PackedRows = { count, patientIds: [], buffer, extras: [] };
  const patients = new Map<string, number>();
  // As PatientColumns stores them. Consecutive measurements mostly share the patient (exports
  // are grouped by patient), and often the concept, unit and time (a record's components): each
  // is looked up or parsed again only when it differs from the previous measurement's.
  let lastId: string | undefined;
  let lastPatient = 0;
  let lastConcept: string | undefined;
  let lastConceptCode = 0;
  let lastCited = false;
  let lastUnit: string | undefined;
  let lastUnitCode = 0;
  let lastTime: string | undefined;
  let lastTimeMs = 0;
  for (let i = 0; i < count; i++) {
    const m = measurements[i]!;
    if (m.patientId !== lastId) {
      lastId = m.patientId;
      let index = patients.get(lastId);
      if (index === undefined) {
        index = packed.patientIds.length;
        packed.patientIds.push(lastId);
        patients.set(lastId, index);
      }
      lastPatient = index;
    }
    patient[i] = lastPatient;
    if (m.concept !== lastConcept) {
      lastConcept = m.concept;
      lastConceptCode = codes.of(lastConcept);
      lastCited = cited.has(lastConcept);
    }
    concept[i] = lastConceptCode;
    if (m.unit !== lastUnit) {
      lastUnit = m.unit;
      lastUnitCode = codes.of(lastUnit);
    }
    unit[i] = lastUnitCode;
    value[i] = m.value;
    if (m.time !== lastTime) {
      lastTime = m.time;
      lastTimeMs = epochMs(lastTime);
    }
    time[i] = lastTimeMs;
    end[i] = m.endTime === undefined ? Number.NaN : epochMs(m.endTime);
    const reported = m.reported;
    if (reported !== undefined) {
      reportedUnit[i] = codes.of(reported.unit) + 1;
      reportedValue[i] = reported.value;
    }
    if (lastCited || m.qualifiers !== undefined) {
      const extra = extraOf(m, lastCited);
      if (extra !== undefined) packed.extras.push([i, extra]);
    }
  }
  return packed;
}

/**
 * Date.parse's value for a reader's time (canonical UTC ISO 8601, where parseInstant's digit by
 * digit reading gives the same number three times as fast); Date.parse itself for anything else.
 */
export function epochMs(time: string): number {
  return parseInstant(time) ?? Date.parse(time);
}

/**
 * A copy of a string that shares no memory with the text it was cut from: V8 may keep a
 * substring as a view of its parent, which would keep a whole chunk of input lines alive for
 * every patient id or record id held until the end.
 */
export function detach(text: string): string {
  if (text.length < 13) return text;
  // UTF-8 would turn a lone surrogate (JSON may spell one as "\ud800") into U+FFFD, and so two
  // different ids into one; such text takes the slower exact copy.
  return LONE_SURROGATE.test(text) ? (JSON.parse(JSON.stringify(text)) as string) : Buffer.from(text, 'utf8').toString('utf8');
}

/** With the u flag a surrogate pair is one code point: this matches only a surrogate on its own. */
const LONE_SURROGATE = /\p{Surrogate}/u;
