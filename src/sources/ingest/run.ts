/**
 * The streaming import pipeline behind `immunoguide import` (and reusable by the HTTP import
 * jobs and the screen pipeline): files -> chunks of lines (bounded memory) -> parseChunk ->
 * batches -> a sink (the store) that commits each batch with its file's checkpoint.
 *
 * Guarantees:
 * - Bad records never stop an import: each yields an issue (file, line, reason) and the rest
 *   of the file is stored.
 * - Idempotent: the store skips measurements whose provenance it already holds.
 * - Resumable: a file's checkpoint (last committed line) is written in the same transaction as
 *   its batch; a rerun skips the committed chunks. Chunk boundaries depend only on the file's
 *   content, so the rerun cuts the file the same way. Stateful formats (MIMIC-IV) re-read the
 *   committed part without storing it, to rebuild their state.
 * Without a sink the pipeline only parses (a dry run, the screen command, the benchmarks).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { ConceptDictionary } from '../concepts/dictionary.ts';
import { checkSiteId } from '../collect.ts';
import {
  type ChunkFormat,
  type ImportFormat,
  type ImportIssue,
  type ParseContext,
  type ParseResult,
  type ParserState,
  type PatientRecord,
  type SourceMeasurement,
  createParserState,
  finishParse,
  mergeResults,
  parseChunk,
} from '../import-format.ts';
import { parseFhirDocument } from '../fhir/parse.ts';
import { MIMIC_LOOKUP_TABLES } from '../mimic/parse.ts';
import { type FileFormat, type InputFile, discoverInputs } from './files.ts';
import { readLineChunks } from './lines.ts';

/** Distinct unmapped codes counted over an import (bounded memory); the rest go to "(other)". */
const MAX_UNMAPPED_CODES = 10_000;

/** The site of patients no source record assigns to one, when --site is not given. */
export const DEFAULT_IMPORT_SITE = 'default';

export interface ImportBatch {
  fileKey: string;
  file: string;
  /** Last physical line of the file covered by this batch. */
  throughLine: number;
  /** The file is done after this batch. */
  complete: boolean;
  /** Input records in this batch (for the checkpoint's counters). */
  records: number;
  patients: PatientRecord[];
  measurements: SourceMeasurement[];
  defaultSiteId: string;
}

export interface SinkCheckpoint {
  line: number;
  complete: boolean;
}

export interface SinkWriteResult {
  inserted: number;
  /** Measurements refused by the sink (patient conflicts). */
  dropped: number;
  issues: ImportIssue[];
}

export interface ImportSink {
  checkpoint(fileKey: string): Promise<SinkCheckpoint | undefined>;
  /**
   * Stores the batch and advances the file's checkpoint, atomically. With `writesInFlight`
   * above 1 the next write may be called before this one settled: the sink must then commit
   * writes in call order, and not commit one whose predecessor failed.
   */
  write(batch: ImportBatch): Promise<SinkWriteResult>;
  /** Writes the pipeline may have in flight at once (default 1: each waits for the one before). */
  readonly writesInFlight?: number;
}

export interface ImportProgress {
  file: string;
  fileIndex: number;
  fileCount: number;
  /** Bytes of input read (all files so far), and the total of all input files. */
  bytesRead: number;
  totalBytes: number;
  records: number;
  measurements: number;
  inserted: number;
  elapsedMs: number;
}

export interface ImportOptions {
  format?: ImportFormat;
  /** Site of patients the sources do not assign (default "default"). */
  siteId?: string;
  /** Provenance source label (default: the format: fhir, mimic-iv, csv). */
  source?: string;
  dictionary: ConceptDictionary;
  sink?: ImportSink;
  /** Use checkpoints to skip committed work (default true). */
  resume?: boolean;
  /** Measurements per committed batch (default 20,000). */
  batchMeasurements?: number;
  /** Records per parsed chunk (default 5,000). */
  chunkRecords?: number;
  /** Issues kept in the summary (default 10,000); all go to onIssue. */
  maxIssues?: number;
  /** Largest FHIR JSON document (a Bundle) read whole (default 256 MiB). */
  maxDocumentBytes?: number;
  onIssue?: (issue: ImportIssue) => void;
  onProgress?: (progress: ImportProgress) => void;
  /** Every parsed batch of measurements (screening, tests), after it is stored. */
  onMeasurements?: (measurements: readonly SourceMeasurement[], patients: readonly PatientRecord[]) => void;
  /** Clock for elapsed times (tests). */
  now?: () => number;
}

