/**
 * Where the screen keeps the patients' measurements until every file is read (a FHIR Bulk Data
 * export holds each resource type in a file of its own, so no patient is complete before the
 * end), with memory bounded whatever the size of the input and the number of patients.
 *
 * Rows come in file order into a log of fixed size in memory (numbers only: patient, concept,
 * unit, values, times; the few extras a result may cite, such as an antibiotic's record id, go
 * as UTF-8 JSON into a byte log beside it, never as objects: a file of antibiotics or cultures
 * brings one per row, and holding them as objects cost the main thread tens of MB of heap on a
 * large extract). When the log is full (rows, extra bytes, or patients) it is sorted by patient
 * id (stably, so each patient's rows keep their order) and written to a temporary file as a
 * run: one segment per patient, then the run's directory (a line of JSON per patient, in id
 * order: id, where its segment is, the demographics its records stated). The log then starts
 * again, patients and all: memory holds one log and one sorted copy of it (about 20 MB by
 * default, plus up to 8 MB of extras each) and nothing per patient of earlier runs; the file
 * about 40 bytes a measurement.
 *
 * At the end the last log is sorted in memory as the last run, and the runs are merged by
 * patient id (reading each directory a few KB at a time): each patient, in id order, is read
 * back from its segments, in run order, into one block of columns (screen-patient.ts), its
 * demographics folded in the order they were stated. An input whose measurements fit in one log
 * never touches the disk.
 *
 * The file is removed as soon as it is opened where the system allows it (so nothing is left
 * behind if the process is killed), else on close().
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PatientFacts } from '../../clinical/assessment.ts';
import { Heap } from '../../clinical/sofa/heap.ts';
import type { PatientRecord, SourceMeasurement } from '../import-format.ts';
import { Block, type Codes, type Extra, type PackedRows, type PatientTransfer, ROW_BYTES, detach, epochMs, extraOf, packedBlockOffset } from './screen-patient.ts';

/** Measurements held in memory before the log goes to the file: 262,144 rows, 10 MiB. */
export const DEFAULT_MEMORY_ROWS = 1 << 18;

/** Bytes of extras (JSON) per row of the log's capacity held before the log goes to the file. */
const EXTRA_BYTES_PER_ROW = 32;

/**
 * Patients in one log at most (a file of Patient resources brings patients without
 * measurements, each with its demographics held until the log goes to the file).
 */
const MAX_LOG_PATIENTS = 16_384;

/** Bytes of a run's directory read at a time while merging. */
const DIRECTORY_READ_BYTES = 8 * 1024;

/** Demographics as a patient's records stated them (later statements fill or replace earlier ones). */
interface StatedFacts {
  siteId?: string;
  birthDate?: string;
  sex?: NonNullable<PatientFacts['sex']>;
  deceasedAt?: string;
}

/** A patient in a run: its segment (byte offset, rows, bytes of extras) and what its records stated. */
type DirectoryEntry = [id: string, offset: number, rows: number, extraBytes: number, facts?: StatedFacts];

/** A run in the file: where its directory is. */
interface Run {
  directoryAt: number;
  directoryBytes: number;
}

