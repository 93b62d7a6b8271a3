/**
 * The screen pipeline on several threads (runScreen with `workers` > 1): the same result, byte
 * for byte, as the in-process path (runImport without a sink, then every patient assessed in
 * patient id order), with the parsing and the assessing spread over worker threads.
 *
 * Read: the file is cut into the chunks runImport reads (readLineChunks: 5,000 lines, line
 * numbers, header, oversized lines, gzip), each sent to the least busy worker, which parses it
 * with the same chunk parser and sends back the measurements packed in columns
 * (screen-patient.ts). Plain NDJSON and CSV files go as bytes, cut at the same line ends
 * (screen-chunks.ts), which the worker decodes and splits; the main thread then only finds line
 * ends. Gzip files, MIMIC-IV tables and chunks over 8 MiB go as the lines readLineChunks gives.
 * The main thread takes the results in chunk order, so issues, counts and each patient's
 * measurements come in file order, exactly as runImport hands them on; it holds at most a few
 * chunks per worker at a time.
 *
 * Parser state (what earlier records leave for later ones): the MIMIC-IV tables carry a lot of
 * it within and across tables (GCS groups, urine intervals, ICU admission times), so all their
 * chunks go, in order, to one worker with one plain state, as runImport reads them. FHIR and the
 * simple CSV carry little (FHIR: Devices, Medications, Specimens, weights); their chunks run in
 * parallel on state replicas, and the main thread checks each chunk's reads against the exact
 * state, in order, and parses again itself any chunk that read something an earlier chunk still
 * in flight changed (screen-state.ts). A FHIR JSON document, and the end of each file, are parsed
 * on the main thread with the exact state.
 *
 * Assess: patients, in id order, go in small batches to the workers (their column buffers are
 * moved, not copied); the results come back in any order and are handed on in id order.
 */
import fs from 'node:fs';
import type { Worker } from 'node:worker_threads';
import type { ImmuneRuleSet } from '../../clinical/immune/types.ts';
import type { ConceptDictionary, ConceptDictionaryData } from '../concepts/dictionary.ts';
import { parseFhirDocument } from '../fhir/parse.ts';
import {
  type ChunkFormat,
  type ImportFormat,
  type ImportIssue,
  type ParseResult,
  type PatientRecord,
  finishParse,
  parseChunk,
} from '../import-format.ts';
import { type FileFormat, type InputFile, discoverInputs } from './files.ts';
import { type LineChunk, isGzipFile, readLineChunks } from './lines.ts';
import type { ImportProgress, ImportSummary } from './run.ts';
import type { PatientScreen } from './screen.ts';
import { byteChunks, firstLineOf, recordsOfChunk } from './screen-chunks.ts';
import type { Codes, PackedRows, PatientTransfer } from './screen-patient.ts';
import { type StateLog, type SyncEntry, TrackedState, checkLog } from './screen-state.ts';
import type { PatientStore } from './screen-store.ts';
import { startBundledWorker } from './ts-worker.ts';

// ---------------------------------------------------------------------------------------------
// Messages between the main thread and the workers

export interface WorkerInit {
  dictionary: { data: ConceptDictionaryData; sources: readonly string[] };
  /** Concepts whose provenance results cite (kept with the measurement). */
  cited: string[];
  ruleSet: { ruleSetId: string } | { ruleSet: ImmuneRuleSet };
  sofaPreset: string;
  at?: string;
}

interface ParseWork {
  seq: number;
  family: string;
  /** Parsed on a state replica (logged, checked) rather than the worker's one plain state. */
  replicated: boolean;
  /** Changes of the state to apply to the replica first. */
  sync: SyncEntry[];
  format: ChunkFormat;
  fileName: string;
  source: string;
}

export type ToWorker =
  | (ParseWork & { type: 'parse'; lines: string[]; firstLineNumber: number; lineNumbers?: number[]; header?: string })
  | (ParseWork & {
      type: 'parse-bytes';
      /** Whole lines of a plain file (screen-chunks.ts), moved to the thread and sent back with the result. */
      bytes: ArrayBuffer;
      length: number;
      first: boolean;
      firstLine: number;
      lineCount: number;
      /** The file has a header line (CSV): the first chunk's first line, given to the others. */
      withHeader: boolean;
      header?: string;
    })
  | (ParseWork & { type: 'finish' })
  | { type: 'assess'; batch: number; patients: PatientTransfer[]; codes?: readonly string[] };

