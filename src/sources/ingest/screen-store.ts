/**
 * Where the screen keeps the patients' measurements until every file is read (a FHIR Bulk Data
 * export holds each resource type in a file of its own, so no patient is complete before the
 * end), with memory bounded whatever the size of the input.
 *
 * Rows come in file order into a log of fixed size in memory (numbers only: patient, concept,
 * unit, values, times; the few extras a result may cite, such as an antibiotic's record id, go
 * as UTF-8 JSON into a byte log beside it, never as objects: a file of antibiotics or cultures
 * brings one per row, and holding them as objects cost the main thread tens of MB of heap on a
 * large extract). When the log is full (rows or extra bytes) it is sorted by patient (stably, so
 * each patient's rows keep their order) and written to a temporary file as one segment per
 * patient, and the log starts again: memory holds one log and one sorted copy of it (about 20 MB
 * by default, plus up to 8 MB of extras each), the file about 40 bytes a measurement. At the end
 * the last log is sorted in memory, and each patient, when its turn comes, is read back from its
 * segments into one block of columns (screen-patient.ts) and forgotten. An input whose
 * measurements fit in one log never touches the disk.
 *
 * The file is removed as soon as it is opened where the system allows it (so nothing is left
 * behind if the process is killed), else on close().
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PatientFacts } from '../../clinical/assessment.ts';
import type { PatientRecord, SourceMeasurement } from '../import-format.ts';
import { Block, type Codes, type Extra, type PackedRows, type PatientTransfer, ROW_BYTES, detach, epochMs, extraOf, packedBlockOffset } from './screen-patient.ts';

/** Measurements held in memory before the log goes to the file: 262,144 rows, 10 MiB. */
export const DEFAULT_MEMORY_ROWS = 1 << 18;

/** Bytes of extras (JSON) per row of the log's capacity held before the log goes to the file. */
const EXTRA_BYTES_PER_ROW = 32;

/**
 * What the store knows of each patient, by index, as columns (typed arrays, arrays of strings)
 * rather than an object each: a large extract has tens of thousands of patients, all held until
 * the end of the read. An object per patient, with its facts and an array of segments, cost
 * about 750 bytes; this about 300.
 */
class PatientTable {
  readonly ids: string[] = [];
  readonly siteIds: Array<string | null> = [];
  readonly birthDates: Array<string | null> = [];
  readonly sexes: Array<PatientFacts['sex']> = [];
  readonly deceasedAt: Array<string | null> = [];
  /** Rows so far, in the file and in memory. */
  length = new Float64Array(INITIAL_PATIENTS);
  lastTime = new Float64Array(INITIAL_PATIENTS);
  /** Rows in the sorted last log (after finish()), from byte `tailAt` of it, and the bytes of their extras after them. */
  tailAt = new Float64Array(INITIAL_PATIENTS);
  tailRows = new Float64Array(INITIAL_PATIENTS);
  tailExtraBytes = new Float64Array(INITIAL_PATIENTS);
  /** The first and the last of the patient's segments in the file (-1: none). */
  firstSegment = new Int32Array(INITIAL_PATIENTS);
  lastSegment = new Int32Array(INITIAL_PATIENTS);

  // The segments of the file, a list per patient: byte offset, rows, bytes of extras, next (-1: none).
  segmentOffset = new Float64Array(INITIAL_PATIENTS);
  segmentRows = new Uint32Array(INITIAL_PATIENTS);
  segmentExtraBytes = new Uint32Array(INITIAL_PATIENTS);
  segmentNext = new Int32Array(INITIAL_PATIENTS);
  segments = 0;

  get size(): number {
    return this.ids.length;
  }

  add(id: string): number {
    const index = this.ids.length;
    if (index === this.length.length) {
      const size = grownSize(index);
      this.length = grown(this.length, size);
      this.lastTime = grown(this.lastTime, size);
      this.tailAt = grown(this.tailAt, size);
      this.tailRows = grown(this.tailRows, size);
      this.tailExtraBytes = grown(this.tailExtraBytes, size);
      this.firstSegment = grown(this.firstSegment, size);
      this.lastSegment = grown(this.lastSegment, size);
    }
    this.ids.push(id);
    this.siteIds.push(null);
    this.birthDates.push(null);
    this.sexes.push(null);
    this.deceasedAt.push(null);
    this.length[index] = 0;
    this.lastTime[index] = Number.NEGATIVE_INFINITY;
    this.firstSegment[index] = -1;
    this.lastSegment[index] = -1;
    return index;
  }

