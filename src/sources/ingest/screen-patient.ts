/**
 * What the screen pipeline keeps of each patient and how it assesses one: measurements packed in
 * columns (PatientColumns), the shared string tables (Codes), and screenPatient. Used by the
 * in-process path (screen.ts) and by the worker threads (screen-worker.ts), which is why packed
 * rows and whole patients also have a plain, transferable form here (PackedRows, PatientTransfer):
 * both paths build the same columns from the same numbers, so they hand assessPatient the same
 * measurements.
 */
import { type PatientFacts, assessPatient } from '../../clinical/assessment.ts';
import type { ImmuneRuleSet } from '../../clinical/immune/types.ts';
import { parseInstant } from '../../clinical/instant.ts';
import type { MeasurementQualifiers } from '../../clinical/sofa/types.ts';
import type { Concept, IsoDateTime, Measurement, Provenance } from '../../clinical/types.ts';
import type { PatientRecord, SourceMeasurement } from '../import-format.ts';
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

  constructor(rows: number, buffer = new ArrayBuffer(rows * ROW_BYTES)) {
    this.rows = rows;
    this.buffer = buffer;
    this.value = new Float64Array(buffer, 0, rows);
    this.reportedValue = new Float64Array(buffer, rows * 8, rows);
    this.time = new Float64Array(buffer, rows * 16, rows);
    this.end = new Float64Array(buffer, rows * 24, rows);
    this.concept = new Uint16Array(buffer, rows * 32, rows);
    this.unit = new Uint16Array(buffer, rows * 34, rows);
    this.reportedUnit = new Uint16Array(buffer, rows * 36, rows);
  }
}

/** A patient's columns as a worker thread receives them (the buffers are transferred, not copied). */
export interface PatientTransfer {
  id: string;
  siteId: string | null;
  facts: PatientFacts;
  length: number;
  lastTime: number;
  blocks: ArrayBuffer[];
  used: number;
  extras: Array<[number, Extra]>;
}