export interface FileSummary {
  path: string;
  format: FileFormat;
  records: number;
  measurements: number;
  inserted: number;
  rejected: number;
  skipped: number;
  /** Lines skipped because an earlier run committed them. */
  resumedAfterLine: number;
  /** The whole file was imported before with the same settings. */
  alreadyImported: boolean;
}

export interface ImportSummary {
  ok: boolean;
  files: FileSummary[];
  records: number;
  measurements: number;
  /** New rows stored (measurements - inserted were already stored: duplicates). */
  inserted: number;
  duplicates: number;
  patients: number;
  /** Records with at least one error. */
  rejected: number;
  skipped: number;
  errors: number;
  warnings: number;
  issues: ImportIssue[];
  /** Issues not listed in `issues` (over maxIssues). */
  issuesOmitted: number;
  /** The most frequent codes not in the concept dictionary. */
  unmapped: Array<{ code: string; count: number }>;
  elapsedMs: number;
  recordsPerSecond: number;
}

export class ImportError extends Error {
  override name = 'ImportError';
}

export async function runImport(paths: readonly string[], options: ImportOptions): Promise<ImportSummary> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const siteId = options.siteId ?? DEFAULT_IMPORT_SITE;
  const siteProblem = checkSiteId(siteId);
  if (siteProblem !== undefined) throw new ImportError(`--site: ${siteProblem}`);
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
  const states = new Map<string, ParserState>();
  let bytesBefore = 0;

  const report = (issue: ImportIssue): void => {
    if (issue.severity === 'error') summary.errors++;
    else summary.warnings++;
    if (summary.issues.length < maxIssues) summary.issues.push(issue);
    else summary.issuesOmitted++;
    options.onIssue?.(issue);
  };

  // Checkpoints first: a completed file must still be read (without storing) when it feeds
  // the parser state of a later file that is not complete (FHIR weights and devices, MIMIC-IV
  // ICU admission times), or the resumed file would miss what it refers to.
  const familyOf = (file: InputFile): string => (file.format.startsWith('mimic-iv:') ? 'mimic-iv' : file.format === 'csv' ? 'csv' : 'fhir');
  const plans: Array<{ file: InputFile; family: string; source: string; fileKey: string; checkpoint: SinkCheckpoint | undefined }> = [];
  for (const file of files) {
    const family = familyOf(file);
    const source = options.source ?? family;
    const fileKey = fileKeyOf(file, { source, siteId, dictionary: options.dictionary.hash });
    const checkpoint = options.sink !== undefined && options.resume !== false ? await options.sink.checkpoint(fileKey) : undefined;
    plans.push({ file, family, source, fileKey, checkpoint });
  }
  const feedsState = (index: number): boolean => {
    const { file, family } = plans[index]!;
    const feeds = family === 'fhir' || (family === 'mimic-iv' && (MIMIC_LOOKUP_TABLES as readonly string[]).includes(file.format.slice(9)));
    return feeds && plans.some((p, i) => i > index && p.family === family && p.checkpoint?.complete !== true);
  };

  for (const [fileIndex, { file, family, source, fileKey, checkpoint }] of plans.entries()) {
    let state = states.get(family);
    if (state === undefined) {
      state = createParserState();
      states.set(family, state);
    }
    const fileSummary: FileSummary = {
      path: file.path,
      format: file.format,
      records: 0,
      measurements: 0,
      inserted: 0,
      rejected: 0,
      skipped: 0,
      resumedAfterLine: checkpoint?.line ?? 0,
      alreadyImported: checkpoint?.complete === true,
    };
    summary.files.push(fileSummary);
    if (checkpoint?.complete === true && !feedsState(fileIndex)) {
      bytesBefore += file.size;
      continue;
    }
    const batchSize = options.batchMeasurements ?? 20_000;
    const writesInFlight = Math.max(1, options.sink?.writesInFlight ?? 1);
    const context: ParseContext = {
      firstLineNumber: 1,
      fileName: file.path,
      ...(options.siteId === undefined ? {} : { siteId: options.siteId }),
      source,
      dictionary: options.dictionary,
      state,
    };
    const committedLine = checkpoint?.complete === true ? Number.POSITIVE_INFINITY : (checkpoint?.line ?? 0);

    // The batch being filled.
    let batch: { patients: PatientRecord[]; measurements: SourceMeasurement[]; records: number; throughLine: number } = {
      patients: [],
      measurements: [],
      records: 0,
      throughLine: committedLine === Number.POSITIVE_INFINITY ? 0 : committedLine,
    };
    /**
     * Hands the batch to the sink. Writes are in flight while the next batch is parsed (the
     * database works in its own processes, so parsing and storing overlap): as many as the sink
     * takes at once (writesInFlight), settling in order, each committing its own checkpoint.
     * `drain` waits for the oldest (down to `keep` in flight), throwing its error if it failed.
     */
    const inFlight: Array<Promise<void>> = [];
    const drain = async (keep = 0): Promise<void> => {
      while (inFlight.length > keep) await inFlight.shift();
    };
    const flush = async (complete: boolean): Promise<void> => {
      const { patients, measurements, records, throughLine } = batch;
      batch = { patients: [], measurements: [], records: 0, throughLine };
      await drain(writesInFlight - 1);
      const write = async (): Promise<void> => {
        let inserted = 0;
        const sink = options.sink;
        if (sink !== undefined && committedLine !== Number.POSITIVE_INFINITY) {
          // A batch of more than twice the batch size (a whole JSON document) is committed in
          // slices of one to two batch sizes; only the last advances the checkpoint.
          const slices = Math.max(1, Math.floor(measurements.length / batchSize));
          const sliceSize = Math.ceil(measurements.length / slices);
          const sliceOf = (slice: number): ImportBatch => {
            const last = slice === slices - 1;
            return {
              fileKey,
              file: file.path,
              throughLine: last ? throughLine : committedLine,
              complete: complete && last,
              records: last ? records : 0,
              patients: slice === 0 ? patients : [],
              measurements: slices === 1 ? measurements : measurements.slice(slice * sliceSize, (slice + 1) * sliceSize),
              defaultSiteId: siteId,
            };
          };
          // A sink taking several writes at once gets all slices now, in order (the next
          // batch's writes come after them); otherwise each slice waits for the one before.
          const concurrent = writesInFlight > 1;
          const started = concurrent ? Array.from({ length: slices }, (_, slice) => sink.write(sliceOf(slice))) : [];
          for (const written of started) written.catch(() => {});
          for (let slice = 0; slice < slices; slice++) {
            const written = await (concurrent ? started[slice]! : sink.write(sliceOf(slice)));
            inserted += written.inserted;
            for (const issue of written.issues) report(issue);
          }
        }
        fileSummary.inserted += inserted;
        summary.inserted += inserted;
        options.onMeasurements?.(measurements, patients);
      };
      const pending = write();
      // Marked as handled now; drain() still throws a failed write's error.
      pending.catch(() => {});
      inFlight.push(pending);
      if (complete) await drain();
    };
    const absorb = (result: ParseResult, throughLine: number): void => {
      fileSummary.records += result.records;
      fileSummary.measurements += result.measurements.length;
      fileSummary.rejected += result.rejected;
      fileSummary.skipped += result.skipped;
      summary.records += result.records;
      summary.measurements += result.measurements.length;
      summary.patients += result.patients.length;
      summary.rejected += result.rejected;
      summary.skipped += result.skipped;
      for (const issue of result.issues) report(issue);
      for (const [code, count] of result.unmapped) {
        const key = unmapped.has(code) || unmapped.size < MAX_UNMAPPED_CODES ? code : '(other)';
        unmapped.set(key, (unmapped.get(key) ?? 0) + count);
      }
      for (const m of result.measurements) batch.measurements.push(m);
      for (const p of result.patients) batch.patients.push(p);
      batch.records += result.records;
      batch.throughLine = Math.max(batch.throughLine, throughLine);
    };
    const progress = (bytesRead: number): void => {
      options.onProgress?.({
        file: file.path,
        fileIndex,
        fileCount: files.length,
        bytesRead: bytesBefore + bytesRead,
        totalBytes,
        records: summary.records,
        measurements: summary.measurements,
        inserted: summary.inserted,
        elapsedMs: now() - started,
      });
    };

    if (file.format === 'fhir-document') {
      const limit = options.maxDocumentBytes ?? 256 * 1024 * 1024;
      if (file.size > limit) {
        report({
          severity: 'error',
          code: 'too-long',
          diagnostics: `a FHIR JSON document of ${file.size} bytes is above the ${limit}-byte limit: export it as NDJSON (one resource per line) instead`,
          location: ['line 1'],
          file: file.path,
        });
        fileSummary.rejected++;
        summary.rejected++;
      } else {
        const result = parseFhirDocument(await fs.promises.readFile(file.path, 'utf8'), context);
        // A completed document read again only to rebuild the state stores and reports nothing.
        if (committedLine !== Number.POSITIVE_INFINITY) absorb(result, 1);
      }
      await flush(true);
      progress(file.size);
      bytesBefore += file.size;
      continue;
    }

    const format = file.format;
    // Committed chunks are parsed again only to rebuild state: MIMIC-IV tables carry state
    // within a file; a completed FHIR file is read here only because it feeds later files.
    const stateful = format.startsWith('mimic-iv:') || committedLine === Number.POSITIVE_INFINITY;
    let header: string | undefined;
    let lastBytes = 0;
    for await (const chunk of readLineChunks(file.path, {
      // Quoted fields spanning lines occur in MIMIC-IV text columns; the simple CSV has none,
      // so there an unclosed quote is an error of its own line.
      csvQuotes: format.startsWith('mimic-iv:'),
      chunkRecords: options.chunkRecords ?? 5000,
    })) {
      lastBytes = chunk.bytesRead;
      let lines = chunk.lines;
      let lineNumbers = chunk.lineNumbers;
      if (format !== 'fhir' && header === undefined && lines.length > 0) {
        header = lines[0];
        lines = lines.slice(1);
        lineNumbers = lineNumbers.slice(1);
      }
      const committed = chunk.lastLineNumber <= committedLine;
      if (committed && !stateful) continue;
      // A write in flight advances only when the event loop reads the database's answers. The
      // reader hands over the chunks of one read buffer without giving it a turn, so without this
      // each statement of the write (BEGIN, SAVEPOINT, ...) could wait for several chunks to be
      // parsed, and the database with it.
      if (inFlight.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const chunkContext: ParseContext = {
        ...context,
        firstLineNumber: lineNumbers[0] ?? chunk.lastLineNumber,
        lineNumbers,
        ...(header === undefined ? {} : { header }),
      };
      const result = parseChunk(format, lines, chunkContext);
      if (committed) continue; // parsed only to rebuild the state
      for (const dropped of chunk.oversized) {
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
      absorb(result, chunk.lastLineNumber);
      if (batch.measurements.length >= batchSize || batch.patients.length >= batchSize) await flush(false);
      progress(chunk.bytesRead);
    }
    if (header === undefined && format !== 'fhir' && committedLine === 0) {
      report({ severity: 'warning', code: 'required', diagnostics: 'the file is empty (no header line)', location: ['line 1'], file: file.path });
    }
    absorb(finishParse(format, context), batch.throughLine);
    await flush(true);
    progress(lastBytes);
    bytesBefore += file.size;
  }

  summary.duplicates = options.sink === undefined ? 0 : summary.measurements - summary.inserted;
  summary.unmapped = [...unmapped.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 50)
    .map(([code, count]) => ({ code, count }));
  summary.elapsedMs = Math.round(now() - started);
  summary.recordsPerSecond = summary.elapsedMs > 0 ? Math.round((summary.records * 1000) / summary.elapsedMs) : 0;
  summary.ok = summary.errors === 0;
  return summary;
}

/** Identity of a file and of the settings it is imported with. */
function fileKeyOf(file: InputFile, settings: { source: string; siteId: string; dictionary: string }): string {
  const head = Buffer.alloc(Math.min(64 * 1024, file.size));
  if (head.length > 0) {
    const fd = fs.openSync(file.path, 'r');
    try {
      fs.readSync(fd, head, 0, head.length, 0);
    } finally {
      fs.closeSync(fd);
    }
  }
  return createHash('sha256')
    .update(JSON.stringify({ format: file.format, size: file.size, mtimeMs: file.mtimeMs, ...settings }))
    .update(head)
    .digest('hex');
}

/** A parse of chunks without a pipeline (tests and callers holding text): gathers all results. */
export function parseAll(format: ChunkFormat, text: string, context: Omit<ParseContext, 'firstLineNumber'>): ParseResult {
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  const result = parseChunk(format, lines, { ...context, firstLineNumber: 1 });
  return mergeResults(result, finishParse(format, { ...context, firstLineNumber: 1 }));
}