  /** Appends a segment of the file to a patient's list. */
  addSegment(patient: number, offset: number, rows: number, extraBytes: number): void {
    const s = this.segments++;
    if (s === this.segmentOffset.length) {
      const size = grownSize(s);
      this.segmentOffset = grown(this.segmentOffset, size);
      this.segmentRows = grown(this.segmentRows, size);
      this.segmentExtraBytes = grown(this.segmentExtraBytes, size);
      this.segmentNext = grown(this.segmentNext, size);
    }
    this.segmentOffset[s] = offset;
    this.segmentRows[s] = rows;
    this.segmentExtraBytes[s] = extraBytes;
    this.segmentNext[s] = -1;
    const last = this.lastSegment[patient]!;
    if (last === -1) this.firstSegment[patient] = s;
    else this.segmentNext[last] = s;
    this.lastSegment[patient] = s;
  }
}

const INITIAL_PATIENTS = 1024;
/** Columns grow by half (not double): they are most of what the store holds per patient. */
const grownSize = (size: number): number => Math.ceil(size * 1.5) + INITIAL_PATIENTS;

function grown<T extends Float64Array | Int32Array | Uint32Array>(column: T, size: number): T {
  const next = new (column.constructor as new (size: number) => T)(size);
  next.set(column);
  return next;
}

/** The sexes a source states, each held as one string whatever text it came from. */
const SEXES: ReadonlyMap<string, NonNullable<PatientFacts['sex']>> = new Map(['female', 'male', 'other', 'unknown'].map((sex) => [sex, sex as NonNullable<PatientFacts['sex']>]));

const pad8 = (bytes: number): number => Math.ceil(bytes / 8) * 8;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

export class PatientStore {
  readonly #codes: Codes;
  readonly #capacity: number;
  readonly #dir: string;
  readonly #index = new Map<string, number>();
  readonly #patients = new PatientTable();
  /** Site ids, each held once. */
  readonly #sites = new Map<string, string>();

  // The log: rows in arrival order (let go at finish()).
  #patient: Uint32Array;
  #rows: Block;
  #used = 0;
  /**
   * Extras of the log's rows: each one's JSON in #extraLog (UTF-8) from byte #extraAt[r] - 1
   * (0: the row has none), #extraLength[r] bytes long.
   */
  #extraAt: Uint32Array;
  #extraLength: Uint32Array;
  #extraLog: Uint8Array;
  #extraUsed = 0;
  readonly #extraLimit: number;

  /** Sorting a log: each patient's place in the sorted log (-1: none). */
  #slot = new Int32Array(0);
  /** The sorted log: segments one after the other, each a Block at a multiple of 8 bytes. */
  #sorted: ArrayBuffer | undefined;

  #fd: number | undefined;
  #file: string | undefined;
  #fileBytes = 0;
  #finished = false;