/** One patient's measurements packed in blocks of typed arrays. */
export class PatientColumns {
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
    this.pushRow(
      codes.of(m.concept),
      codes.of(m.unit),
      m.reported === undefined ? 0 : codes.of(m.reported.unit) + 1,
      m.value,
      m.reported === undefined ? 0 : m.reported.value,
      epochMs(m.time),
      m.endTime === undefined ? Number.NaN : epochMs(m.endTime),
      extraOf(m, cite),
    );
  }

  /** A row in numbers (codes of this screen's Codes table); what push stores, from either path. */
  pushRow(concept: number, unit: number, reportedUnit: number, value: number, reportedValue: number, time: number, end: number, extra: Extra | undefined): void {
    let block = this.#blocks.at(-1);
    if (block === undefined || this.#used === block.rows) {
      block = new Block(BLOCK_ROWS[Math.min(this.#blocks.length, BLOCK_ROWS.length - 1)]!);
      this.#blocks.push(block);
      this.#used = 0;
    }
    const r = this.#used++;
    const i = this.length++;
    block.concept[r] = concept;
    block.unit[r] = unit;
    block.value[r] = value;
    block.time[r] = time;
    block.end[r] = end;
    if (reportedUnit !== 0) {
      block.reportedValue[r] = reportedValue;
      block.reportedUnit[r] = reportedUnit;
    }
    if (time > this.lastTime) this.lastTime = time;
    if (extra !== undefined) {
      this.#extras ??= new Map();
      this.#extras.set(i, extra);
    }
  }

  /** The measurements as the engine reads them (canonical ISO instants, as the readers produce). */
  measurements(codes: readonly string[]): Measurement[] {
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
          concept: codes[block.concept[r]!] as Concept,
          value: block.value[r]!,
          unit: codes[block.unit[r]!]!,
          time: iso(block.time[r]!),
        };
        const end = block.end[r]!;
        if (!Number.isNaN(end)) m.endTime = iso(end);
        const reportedUnit = block.reportedUnit[r]!;
        if (reportedUnit !== 0) m.reported = { value: block.reportedValue[r]!, unit: codes[reportedUnit - 1]! };
        const extra = this.#extras?.get(i);
        if (extra?.provenance !== undefined) m.provenance = extra.provenance;
        if (extra?.qualifiers !== undefined) m.qualifiers = extra.qualifiers;
        list.push(m);
      }
    }
    return list;
  }

  /** The columns for a worker thread: their buffers are moved, so this object is spent. */
  transfer(): { patient: PatientTransfer; buffers: ArrayBuffer[] } {
    const blocks = this.#blocks.map((block) => block.buffer);
    return {
      patient: {
        id: this.id,
        siteId: this.siteId,
        facts: this.#facts,
        length: this.length,
        lastTime: this.lastTime,
        blocks,
        used: this.#used,
        extras: this.#extras === undefined ? [] : [...this.#extras],
      },
      buffers: blocks,
    };
  }

  static fromTransfer(patient: PatientTransfer): PatientColumns {
    const columns = new PatientColumns(patient.id);
    columns.siteId = patient.siteId;
    columns.#facts = patient.facts;
    columns.length = patient.length;
    columns.lastTime = patient.lastTime;
    for (const buffer of patient.blocks) columns.#blocks.push(new Block(buffer.byteLength / ROW_BYTES, buffer));
    columns.#used = patient.used;
    if (patient.extras.length > 0) columns.#extras = new Map(patient.extras);
    return columns;
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
 * thread: typed arrays (moved, not copied), patient ids once per chunk, the extras sparse.
 * Codes index the sending worker's own Codes table, whose new strings travel with the rows.
 */
export interface PackedRows {
  count: number;
  patientIds: string[];
  /** Index into patientIds. */
  patient: Uint32Array;
  concept: Uint16Array;
  unit: Uint16Array;
  reportedUnit: Uint16Array;
  value: Float64Array;
  reportedValue: Float64Array;
  time: Float64Array;
  end: Float64Array;
  extras: Array<[number, Extra]>;
}

export function packRows(measurements: readonly SourceMeasurement[], codes: Codes, cited: ReadonlySet<string>): PackedRows {
  const count = measurements.length;
  const packed: PackedRows = {
    count,
    patientIds: [],
    patient: new Uint32Array(count),
    concept: new Uint16Array(count),
    unit: new Uint16Array(count),
    reportedUnit: new Uint16Array(count),
    value: new Float64Array(count),
    reportedValue: new Float64Array(count),
    time: new Float64Array(count),
    end: new Float64Array(count),
    extras: [],
  };
  const patients = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const m = measurements[i]!;
    let patient = patients.get(m.patientId);
    if (patient === undefined) {
      patient = packed.patientIds.length;
      packed.patientIds.push(m.patientId);
      patients.set(m.patientId, patient);
    }
    // As PatientColumns.push stores them.
    packed.patient[i] = patient;
    packed.concept[i] = codes.of(m.concept);
    packed.unit[i] = codes.of(m.unit);
    packed.value[i] = m.value;
    packed.time[i] = epochMs(m.time);
    packed.end[i] = m.endTime === undefined ? Number.NaN : epochMs(m.endTime);
    if (m.reported !== undefined) {
      packed.reportedUnit[i] = codes.of(m.reported.unit) + 1;
      packed.reportedValue[i] = m.reported.value;
    }
    const extra = extraOf(m, cited.has(m.concept));
    if (extra !== undefined) packed.extras.push([i, extra]);
  }
  return packed;
}

export function packedBuffers(packed: PackedRows): ArrayBuffer[] {
  return [packed.patient, packed.concept, packed.unit, packed.reportedUnit, packed.value, packed.reportedValue, packed.time, packed.end].map(
    (array) => array.buffer as ArrayBuffer,
  );
}

/**
 * Date.parse's value for a reader's time (canonical UTC ISO 8601, where parseInstant's digit by
 * digit reading gives the same number three times as fast); Date.parse itself for anything else.
 */
function epochMs(time: string): number {
  return parseInstant(time) ?? Date.parse(time);
}

/**
 * A copy of a string that shares no memory with the text it was cut from: V8 may keep a
 * substring as a view of its parent, which would keep a whole chunk of input lines alive for
 * every patient id or record id held until the end.
 */
export function detach(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}