export interface ParsedChunk {
  type: 'parsed';
  seq: number;
  records: number;
  rejected: number;
  skipped: number;
  issues: ImportIssue[];
  unmapped: Array<[string, number]>;
  patients: PatientRecord[];
  rows: PackedRows;
  /** Strings added to the worker's Codes table since its previous message. */
  newCodes: string[];
  log?: StateLog;
  /** The bytes of a 'parse-bytes' chunk, back. */
  bytes?: ArrayBuffer;
}

export type ToMain =
  | ParsedChunk
  | {
      type: 'assessed';
      batch: number;
      results: PatientScreen[];
      /** The worker's V8 heap (total_heap_size) after the batch, for recycling (ScreenPool.assess). */
      heapBytes: number;
    };

// ---------------------------------------------------------------------------------------------
// The pool

/** Mirrors of runImport's defaults (src/sources/ingest/run.ts). */
const MAX_UNMAPPED_CODES = 10_000;
const DEFAULT_CHUNK_RECORDS = 5000;
const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;
/** Work sent to one worker and not answered yet: enough to keep it busy while the main thread reads. */
const IN_FLIGHT_PER_WORKER = 3;
/** Byte chunk buffers are made in multiples of this. */
const CHUNK_BUFFER_STEP = 1024 * 1024;
/** Patients per assessment message. */
const ASSESS_BATCH = 8;
/**
 * A worker whose V8 heap has grown past this while assessing is replaced by a fresh one (once
 * its batches in flight are answered). V8 lets a heap grow to several times what it holds
 * live (here about 40 MB) before collecting, and keeps it: on a 2 GB extract each worker's heap
 * had reached 130 MB by the end, and the process 500-570 MB. A fresh thread costs about 0.1 s.
 */
const RECYCLE_HEAP_BYTES = 96 * 1024 * 1024;

interface PoolWorker {
  index: number;
  thread: Worker;
  /** Requests sent and not answered. */
  busy: number;
  /** Gets no more work (its heap grew too large); replaced once its work is answered. */
  draining: boolean;
  /** Stopped on purpose (its exit is not a failure). */
  retiring: boolean;
  /** This worker's code index -> the main thread's. */
  codes: number[];
  /** State changes it has not been sent yet, by family. */
  sync: Map<string, SyncEntry[]>;
  sentCodes: boolean;
}

export class ScreenPool {
  readonly workers: PoolWorker[];
  readonly #init: WorkerInit;
  readonly #codes: Codes;
  readonly #parsed = new Map<number, { resolve: (chunk: ParsedChunk) => void; reject: (error: Error) => void }>();
  #onAssessed: ((worker: PoolWorker, batch: number, results: PatientScreen[], heapBytes: number) => void) | undefined;
  #failure: Error | undefined;
  #closing = false;
  /** Rejects the assessment in progress when a worker fails. */
  #failAssessment: ((error: Error) => void) | undefined;