  constructor(codes: Codes, options: { memoryRows?: number; dir?: string } = {}) {
    const capacity = options.memoryRows ?? DEFAULT_MEMORY_ROWS;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`the measurements kept in memory (memoryMeasurements) must be a whole number >= 1, got ${capacity}`);
    this.#codes = codes;
    this.#capacity = capacity;
    this.#dir = options.dir ?? os.tmpdir();
    this.#patient = new Uint32Array(capacity);
    this.#rows = new Block(capacity);
    this.#extraAt = new Uint32Array(capacity);
    this.#extraLength = new Uint32Array(capacity);
    this.#extraLimit = Math.max(4096, Math.min(capacity * EXTRA_BYTES_PER_ROW, 2 ** 31));
    this.#extraLog = new Uint8Array(0);
  }

  /** Patients seen (with measurements or a patient record). */
  get size(): number {
    return this.#patients.size;
  }

  /** Bytes written to the temporary file so far. */
  get spilledBytes(): number {
    return this.#fileBytes;
  }

  /** The index of a patient, added when new. */
  patient(id: string): number {
    let index = this.#index.get(id);
    if (index === undefined) {
      const own = detach(id);
      index = this.#patients.add(own);
      this.#index.set(own, index);
    }
    return index;
  }

  /** Demographics as a source states them; later records fill or replace what they state. */
  facts(record: PatientRecord): void {
    const p = this.patient(record.id);
    const patients = this.#patients;
    if (record.siteId !== undefined) {
      let site = this.#sites.get(record.siteId);
      if (site === undefined) this.#sites.set((site = detach(record.siteId)), site);
      patients.siteIds[p] = site;
    }
    if (record.birthDate !== undefined) patients.birthDates[p] = detach(record.birthDate);
    if (record.sex !== undefined) patients.sexes[p] = SEXES.get(record.sex) ?? record.sex;
    if (record.deceasedAt !== undefined) patients.deceasedAt[p] = detach(record.deceasedAt);
  }

  /** A measurement of the in-process read. */
  push(m: SourceMeasurement, cite: boolean): void {
    const codes = this.#codes;
    this.#row(
      this.patient(m.patientId),
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

  /** A worker's packed rows, with its codes translated by `codes` (its code -> this store's). */
  pushPacked(rows: PackedRows, codes: readonly number[]): void {
    const patients = rows.patientIds.map((id) => this.patient(id));
    const patient = new Uint32Array(rows.buffer, 0, rows.count);
    const block = new Block(rows.count, rows.buffer, packedBlockOffset(rows.count));
    let nextExtra = 0;
    for (let i = 0; i < rows.count; i++) {
      let extra: Extra | undefined;
      if (nextExtra < rows.extras.length && rows.extras[nextExtra]![0] === i) extra = rows.extras[nextExtra++]![1];
      const reportedUnit = block.reportedUnit[i]!;
      this.#row(
        patients[patient[i]!]!,
        codes[block.concept[i]!]!,
        codes[block.unit[i]!]!,
        reportedUnit === 0 ? 0 : codes[reportedUnit - 1]! + 1,
        block.value[i]!,
        block.reportedValue[i]!,
        block.time[i]!,
        block.end[i]!,
        extra,
      );
    }
  }

  #row(patient: number, concept: number, unit: number, reportedUnit: number, value: number, reportedValue: number, time: number, end: number, extra: Extra | undefined): void {
    if (this.#finished) throw new Error('PatientStore: a measurement after finish()');
    const r = this.#used++;
    const rows = this.#rows;
    this.#patient[r] = patient;
    rows.concept[r] = concept;
    rows.unit[r] = unit;
    rows.reportedUnit[r] = reportedUnit;
    rows.value[r] = value;
    rows.reportedValue[r] = reportedUnit === 0 ? 0 : reportedValue;
    rows.time[r] = time;
    rows.end[r] = end;
    const patients = this.#patients;
    if (time > patients.lastTime[patient]!) patients.lastTime[patient] = time;
    patients.length[patient] = patients.length[patient]! + 1;
    if (extra === undefined) this.#extraAt[r] = 0;
    else this.#extra(r, JSON.stringify(extra));
    if (this.#used === this.#capacity || this.#extraUsed >= this.#extraLimit) this.#spill();
  }

  /** Appends row `r`'s extra (JSON) to the byte log. */
  #extra(r: number, json: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const room = this.#extraUsed + json.length * 3;
    if (room > this.#extraLog.length) {
      const grown = new Uint8Array(Math.max(room, Math.min(this.#extraLimit + 1024, this.#extraLog.length * 2), 4096));
      grown.set(this.#extraLog.subarray(0, this.#extraUsed));
      this.#extraLog = grown;
    }
    const { written } = utf8Encoder.encodeInto(json, this.#extraLog.subarray(this.#extraUsed));
    this.#extraAt[r] = this.#extraUsed + 1;
    this.#extraLength[r] = written;
    this.#extraUsed += written;
  }

  /**
   * Sorts the log by patient into #sorted (a segment per patient: its rows as a Block at a
   * multiple of 8 bytes, then the extras of those rows, if any, as the UTF-8 JSON array
   * [[row, extra], ...] with rows counted from the segment's first); returns the patients in it,
   * in order of first row, with each one's segment start (bytes), rows and bytes of extras.
   */
  #sort(): { patients: number[]; offsets: number[]; counts: number[]; extraBytes: number[]; bytes: number } {
    const used = this.#used;
    const patientOf = this.#patient;
    const extraAt = this.#extraAt;
    const extraLength = this.#extraLength;
    if (this.#slot.length < this.#patients.size) this.#slot = new Int32Array(Math.max(this.#patients.size, this.#slot.length * 2)).fill(-1);
    const slot = this.#slot;
    const patients: number[] = [];
    const counts: number[] = [];
    // Each patient's extras as JSON: "[" + "[row," + extra + "]" joined by "," + "]".
    const extraBytes: number[] = [];
    for (let r = 0; r < used; r++) {
      const p = patientOf[r]!;
      let k = slot[p]!;
      if (k === -1) {
        k = slot[p] = patients.length;
        patients.push(p);
        counts.push(0);
        extraBytes.push(0);
      }
      const row = counts[k]!++;
      if (extraAt[r] !== 0) extraBytes[k] = (extraBytes[k] === 0 ? 2 : extraBytes[k]! + 1) + 3 + String(row).length + extraLength[r]!;
    }
    const offsets: number[] = [];
    let bytes = 0;
    for (let k = 0; k < patients.length; k++) {
      offsets.push(bytes);
      bytes += pad8(counts[k]! * ROW_BYTES) + pad8(extraBytes[k]!);
    }
    if (this.#sorted === undefined || this.#sorted.byteLength < bytes) this.#sorted = new ArrayBuffer(Math.max(bytes, pad8(this.#capacity * ROW_BYTES) + 8 * patients.length));
    const sorted = this.#sorted;
    // A stable counting sort: each row to the next free row of its patient's segment, with the
    // columns of segment k at float64 index f64[k] (value, reported value, start, end, each
    // counts[k] long) and uint16 index u16[k] (concept, unit, reported unit); its extras from
    // byte extraNext[k].
    const f64 = new Float64Array(patients.length);
    const u16 = new Float64Array(patients.length);
    const extraNext = new Float64Array(patients.length);
    const next = new Uint32Array(patients.length);
    for (let k = 0; k < patients.length; k++) {
      f64[k] = offsets[k]! / 8;
      u16[k] = (offsets[k]! + counts[k]! * 32) / 2;
      extraNext[k] = offsets[k]! + pad8(counts[k]! * ROW_BYTES);
    }
    const doubles = new Float64Array(sorted, 0, sorted.byteLength / 8);
    const shorts = new Uint16Array(sorted, 0, sorted.byteLength / 2);
    const bytesView = new Uint8Array(sorted);
    const extraLog = this.#extraLog;
    const rows = this.#rows;
    for (let r = 0; r < used; r++) {
      const k = slot[patientOf[r]!]!;
      const n = counts[k]!;
      const at = next[k]!++;
      const d = f64[k]! + at;
      doubles[d] = rows.value[r]!;
      doubles[d + n] = rows.reportedValue[r]!;
      doubles[d + 2 * n] = rows.time[r]!;
      doubles[d + 3 * n] = rows.end[r]!;
      const h = u16[k]! + at;
      shorts[h] = rows.concept[r]!;
      shorts[h + n] = rows.unit[r]!;
      shorts[h + 2 * n] = rows.reportedUnit[r]!;
      const from = extraAt[r]!;
      if (from !== 0) {
        let e = extraNext[k]!;
        const first = e === offsets[k]! + pad8(n * ROW_BYTES);
        e += utf8Encoder.encodeInto(`${first ? '[' : ','}[${at},`, bytesView.subarray(e)).written;
        bytesView.set(extraLog.subarray(from - 1, from - 1 + extraLength[r]!), e);
        e += extraLength[r]!;
        bytesView[e++] = RIGHT_BRACKET;
        extraNext[k] = e;
      }
    }
    for (let k = 0; k < patients.length; k++) {
      slot[patients[k]!] = -1;
      if (extraBytes[k]! > 0) bytesView[extraNext[k]!] = RIGHT_BRACKET;
    }
    return { patients, offsets, counts, extraBytes, bytes };
  }

  /** Writes the log to the file, sorted by patient, and empties it. */
  #spill(): void {
    const { patients, offsets, counts, extraBytes, bytes } = this.#sort();
    const base = this.#fileBytes;
    let written = 0;
    const view = new Uint8Array(this.#sorted!, 0, bytes);
    try {
      const fd = this.#open();
      while (written < bytes) written += fs.writeSync(fd, view, written, bytes - written, base + written);
    } catch (error) {
      throw new Error(
        `screen: cannot write the measurements that do not fit in memory to a temporary file in ${this.#dir} (${(error as Error).message}); give a directory with room for about 40 bytes a measurement (runScreen's tempDir, or TMPDIR)`,
        { cause: error },
      );
    }
    this.#fileBytes += bytes;
    for (const [k, p] of patients.entries()) this.#patients.addSegment(p, base + offsets[k]!, counts[k]!, extraBytes[k]!);
    this.#used = 0;
    this.#extraUsed = 0;
  }

  #open(): number {
    if (this.#fd !== undefined) return this.#fd;
    fs.mkdirSync(this.#dir, { recursive: true });
    const file = path.join(this.#dir, `immunoguide-screen-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}.tmp`);
    this.#fd = fs.openSync(file, 'wx+', 0o600);
    try {
      fs.unlinkSync(file);
    } catch {
      this.#file = file; // removed on close() instead
    }
    return this.#fd;
  }

  /** Ends the read: the patients, in id order, ready to be taken. */
  finish(): string[] {
    if (!this.#finished) {
      const { patients, offsets, counts, extraBytes } = this.#sort();
      const table = this.#patients;
      for (const [k, p] of patients.entries()) {
        table.tailAt[p] = offsets[k]!;
        table.tailRows[p] = counts[k]!;
        table.tailExtraBytes[p] = extraBytes[k]!;
      }
      this.#used = 0;
      this.#extraUsed = 0;
      this.#finished = true;
      this.#patient = new Uint32Array(0);
      this.#rows = new Block(0);
      this.#extraAt = new Uint32Array(0);
      this.#extraLength = new Uint32Array(0);
      this.#extraLog = new Uint8Array(0);
    }
    return [...this.#index.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** A patient's measurements in one block, read back from the file and memory; the store forgets them. */
  take(id: string): PatientTransfer {
    if (!this.#finished) throw new Error('PatientStore.take before finish()');
    const index = this.#index.get(id);
    if (index === undefined) throw new Error(`PatientStore: no patient ${id}`);
    const patients = this.#patients;
    const length = patients.length[index]!;
    const block = new Block(length);
    const extras: Array<[number, Extra]> = [];
    let at = 0;
    let scratch: ArrayBuffer | undefined;
    for (let s = patients.firstSegment[index]!; s !== -1; s = patients.segmentNext[s]!) {
      const offset = patients.segmentOffset[s]!;
      const rows = patients.segmentRows[s]!;
      const extraBytes = patients.segmentExtraBytes[s]!;
      const bytes = pad8(rows * ROW_BYTES) + extraBytes;
      if (scratch === undefined || scratch.byteLength < bytes) scratch = new ArrayBuffer(pad8(bytes));
      let read = 0;
      while (read < bytes) {
        const n = fs.readSync(this.#fd!, new Uint8Array(scratch, read, bytes - read), 0, bytes - read, offset + read);
        if (n === 0) throw new Error('PatientStore: the temporary file ended early');
        read += n;
      }
      block.copy(new Block(rows, scratch), at);
      readExtras(new Uint8Array(scratch, pad8(rows * ROW_BYTES), extraBytes), at, extras);
      at += rows;
    }
    const tailRows = patients.tailRows[index]!;
    if (tailRows > 0) {
      const tailAt = patients.tailAt[index]!;
      block.copy(new Block(tailRows, this.#sorted!, tailAt), at);
      readExtras(new Uint8Array(this.#sorted!, tailAt + pad8(tailRows * ROW_BYTES), patients.tailExtraBytes[index]!), at, extras);
    }
    const own = patients.ids[index]!;
    const transfer: PatientTransfer = {
      id: own,
      siteId: patients.siteIds[index]!,
      facts: { id: own, birthDate: patients.birthDates[index]!, sex: patients.sexes[index]!, deceasedAt: patients.deceasedAt[index]! },
      length,
      lastTime: patients.lastTime[index]!,
      block: block.buffer,
      extras,
    };
    // Forget the patient's measurements (its index stays).
    patients.firstSegment[index] = -1;
    patients.lastSegment[index] = -1;
    patients.tailRows[index] = 0;
    patients.tailExtraBytes[index] = 0;
    patients.length[index] = 0;
    return transfer;
  }

  /** Closes and removes the temporary file. */
  close(): void {
    if (this.#fd !== undefined) {
      fs.closeSync(this.#fd);
      this.#fd = undefined;
    }
    if (this.#file !== undefined) {
      fs.rmSync(this.#file, { force: true });
      this.#file = undefined;
    }
    this.#sorted = undefined;
  }
}

const RIGHT_BRACKET = 0x5d;

/** A segment's extras (the JSON array [[row, extra], ...], or no bytes), rows moved by `at`, appended to `into`. */
function readExtras(bytes: Uint8Array, at: number, into: Array<[number, Extra]>): void {
  if (bytes.length === 0) return;
  for (const [row, extra] of JSON.parse(utf8Decoder.decode(bytes)) as Array<[number, Extra]>) into.push([at + row, extra]);
}