const pad8 = (bytes: number): number => Math.ceil(bytes / 8) * 8;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();
const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class PatientStore {
  readonly #codes: Codes;
  readonly #capacity: number;
  readonly #dir: string;
  readonly #maxPatients: number;

  // The log: its patients (index in the log -> id, demographics stated) and its rows in arrival order.
  #index = new Map<string, number>();
  /** Counts the logs (patient indexes are valid within one). */
  #logNumber = 0;
  #ids: string[] = [];
  #facts: Array<StatedFacts | undefined> = [];
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

  /** The sorted log: segments one after the other, each a Block at a multiple of 8 bytes. */
  #sorted: ArrayBuffer | undefined;

  readonly #runs: Run[] = [];
  #fd: number | undefined;
  #file: string | undefined;
  #fileBytes = 0;

  /** After finish(): the last log's directory (its segments are in #sorted), and the merge handing out patients. */
  #tail: DirectoryEntry[] | undefined;
  #merge: RunMerge | undefined;

  constructor(codes: Codes, options: { memoryRows?: number; dir?: string } = {}) {
    const capacity = options.memoryRows ?? DEFAULT_MEMORY_ROWS;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`the measurements kept in memory (memoryMeasurements) must be a whole number >= 1, got ${capacity}`);
    this.#codes = codes;
    this.#capacity = capacity;
    this.#maxPatients = Math.min(capacity, MAX_LOG_PATIENTS);
    this.#dir = options.dir ?? os.tmpdir();
    this.#patient = new Uint32Array(capacity);
    this.#rows = new Block(capacity);
    this.#extraAt = new Uint32Array(capacity);
    this.#extraLength = new Uint32Array(capacity);
    this.#extraLimit = Math.max(4096, Math.min(capacity * EXTRA_BYTES_PER_ROW, 2 ** 31));
    this.#extraLog = new Uint8Array(0);
  }

  /** Bytes written to the temporary file so far. */
  get spilledBytes(): number {
    return this.#fileBytes;
  }

  /** The index of a patient in the log, added when new. */
  #patientIndex(id: string): number {
    if (this.#tail !== undefined) throw new Error('PatientStore: a measurement or patient record after finish()');
    let index = this.#index.get(id);
    if (index === undefined) {
      if (this.#ids.length >= this.#maxPatients) this.#spill();
      index = this.#ids.length;
      const own = detach(id);
      this.#ids.push(own);
      this.#facts.push(undefined);
      this.#index.set(own, index);
    }
    return index;
  }

  /** Demographics as a source states them; later records fill or replace what they state. */
  facts(record: PatientRecord): void {
    const p = this.#patientIndex(record.id);
    const stated = this.#facts[p] ?? {};
    if (record.siteId !== undefined) stated.siteId = record.siteId;
    if (record.birthDate !== undefined) stated.birthDate = record.birthDate;
    if (record.sex !== undefined) stated.sex = record.sex;
    if (record.deceasedAt !== undefined) stated.deceasedAt = record.deceasedAt;
    this.#facts[p] = stated;
  }

  /** A measurement of the in-process read. */
  push(m: SourceMeasurement, cite: boolean): void {
    const codes = this.#codes;
    this.#row(
      this.#patientIndex(m.patientId),
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
    const patient = new Uint32Array(rows.buffer, 0, rows.count);
    const block = new Block(rows.count, rows.buffer, packedBlockOffset(rows.count));
    // The chunk's patients' indexes in the log, looked up once per log (a spill starts a new one).
    const indexes = new Int32Array(rows.patientIds.length);
    let log = -1;
    let nextExtra = 0;
    for (let i = 0; i < rows.count; i++) {
      let extra: Extra | undefined;
      if (nextExtra < rows.extras.length && rows.extras[nextExtra]![0] === i) extra = rows.extras[nextExtra++]![1];
      const reportedUnit = block.reportedUnit[i]!;
      if (log !== this.#logNumber) {
        indexes.fill(-1);
        log = this.#logNumber;
      }
      let index = indexes[patient[i]!]!;
      if (index === -1) {
        index = this.#patientIndex(rows.patientIds[patient[i]!]!);
        if (log !== this.#logNumber) {
          indexes.fill(-1);
          log = this.#logNumber;
        }
        indexes[patient[i]!] = index;
      }
      this.#row(
        index,
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

  /** A row of the log's patient `patient` (an index from #patientIndex, taken since the last spill). */
  #row(patient: number, concept: number, unit: number, reportedUnit: number, value: number, reportedValue: number, time: number, end: number, extra: Extra | undefined): void {
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
   * Sorts the log by patient id into #sorted (a segment per patient with rows: its rows as a
   * Block at a multiple of 8 bytes, then the extras of those rows, if any, as the UTF-8 JSON
   * array [[row, extra], ...] with rows counted from the segment's first); returns the log's
   * patients in id order with their segments (offsets from `base`), and the bytes used.
   */
  #sort(base: number): { directory: DirectoryEntry[]; bytes: number } {
    const used = this.#used;
    const patientOf = this.#patient;
    const extraAt = this.#extraAt;
    const extraLength = this.#extraLength;
    const count = this.#ids.length;
    const counts = new Uint32Array(count);
    // Each patient's extras as JSON: "[" + "[row," + extra + "]" joined by "," + "]".
    const extraBytes = new Float64Array(count);
    for (let r = 0; r < used; r++) {
      const p = patientOf[r]!;
      const row = counts[p]!++;
      if (extraAt[r] !== 0) extraBytes[p] = (extraBytes[p] === 0 ? 2 : extraBytes[p]! + 1) + 3 + String(row).length + extraLength[r]!;
    }
    const order = Array.from({ length: count }, (_, p) => p).sort((a, b) => byId(this.#ids[a]!, this.#ids[b]!));
    const offsets = new Float64Array(count);
    let bytes = 0;
    for (const p of order) {
      offsets[p] = bytes;
      bytes += pad8(counts[p]! * ROW_BYTES) + pad8(extraBytes[p]!);
    }
    if (this.#sorted === undefined || this.#sorted.byteLength < bytes) this.#sorted = new ArrayBuffer(Math.max(bytes, pad8(this.#capacity * ROW_BYTES) + 8 * this.#maxPatients));
    const sorted = this.#sorted;
    // A stable counting sort: each row to the next free row of its patient's segment, with the
    // columns of patient p's segment at float64 index f64[p] (value, reported value, start, end,
    // each counts[p] long) and uint16 index u16[p] (concept, unit, reported unit); its extras
    // from byte extraNext[p].
    const f64 = new Float64Array(count);
    const u16 = new Float64Array(count);
    const extraNext = new Float64Array(count);
    const next = new Uint32Array(count);
    for (let p = 0; p < count; p++) {
      f64[p] = offsets[p]! / 8;
      u16[p] = (offsets[p]! + counts[p]! * 32) / 2;
      extraNext[p] = offsets[p]! + pad8(counts[p]! * ROW_BYTES);
    }
    const doubles = new Float64Array(sorted, 0, sorted.byteLength / 8);
    const shorts = new Uint16Array(sorted, 0, sorted.byteLength / 2);
    const bytesView = new Uint8Array(sorted);
    const extraLog = this.#extraLog;
    const rows = this.#rows;
    for (let r = 0; r < used; r++) {
      const p = patientOf[r]!;
      const n = counts[p]!;
      const at = next[p]!++;
      const d = f64[p]! + at;
      doubles[d] = rows.value[r]!;
      doubles[d + n] = rows.reportedValue[r]!;
      doubles[d + 2 * n] = rows.time[r]!;
      doubles[d + 3 * n] = rows.end[r]!;
      const h = u16[p]! + at;
      shorts[h] = rows.concept[r]!;
      shorts[h + n] = rows.unit[r]!;
      shorts[h + 2 * n] = rows.reportedUnit[r]!;
      const from = extraAt[r]!;
      if (from !== 0) {
        let e = extraNext[p]!;
        const first = e === offsets[p]! + pad8(n * ROW_BYTES);
        e += utf8Encoder.encodeInto(`${first ? '[' : ','}[${at},`, bytesView.subarray(e)).written;
        bytesView.set(extraLog.subarray(from - 1, from - 1 + extraLength[r]!), e);
        e += extraLength[r]!;
        bytesView[e++] = RIGHT_BRACKET;
        extraNext[p] = e;
      }
    }
    const directory: DirectoryEntry[] = [];
    for (const p of order) {
      if (extraBytes[p]! > 0) bytesView[extraNext[p]!] = RIGHT_BRACKET;
      const entry: DirectoryEntry = [this.#ids[p]!, base + offsets[p]!, counts[p]!, extraBytes[p]!];
      const stated = this.#facts[p];
      if (stated !== undefined) entry.push(stated);
      directory.push(entry);
    }
    return { directory, bytes };
  }

  /** Empties the log, patients included. */
  #reset(): void {
    this.#logNumber++;
    this.#used = 0;
    this.#extraUsed = 0;
    this.#index = new Map();
    this.#ids = [];
    this.#facts = [];
  }

  /** Writes the log to the file as a run (segments sorted by patient id, then the directory) and empties it. */
  #spill(): void {
    if (this.#ids.length === 0) return;
    const base = this.#fileBytes;
    const { directory, bytes } = this.#sort(base);
    const text = directory.map((entry) => JSON.stringify(entry)).join('\n');
    const lines = Buffer.from(`${text}\n`, 'utf8');
    try {
      const fd = this.#open();
      writeAll(fd, new Uint8Array(this.#sorted!, 0, bytes), base);
      writeAll(fd, lines, base + bytes);
    } catch (error) {
      throw new Error(
        `screen: cannot write the measurements that do not fit in memory to a temporary file in ${this.#dir} (${(error as Error).message}); give a directory with room for about 40 bytes a measurement (runScreen's tempDir, or TMPDIR)`,
        { cause: error },
      );
    }
    this.#runs.push({ directoryAt: base + bytes, directoryBytes: lines.length });
    this.#fileBytes += bytes + lines.length;
    this.#reset();
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

  /**
   * Ends the read: sorts the last log in memory and returns the number of patients. They are
   * then handed out, in id order, by next().
   */
  finish(): number {
    if (this.#tail !== undefined) throw new Error('PatientStore.finish called twice');
    this.#tail = this.#sort(0).directory;
    this.#reset();
    this.#patient = new Uint32Array(0);
    this.#rows = new Block(0);
    this.#extraAt = new Uint32Array(0);
    this.#extraLength = new Uint32Array(0);
    this.#extraLog = new Uint8Array(0);
    // Counted by a merge of the directories alone.
    const counting = this.#startMerge();
    let patients = 0;
    while (counting.next() !== undefined) patients++;
    this.#merge = this.#startMerge();
    return patients;
  }

  #startMerge(): RunMerge {
    const sources: DirectorySource[] = this.#runs.map((run) => new FileDirectory(this.#fd!, run.directoryAt, run.directoryBytes));
    sources.push(new MemoryDirectory(this.#tail!));
    return new RunMerge(sources);
  }

  /** The next patient in id order with its measurements in one block (undefined after the last), read back from the file and memory. */
  next(): PatientTransfer | undefined {
    if (this.#merge === undefined) throw new Error('PatientStore.next before finish()');
    const entries = this.#merge.next();
    if (entries === undefined) return undefined;
    const id = entries[0]![1][0];
    let length = 0;
    for (const [, entry] of entries) length += entry[2];
    const block = new Block(length);
    const extras: Array<[number, Extra]> = [];
    const stated: StatedFacts = {};
    let at = 0;
    let scratch: ArrayBuffer | undefined;
    const tailRun = this.#runs.length;
    for (const [run, [, offset, rows, extraBytes, facts]] of entries) {
      if (facts !== undefined) Object.assign(stated, facts);
      if (rows === 0) continue;
      const bytes = pad8(rows * ROW_BYTES) + extraBytes;
      let buffer: ArrayBuffer;
      let from: number;
      if (run === tailRun) {
        buffer = this.#sorted!;
        from = offset;
      } else {
        if (scratch === undefined || scratch.byteLength < bytes) scratch = new ArrayBuffer(pad8(bytes));
        readAll(this.#fd!, new Uint8Array(scratch, 0, bytes), offset);
        buffer = scratch;
        from = 0;
      }
      block.copy(new Block(rows, buffer, from), at);
      readExtras(new Uint8Array(buffer, from + pad8(rows * ROW_BYTES), extraBytes), at, extras);
      at += rows;
    }
    let lastTime = Number.NEGATIVE_INFINITY;
    for (const time of block.time) if (time > lastTime) lastTime = time;
    return {
      id,
      siteId: stated.siteId ?? null,
      facts: { id, birthDate: stated.birthDate ?? null, sex: stated.sex ?? null, deceasedAt: stated.deceasedAt ?? null },
      length,
      lastTime,
      block: block.buffer,
      extras,
    };
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
    this.#merge = undefined;
  }
}

const RIGHT_BRACKET = 0x5d;
const NEWLINE = 0x0a;

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let written = 0;
  while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written, position + written);
}

function readAll(fd: number, into: Uint8Array, position: number): void {
  let read = 0;
  while (read < into.length) {
    const n = fs.readSync(fd, into, read, into.length - read, position + read);
    if (n === 0) throw new Error('PatientStore: the temporary file ended early');
    read += n;
  }
}

/** A segment's extras (the JSON array [[row, extra], ...], or no bytes), rows moved by `at`, appended to `into`. */
function readExtras(bytes: Uint8Array, at: number, into: Array<[number, Extra]>): void {
  if (bytes.length === 0) return;
  for (const [row, extra] of JSON.parse(utf8Decoder.decode(bytes)) as Array<[number, Extra]>) into.push([at + row, extra]);
}

// ---------------------------------------------------------------------------------------------
// Merging the runs

/** A run's directory, entry by entry in id order. */
interface DirectorySource {
  /** The current entry, undefined when read to the end. */
  readonly current: DirectoryEntry | undefined;
  advance(): void;
}

/** The directory of a run in memory (the last one). */
class MemoryDirectory implements DirectorySource {
  readonly #entries: DirectoryEntry[];
  #at = 0;

  constructor(entries: DirectoryEntry[]) {
    this.#entries = entries;
  }

  get current(): DirectoryEntry | undefined {
    return this.#entries[this.#at];
  }

  advance(): void {
    this.#at++;
  }
}

/** The directory of a run in the file (JSON lines), read DIRECTORY_READ_BYTES at a time. */
class FileDirectory implements DirectorySource {
  readonly #fd: number;
  #position: number;
  readonly #end: number;
  /** Bytes read and not yet parsed (a line cut by the end of a read). */
  #carry: Uint8Array = new Uint8Array(0);
  #lines: string[] = [];
  #at = 0;
  current: DirectoryEntry | undefined;

  constructor(fd: number, at: number, bytes: number) {
    this.#fd = fd;
    this.#position = at;
    this.#end = at + bytes;
    this.advance();
  }

  advance(): void {
    while (this.#at >= this.#lines.length && this.#position < this.#end) this.#read();
    const line = this.#lines[this.#at++];
    this.current = line === undefined ? undefined : (JSON.parse(line) as DirectoryEntry);
  }

  /** Reads the next piece of the directory and splits off its whole lines (a newline byte never occurs inside a UTF-8 character). */
  #read(): void {
    const size = Math.min(DIRECTORY_READ_BYTES, this.#end - this.#position);
    const bytes = new Uint8Array(this.#carry.length + size);
    bytes.set(this.#carry);
    readAll(this.#fd, bytes.subarray(this.#carry.length), this.#position);
    this.#position += size;
    const lastNewline = bytes.lastIndexOf(NEWLINE);
    this.#carry = bytes.slice(lastNewline + 1);
    this.#lines = lastNewline === -1 ? [] : utf8Decoder.decode(bytes.subarray(0, lastNewline)).split('\n');
    this.#at = 0;
  }
}

/**
 * The runs' directories merged by patient id: each call of next() gives the entries of the next
 * patient with their runs, in run order (a heap of the runs by their current id, then by run).
 */
class RunMerge {
  readonly #sources: DirectorySource[];
  /** Run indexes, the one whose current entry comes first on top. */
  readonly #heap: Heap<number>;

  constructor(sources: DirectorySource[]) {
    this.#sources = sources;
    this.#heap = new Heap<number>((a, b) => {
      const order = byId(sources[a]!.current![0], sources[b]!.current![0]);
      return order < 0 || (order === 0 && a < b);
    });
    for (const [run, source] of sources.entries()) if (source.current !== undefined) this.#heap.push(run);
  }

  next(): Array<[run: number, entry: DirectoryEntry]> | undefined {
    const first = this.#heap.peek();
    if (first === undefined) return undefined;
    const id = this.#sources[first]!.current![0];
    const entries: Array<[number, DirectoryEntry]> = [];
    for (let run = this.#heap.peek(); run !== undefined && this.#sources[run]!.current![0] === id; run = this.#heap.peek()) {
      this.#heap.pop();
      const source = this.#sources[run]!;
      entries.push([run, source.current!]);
      source.advance();
      if (source.current !== undefined) this.#heap.push(run);
    }
    return entries;
  }
}