  constructor(count: number, init: WorkerInit, codes: Codes) {
    this.#init = init;
    this.#codes = codes;
    this.workers = [];
    for (let index = 0; index < count; index++) this.workers.push(this.#spawn(index));
  }

  #spawn(index: number): PoolWorker {
    const thread = startBundledWorker(new URL('./screen-worker.ts', import.meta.url), { workerData: this.#init });
    const worker: PoolWorker = { index, thread, busy: 0, draining: false, retiring: false, codes: [], sync: new Map(), sentCodes: false };
    thread.on('message', (message: ToMain) => {
      worker.busy--;
      try {
        this.#receive(worker, message);
      } catch (error) {
        this.#fail(error as Error);
      }
    });
    thread.on('error', (error) => this.#fail(error));
    thread.on('exit', (code) => {
      if (!this.#closing && !worker.retiring) this.#fail(new Error(`a screen worker thread stopped (exit code ${code})`));
    });
    return worker;
  }

  /** A fresh worker in place of `worker`, which must have no work outstanding (assessment only: the parser state is not carried over). */
  #replace(worker: PoolWorker): PoolWorker {
    worker.retiring = true;
    void worker.thread.terminate();
    const fresh = this.#spawn(worker.index);
    this.workers[worker.index] = fresh;
    return fresh;
  }

  #receive(worker: PoolWorker, message: ToMain): void {
    if (message.type === 'assessed') {
      this.#onAssessed?.(worker, message.batch, message.results, message.heapBytes);
      return;
    }
    // Codes are translated as messages arrive: a worker's new strings come in sending order.
    for (const text of message.newCodes) worker.codes.push(this.#codes.of(text));
    const waiting = this.#parsed.get(message.seq);
    this.#parsed.delete(message.seq);
    waiting?.resolve(message);
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    for (const { reject } of this.#parsed.values()) reject(error);
    this.#parsed.clear();
    this.#failAssessment?.(error);
  }

  /** The worker with the least work outstanding. */
  leastBusy(): PoolWorker {
    let best = this.workers[0]!;
    for (const worker of this.workers) if (worker.busy < best.busy) best = worker;
    return best;
  }

  parse(worker: PoolWorker, message: ToWorker & { type: 'parse' | 'parse-bytes' | 'finish' }, transfer: ArrayBuffer[] = []): Promise<ParsedChunk> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const pending = worker.sync.get(message.family);
    if (pending !== undefined && pending.length > 0) {
      message.sync = pending;
      worker.sync.set(message.family, []);
    }
    const result = new Promise<ParsedChunk>((resolve, reject) => this.#parsed.set(message.seq, { resolve, reject }));
    // Awaited in order later; a failure before then must not count as unhandled.
    result.catch(() => {});
    worker.busy++;
    worker.thread.postMessage(message, transfer);
    return result;
  }

  /** Queues state changes for workers (all but `except`). */
  share(family: string, entries: readonly SyncEntry[], except?: PoolWorker): void {
    if (entries.length === 0) return;
    for (const worker of this.workers) {
      if (worker === except) continue;
      let pending = worker.sync.get(family);
      if (pending === undefined) worker.sync.set(family, (pending = []));
      for (const entry of entries) pending.push(entry);
    }
  }

  /**
   * Assesses `count` patients on the workers, in the order `take` hands them over (with their
   * measurements); `emit` gets each result in that order.
   */
  async assess(
    count: number,
    take: () => PatientTransfer,
    codes: readonly string[],
    emit: (result: PatientScreen) => void,
    options: { recycleHeapBytes?: number } = {},
  ): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    const recycleAt = options.recycleHeapBytes ?? RECYCLE_HEAP_BYTES;
    const batches = Math.ceil(count / ASSESS_BATCH);
    // The reading threads hold the parser states and the garbage of parsing: fresh ones assess.
    if (batches > 0) for (const worker of [...this.workers]) if (worker.busy === 0) this.#replace(worker);
    const done = new Map<number, PatientScreen[]>();
    let sent = 0;
    let emitted = 0;
    await new Promise<void>((resolve, reject) => {
      this.#failAssessment = reject;
      const send = (worker: PoolWorker): void => {
        if (sent >= batches || worker.draining) return;
        const batch = sent++;
        const patients: PatientTransfer[] = [];
        const buffers: ArrayBuffer[] = [];
        for (let i = batch * ASSESS_BATCH; i < Math.min(count, (batch + 1) * ASSESS_BATCH); i++) {
          const patient = take();
          patients.push(patient);
          buffers.push(patient.block);
        }
        const message: ToWorker = { type: 'assess', batch, patients, ...(worker.sentCodes ? {} : { codes }) };
        worker.sentCodes = true;
        worker.busy++;
        worker.thread.postMessage(message, buffers);
      };
      this.#onAssessed = (worker, batch, results, heapBytes) => {
        done.set(batch, results);
        try {
          for (let next = done.get(emitted); next !== undefined; next = done.get(emitted)) {
            done.delete(emitted);
            emitted++;
            for (const result of next) emit(result);
          }
          // A worker whose heap grew too large gets no more work and, once its work is
          // answered, makes way for a fresh one.
          if (heapBytes > recycleAt) worker.draining = true;
          if (!worker.draining) send(worker);
          else if (worker.busy === 0 && !worker.retiring && sent < batches) {
            const fresh = this.#replace(worker);
            for (let round = 0; round < IN_FLIGHT_PER_WORKER - 1; round++) send(fresh);
          }
          if (emitted === batches) resolve();
        } catch (error) {
          reject(error as Error);
        }
      };
      if (batches === 0) resolve();
      else for (let round = 0; round < IN_FLIGHT_PER_WORKER - 1; round++) for (const worker of this.workers) send(worker);
    });
    this.#onAssessed = undefined;
    this.#failAssessment = undefined;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(this.workers.map((worker) => worker.thread.terminate()));
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface ParallelReadOptions {
  format?: ImportFormat;
  dictionary: ConceptDictionary;
  maxIssues?: number;
  chunkRecords?: number;
  onIssue?: (issue: ImportIssue) => void;
  onProgress?: (progress: ImportProgress) => void;
  now: () => number;
  /** Where each patient's measurements and records go. */
  store: PatientStore;
  cited: ReadonlySet<string>;
}

/** One step of the read, taken in order on the main thread. */
interface Step {
  /** Work that runs on a worker (a chunk, the end of a MIMIC-IV table): its answer. */
  answer?: Promise<ParsedChunk>;
  take(answer: ParsedChunk | undefined): Promise<void> | void;
}

/**
 * runImport without a sink, on the pool: the same files, chunks, issues, counts and summary, and
 * each patient's records and measurements handed to `patientOf` in the same order.
 */
export async function readParallel(paths: readonly string[], pool: ScreenPool, options: ParallelReadOptions): Promise<ImportSummary> {
  const now = options.now;
  const started = now();
  const files = discoverInputs(paths, options.format);
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  const maxIssues = options.maxIssues ?? 10_000;
  const summary: ImportSummary = {
    ok: true,
    files: [],
    records: 0,
    measurements: 0,
    inserted: 0,
    duplicates: 0,
    patients: 0,
    rejected: 0,
    skipped: 0,
    errors: 0,
    warnings: 0,
    issues: [],
    issuesOmitted: 0,
    unmapped: [],
    elapsedMs: 0,
    recordsPerSecond: 0,
  };
  const unmapped = new Map<string, number>();
  /** The exact state of each family read in parallel; the MIMIC-IV tables' lives in one worker. */
  const exact = new Map<string, TrackedState>();
  const exactOf = (family: string): TrackedState => {
    let state = exact.get(family);
    if (state === undefined) exact.set(family, (state = new TrackedState()));
    return state;
  };
  /** Chunks a worker parsed whose reads did not check out, parsed again here. */
  const redone = new Set<number>();
  const stickyWorker = pool.workers[0]!;
  /**
   * Buffers of byte chunks, back from the threads, for the next chunks: allocating one for each
   * chunk would make the garbage collectors of every thread run for the memory outside their
   * heaps. Sized to the chunk in steps of 1 MiB (most chunks are far below CHUNK_CHARS); one that
   * is too small is let go when a larger one is made, so there are never more than chunks in
   * flight.
   */
  const chunkBuffers: ArrayBuffer[] = [];
  const chunkBuffer = (size: number): ArrayBuffer => {
    const fits = chunkBuffers.findIndex((buffer) => buffer.byteLength >= size);
    if (fits !== -1) return chunkBuffers.splice(fits, 1)[0]!;
    chunkBuffers.pop();
    return new ArrayBuffer(Math.ceil(Math.max(size, 1) / CHUNK_BUFFER_STEP) * CHUNK_BUFFER_STEP);
  };
  let seq = 0;

  const report = (issue: ImportIssue): void => {
    if (issue.severity === 'error') summary.errors++;
    else summary.warnings++;
    if (summary.issues.length < maxIssues) summary.issues.push(issue);
    else summary.issuesOmitted++;
    options.onIssue?.(issue);
  };

  /** What runImport's absorb and onMeasurements do with a chunk's result. */
  const absorb = (fileSummary: FileSummaryLike, result: ResultCounts, measurements: number): void => {
    fileSummary.records += result.records;
    fileSummary.measurements += measurements;
    fileSummary.rejected += result.rejected;
    fileSummary.skipped += result.skipped;
    summary.records += result.records;
    summary.measurements += measurements;
    summary.patients += result.patients.length;
    summary.rejected += result.rejected;
    summary.skipped += result.skipped;
    for (const issue of result.issues) report(issue);
    for (const [code, count] of result.unmapped) {
      const key = unmapped.has(code) || unmapped.size < MAX_UNMAPPED_CODES ? code : '(other)';
      unmapped.set(key, (unmapped.get(key) ?? 0) + count);
    }
    for (const record of result.patients) options.store.facts(record);
  };

  const absorbParsed = (fileSummary: FileSummaryLike, result: ParseResult): void => {
    absorb(fileSummary, result, result.measurements.length);
    for (const m of result.measurements) options.store.push(m, options.cited.has(m.concept));
  };

  const absorbPacked = (fileSummary: FileSummaryLike, chunk: ParsedChunk, worker: PoolWorker): void => {
    absorb(fileSummary, chunk, chunk.rows.count);
    options.store.pushPacked(chunk.rows, worker.codes);
  };

  /**
   * Parses on the main thread with the exact state, and queues what it changed for the workers.
   * Returns the result and the keys changed.
   */
  const parseHere = (family: string, stepSeq: number, parse: (state: TrackedState) => ParseResult): { result: ParseResult; changed: Set<string> } => {
    const state = exactOf(family);
    state.begin();
    let result: ParseResult;
    try {
      result = parse(state);
    } catch (error) {
      state.end(stepSeq, false);
      throw error;
    }
    const log = state.end(stepSeq, false);
    pool.share(
      family,
      log.changes.map(([key, value]): SyncEntry => [key, value, stepSeq, stepSeq]),
    );
    return { result, changed: new Set(log.changes.map(([key]) => key)) };
  };

  /** A worker's chunk of a replicated family, checked against the exact state (or parsed again). */
  const settle = (family: string, worker: PoolWorker, chunk: ParsedChunk, reparse: (state: TrackedState) => ParseResult): ParsedChunk | ParseResult => {
    const state = exactOf(family);
    const log = chunk.log!;
    if (checkLog(log, state, redone)) {
      for (const [key, value] of log.changes) state.put(key, value, chunk.seq);
      pool.share(
        family,
        log.changes.map(([key, value]): SyncEntry => [key, value, chunk.seq, chunk.seq]),
        worker,
      );
      return chunk;
    }
    redone.add(chunk.seq);
    const { result, changed } = parseHere(family, chunk.seq, reparse);
    // The worker's own speculative changes that the exact parse did not make: undone in its replica.
    const undo: SyncEntry[] = log.changes
      .filter(([key]) => !changed.has(key))
      .map(([key]): SyncEntry => [key, state.value(key), state.version(key), chunk.seq]);
    if (undo.length > 0) {
      let pending = worker.sync.get(family);
      if (pending === undefined) worker.sync.set(family, (pending = []));
      for (const entry of undo) pending.push(entry);
    }
    return result;
  };

  const steps: Step[] = [];
  const inFlight = IN_FLIGHT_PER_WORKER * pool.workers.length;
  const takeNext = async (): Promise<void> => {
    const step = steps.shift()!;
    await step.take(step.answer === undefined ? undefined : await step.answer);
  };
  const push = async (step: Step): Promise<void> => {
    steps.push(step);
    while (steps.length > inFlight) await takeNext();
  };

  let bytesBefore = 0;
  for (const [fileIndex, file] of files.entries()) {
    const family = familyOf(file);
    const source = family;
    const replicated = family !== 'mimic-iv';
    const fileSummary: FileSummaryLike & ImportSummary['files'][number] = {
      path: file.path,
      format: file.format,
      records: 0,
      measurements: 0,
      inserted: 0,
      rejected: 0,
      skipped: 0,
      resumedAfterLine: 0,
      alreadyImported: false,
    };
    summary.files.push(fileSummary);
    const fileBytesBefore = bytesBefore;
    bytesBefore += file.size;
    const progress = (bytesRead: number): void => {
      options.onProgress?.({
        file: file.path,
        fileIndex,
        fileCount: files.length,
        bytesRead: fileBytesBefore + bytesRead,
        totalBytes,
        records: summary.records,
        measurements: summary.measurements,
        inserted: 0,
        elapsedMs: now() - started,
      });
    };
    const base = { fileName: file.path, source };

    if (file.format === 'fhir-document') {
      const stepSeq = seq++;
      await push({
        take: async () => {
          if (file.size > MAX_DOCUMENT_BYTES) {
            report({
              severity: 'error',
              code: 'too-long',
              diagnostics: `a FHIR JSON document of ${file.size} bytes is above the ${MAX_DOCUMENT_BYTES}-byte limit: export it as NDJSON (one resource per line) instead`,
              location: ['line 1'],
              file: file.path,
            });
            fileSummary.rejected++;
            summary.rejected++;
          } else {
            const text = await fs.promises.readFile(file.path, 'utf8');
            const { result } = parseHere(family, stepSeq, (state) => parseFhirDocument(text, { ...base, firstLineNumber: 1, dictionary: options.dictionary, state }));
            absorbParsed(fileSummary, result);
          }
          progress(file.size);
        },
      });
      continue;
    }

    const format = file.format;
    const chunkRecords = options.chunkRecords ?? DEFAULT_CHUNK_RECORDS;
    const withHeader = format !== 'fhir';
    let header: string | undefined;
    let lastBytes = 0;
    // When most chunks of this file fail their check (records that depend on records a few
    // lines before, all through the file), the rest goes to one thread: its copy of the state
    // then has every earlier chunk's changes. A chunk it parsed that still fails (its copy
    // missed a change of another thread) leaves wrong values in that copy for the chunks sent
    // after it: those are taken first, so that the next chunk carries the corrections.
    const checks = { done: 0, failed: 0 };
    let pinned: PoolWorker | undefined;
    let resync = false;
    const workerFor = async (): Promise<PoolWorker> => {
      if (!replicated) return stickyWorker;
      if (pinned === undefined && checks.done >= 8 && checks.failed * 2 >= checks.done) pinned = pool.leastBusy();
      if (resync) {
        while (steps.length > 0) await takeNext();
        resync = false;
      }
      return pinned ?? pool.leastBusy();
    };
    /** A chunk parsed by `worker`: checked (replicated families), then taken as runImport does. */
    const takeChunk = (worker: PoolWorker, parsed: ParsedChunk, oversized: LineChunk['oversized'], bytesRead: number, reparse: (state: TrackedState) => ParseResult): void => {
      let result: ParsedChunk | ParseResult = parsed;
      if (replicated) {
        result = settle(family, worker, parsed, reparse);
        checks.done++;
        if (result !== parsed) {
          checks.failed++;
          if (pinned !== undefined) resync = true;
        }
      }
      for (const dropped of oversized) {
        result.records++;
        result.rejected++;
        result.issues.push({
          severity: 'error',
          code: 'too-long',
          diagnostics: `the line is ${dropped.bytes} bytes long, above the limit: skipped`,
          location: [`line ${dropped.lineNumber}`],
          file: file.path,
        });
      }
      if ('rows' in result) absorbPacked(fileSummary, result, worker);
      else absorbParsed(fileSummary, result);
      progress(bytesRead);
    };

    // Plain NDJSON and CSV files go to the threads as bytes (screen-chunks.ts), up to the end or
    // to a chunk too large for that; the rest as lines read here.
    let skip = 0;
    if (replicated && Number.isInteger(chunkRecords) && chunkRecords >= 1 && !isGzipFile(file.path)) {
      const chunks = byteChunks(file.path, chunkRecords, chunkBuffer);
      let next = await chunks.next();
      while (next.done !== true) {
        const chunk = next.value;
        if (chunk.first && withHeader) header = firstLineOf(chunk);
        const chunkHeader = chunk.first ? undefined : header;
        const stepSeq = seq++;
        const worker = await workerFor();
        const { length, first, firstLine, lines: lineCount, end } = chunk;
        const answer = pool.parse(
          worker,
          {
            type: 'parse-bytes',
            seq: stepSeq,
            family,
            replicated,
            sync: [],
            format,
            ...base,
            bytes: chunk.bytes,
            length,
            first,
            firstLine,
            lineCount,
            withHeader,
            ...(chunkHeader === undefined ? {} : { header: chunkHeader }),
          },
          [chunk.bytes],
        );
        await push({
          answer,
          take: (parsed) => {
            // The thread sends the bytes back with its result: to parse the chunk again here
            // if need be, then for a later chunk.
            const bytes = parsed!.bytes!;
            takeChunk(worker, parsed!, [], end, (state) => {
              const records = recordsOfChunk({ bytes, length, first, firstLine, lines: lineCount }, withHeader, chunkHeader);
              const context = { ...base, dictionary: options.dictionary, state, firstLineNumber: records.firstLineNumber, lineNumbers: records.lineNumbers };
              return parseChunk(format, records.lines, records.header === undefined ? context : { ...context, header: records.header });
            });
            chunkBuffers.push(bytes);
          },
        });
        lastBytes = end;
        next = await chunks.next();
      }
      skip = next.value ?? Number.POSITIVE_INFINITY;
    }
    if (skip !== Number.POSITIVE_INFINITY) {
      let chunkIndex = 0;
      for await (const chunk of readLineChunks(file.path, { csvQuotes: format.startsWith('mimic-iv:'), chunkRecords })) {
        // Chunks already sent as bytes: the same chunks, line for line.
        if (chunkIndex++ < skip) continue;
        lastBytes = chunk.bytesRead;
        let lines = chunk.lines;
        let lineNumbers = chunk.lineNumbers;
        if (withHeader && header === undefined && lines.length > 0) {
          header = lines[0];
          lines = lines.slice(1);
          lineNumbers = lineNumbers.slice(1);
        }
        const firstLineNumber = lineNumbers[0] ?? chunk.lastLineNumber;
        const chunkHeader = header;
        const stepSeq = seq++;
        const worker = await workerFor();
        const consecutive = lineNumbers.every((n, i) => n === firstLineNumber + i);
        const answer = pool.parse(worker, {
          type: 'parse',
          seq: stepSeq,
          family,
          replicated,
          sync: [],
          format,
          ...base,
          lines,
          firstLineNumber,
          ...(consecutive ? {} : { lineNumbers }),
          ...(chunkHeader === undefined ? {} : { header: chunkHeader }),
        });
        const { oversized, bytesRead } = chunk;
        await push({
          answer,
          take: (parsed) =>
            takeChunk(worker, parsed!, oversized, bytesRead, (state) =>
              parseChunk(format, lines, { ...base, dictionary: options.dictionary, state, firstLineNumber, lineNumbers, ...(chunkHeader === undefined ? {} : { header: chunkHeader }) }),
            ),
        });
      }
    }

    // The end of the file: runImport's empty-file warning, then what the parser still holds.
    const empty = header === undefined && format !== 'fhir';
    const stepSeq = seq++;
    const endBytes = lastBytes;
    const warnEmpty = (): void => {
      if (empty) report({ severity: 'warning', code: 'required', diagnostics: 'the file is empty (no header line)', location: ['line 1'], file: file.path });
    };
    if (replicated) {
      await push({
        take: () => {
          warnEmpty();
          absorbParsed(
            fileSummary,
            parseHere(family, stepSeq, (state) => finishParse(format, { ...base, firstLineNumber: 1, dictionary: options.dictionary, state })).result,
          );
          progress(endBytes);
        },
      });
    } else {
      const answer = pool.parse(stickyWorker, { type: 'finish', seq: stepSeq, family, replicated, sync: [], format, ...base });
      await push({
        answer,
        take: (parsed) => {
          warnEmpty();
          absorbPacked(fileSummary, parsed!, stickyWorker);
          progress(endBytes);
        },
      });
    }
  }
  while (steps.length > 0) await takeNext();

  summary.unmapped = [...unmapped.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 50)
    .map(([code, count]) => ({ code, count }));
  summary.elapsedMs = Math.round(now() - started);
  summary.recordsPerSecond = summary.elapsedMs > 0 ? Math.round((summary.records * 1000) / summary.elapsedMs) : 0;
  summary.ok = summary.errors === 0;
  return summary;
}

interface FileSummaryLike {
  path: string;
  format: FileFormat;
  records: number;
  measurements: number;
  rejected: number;
  skipped: number;
}

interface ResultCounts {
  records: number;
  rejected: number;
  skipped: number;
  issues: ImportIssue[];
  unmapped: Iterable<[string, number]>;
  patients: PatientRecord[];
}

/** runImport's families: the files that share a parser state. */
function familyOf(file: InputFile): string {
  return file.format.startsWith('mimic-iv:') ? 'mimic-iv' : file.format === 'csv' ? 'csv' : 'fhir';
}
