/**
 * Reads a MIMIC-IV directory in the published layout (DIR/hosp/*.csv[.gz], DIR/icu/*.csv[.gz],
 * or the tables directly in DIR) into the intermediate tables of mimic-code's SOFA (tables.ts).
 *
 * Only the rows SOFA needs are kept: chartevents and labevents rows are filtered by item id
 * before the rest of the line is parsed. icustays is read first (the urine clock needs the
 * stays' times). A row that cannot be read (bad time, bad number, wrong field count) is skipped
 * and reported with file and line, like `immunoguide import` does; a table without its required
 * columns is an error for the whole file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fixedDateTimeMs, fixedDateTimeMsOfBytes } from '../../../clinical/instant.ts';
import { splitCsvRecord } from '../../csv-record.ts';
import { firstLine, isGzipFile, readLineChunks } from '../../ingest/lines.ts';
import { type LineBytes, readRange } from './range-reader.ts';
import { CHART_ITEMS, CHART_TEXT_ITEMS, LAB_ITEMS, LAB_TEXT_ITEMS, MimicSofaTables, URINE_ITEMS, VASOPRESSOR_ITEMS } from './tables.ts';

export type SofaTable = 'icustays' | 'chartevents' | 'labevents' | 'inputevents' | 'outputevents';
export const ORDER: readonly SofaTable[] = ['icustays', 'labevents', 'inputevents', 'outputevents', 'chartevents'];

export const REQUIRED: Readonly<Record<SofaTable, readonly string[]>> = {
  icustays: ['subject_id', 'hadm_id', 'stay_id', 'intime', 'outtime'],
  chartevents: ['subject_id', 'stay_id', 'charttime', 'itemid', 'value', 'valuenum'],
  labevents: ['subject_id', 'hadm_id', 'specimen_id', 'itemid', 'charttime', 'value', 'valuenum'],
  inputevents: ['stay_id', 'starttime', 'endtime', 'itemid', 'rate', 'rateuom', 'patientweight'],
  outputevents: ['stay_id', 'charttime', 'itemid', 'value'],
};

export interface MimicReadIssue {
  severity: 'error' | 'warning';
  file: string;
  line: number | null;
  message: string;
}

export interface MimicReadProgress {
  table: SofaTable;
  bytesRead: number;
  totalBytes: number;
  rows: number;
}

export interface MimicReadResult {
  tables: MimicSofaTables;
  files: Array<{ table: SofaTable; path: string; rows: number; kept: number; rejected: number }>;
  issues: MimicReadIssue[];
  /** Issues beyond the first `maxIssues` are counted, not kept. */
  issuesDropped: number;
}

export class MimicDirectoryError extends Error {
  override name = 'MimicDirectoryError';
}

/** The SOFA tables of a MIMIC-IV directory: path per table (missing tables are absent). */
export function findSofaTables(dir: string): Map<SofaTable, string> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new MimicDirectoryError(`${dir}: not a directory (give the MIMIC-IV directory holding hosp/ and icu/)`);
  const found = new Map<SofaTable, string>();
  for (const sub of ['hosp', 'icu', '.']) {
    const base = path.join(dir, sub);
    if (!fs.existsSync(base) || !fs.statSync(base).isDirectory()) continue;
    for (const name of fs.readdirSync(base).sort()) {
      const match = /^([a-z_]+)\.csv(\.gz)?$/i.exec(name);
      const table = match?.[1]?.toLowerCase() as SofaTable | undefined;
      if (table !== undefined && (ORDER as readonly string[]).includes(table) && !found.has(table)) found.set(table, path.join(base, name));
    }
  }
  if (!found.has('icustays')) throw new MimicDirectoryError(`${dir}: no icustays.csv or icustays.csv.gz (in icu/ or the directory itself): SOFA is scored per ICU stay`);
  if (!found.has('chartevents')) throw new MimicDirectoryError(`${dir}: no chartevents.csv(.gz): the hour grid starts at each stay's first heart rate (itemid 220045)`);
  return found;
}

export interface MimicReadOptions {
  onProgress?: (progress: MimicReadProgress) => void;
  maxIssues?: number;
  /**
   * Read only the rows of one part of the patients (the parallel scorer, parallel.ts): part
   * `index` of `count` holds the subjects with subject_id % count === index, every table of
   * them. icustays is read whole by every part (the stays of a table without subject_id are
   * routed through it); each row of the other tables is counted, kept or reported by exactly
   * one part, and what concerns the files as a whole (missing tables, header problems, the
   * rows of icustays) only by part 0.
   */
  part?: { index: number; count: number };
}

/**
 * Which part a row belongs to, from its subject_id, or for a table without that column from
 * its stay_id through icustays (a stay icustays does not know goes by its own id). A row whose
 * key is not a plain non-negative integer belongs to part 0, which reads it and reports it.
 */
interface Router {
  column: number;
  viaStay: boolean;
  staySubjects: ReadonlyMap<number, number>;
  index: number;
  count: number;
}

const partOfKey = (r: Router, key: number): number => (r.viaStay ? (r.staySubjects.get(key) ?? key) : key) % r.count;

function ownsText(r: Router, line: string): boolean {
  const field = quickField(line, r.column);
  const key = field === undefined || field.trim() === '' ? Number.NaN : Number(field);
  return Number.isSafeInteger(key) && key >= 0 ? partOfKey(r, key) === r.index : r.index === 0;
}

function routerFor(table: SofaTable, columns: Columns, tables: MimicSofaTables, part: MimicReadOptions['part']): Router | undefined {
  if (part === undefined || part.count <= 1 || table === 'icustays') return undefined;
  const subject = columns.get('subject_id');
  const staySubjects = new Map<number, number>();
  if (subject === undefined) for (const stay of tables.stays.values()) staySubjects.set(stay.stayId, stay.subjectId);
  return { column: subject ?? columns.get('stay_id')!, viaStay: subject === undefined, staySubjects, index: part.index, count: part.count };
}

export async function readMimicSofaTables(dir: string, options: MimicReadOptions = {}): Promise<MimicReadResult> {
  const files = findSofaTables(dir);
  const tables = new MimicSofaTables();
  const result: MimicReadResult = { tables, files: [], issues: [], issuesDropped: 0 };
  const maxIssues = options.maxIssues ?? 1000;
  const part = options.part;
  const report = (issue: MimicReadIssue) => {
    if (result.issues.length < maxIssues) result.issues.push(issue);
    else result.issuesDropped++;
  };
  for (const table of ORDER) {
    const file = files.get(table);
    // Part 0 alone speaks for the files as a whole (and for icustays, which every part reads).
    const shared = part === undefined || part.index === 0;
    const reportShared = shared ? report : () => {};
    if (file === undefined) {
      reportShared({ severity: 'warning', file: path.join(dir, `${table}.csv`), line: null, message: `no ${table} table: the SOFA inputs it holds count as missing` });
      continue;
    }
    const totalBytes = fs.statSync(file).size;
    const summary = { table, path: file, rows: 0, kept: 0, rejected: 0 };
    let columns: Map<string, number> | undefined;
    let headerProblem = false;
    const checkHeader = (line: string): Map<string, number> => {
      const header = splitCsvRecord(line);
      const found = new Map<string, number>();
      if (header.ok) header.fields.forEach((name, index) => found.set(name.trim().toLowerCase(), index));
      const missing = REQUIRED[table].filter((c) => !found.has(c));
      if (!header.ok || missing.length > 0) {
        headerProblem = true;
        reportShared({ severity: 'error', file, line: 1, message: `not a MIMIC-IV ${table} table: missing column(s) ${missing.join(', ')}` });
      }
      router = routerFor(table, found, tables, part);
      return found;
    };
    let router: Router | undefined;
    const rowReport = table === 'icustays' ? reportShared : report;
    const take = (line: string, lineNumber: number) => {
      if (line === '') return;
      if (router !== undefined && !ownsText(router, line)) return;
      summary.rows++;
      const outcome = readRow(table, line, columns!, tables);
      if (outcome === true) summary.kept++;
      else if (typeof outcome === 'string') {
        summary.rejected++;
        rowReport({ severity: 'error', file, line: lineNumber, message: outcome });
      }
    };
    if (!isGzipFile(file)) {
      // Plain files: one byte range (the reader the threads use).
      columns = checkHeader(firstLine(file));
      if (!headerProblem) {
        readRange(
          { path: file, range: { start: 0, end: totalBytes } },
          take,
          (bytesRead) => options.onProgress?.({ table, bytesRead, totalBytes, rows: summary.rows }),
          bytesReader(table, columns, tables, summary, router),
        );
      }
    } else {
      for await (const chunk of readLineChunks(file, { csvQuotes: true, chunkRecords: 20_000 })) {
        for (let k = 0; k < chunk.lines.length; k++) {
          const line = chunk.lines[k]!;
          if (columns === undefined) {
            columns = checkHeader(line);
            continue;
          }
          if (!headerProblem) take(line, chunk.lineNumbers[k]!);
        }
        options.onProgress?.({ table, bytesRead: chunk.bytesRead, totalBytes, rows: summary.rows });
      }
    }
    if (headerProblem) summary.rejected = summary.rows;
    if (!shared && table === 'icustays') Object.assign(summary, { rows: 0, kept: 0, rejected: 0 });
    result.files.push(summary);
  }
  return result;
}

/** Column positions of a table, looked up once per file (-1: column absent, read as empty). */
export type Columns = Map<string, number>;
interface Positions {
  count: number;
  at: (name: string) => number;
}

function positions(columns: Columns): Positions {
  return { count: columns.size, at: (name) => columns.get(name) ?? -1 };
}

/** One row into the tables: true kept, false skipped (not a SOFA item), a string: why it was rejected. */
export function readRow(table: SofaTable, line: string, columns: Columns, tables: MimicSofaTables): boolean | string {
  let cached = POSITIONS.get(columns);
  if (cached === undefined) {
    cached = rowReader(table, positions(columns), tables);
    POSITIONS.set(columns, cached);
  }
  // Item filter on the raw line first: most chartevents/labevents rows are other items.
  if (cached.itemid >= 0) {
    const itemid = quickField(line, cached.itemid);
    if (itemid !== undefined && !cached.wanted.has(Number(itemid))) return false;
  }
  const split = splitCsvRecord(line);
  if (!split.ok) return `malformed CSV row: ${split.reason}`;
  const fields = split.fields;
  if (fields.length !== columns.size) return `the row has ${fields.length} fields, the header ${columns.size}`;
  try {
    return cached.read(fields);
  } catch (error) {
    if (error instanceof FieldError) return error.message;
    throw error;
  }
}

interface RowReader {
  /** Position of itemid (-1 for icustays), and the item ids kept. */
  itemid: number;
  wanted: ReadonlySet<number>;
  read: (fields: readonly string[]) => boolean;
}

const POSITIONS = new WeakMap<Columns, RowReader>();
const NO_ITEMS: ReadonlySet<number> = new Set();

function rowReader(table: SofaTable, p: Positions, tables: MimicSofaTables): RowReader {
  const f = (fields: readonly string[], index: number): string => (index < 0 ? '' : (fields[index] ?? ''));
  const subject = p.at('subject_id');
  const hadm = p.at('hadm_id');
  const stay = p.at('stay_id');
  const itemid = p.at('itemid');
  const charttime = p.at('charttime');
  const value = p.at('value');
  const valuenum = p.at('valuenum');
  switch (table) {
    case 'icustays': {
      const intime = p.at('intime');
      const outtime = p.at('outtime');
      return {
        itemid: -1,
        wanted: NO_ITEMS,
        read: (r) => {
          tables.addIcuStay({
            subjectId: id(f(r, subject), 'subject_id'),
            hadmId: optionalId(f(r, hadm), 'hadm_id'),
            stayId: id(f(r, stay), 'stay_id'),
            intime: optionalTime(f(r, intime), 'intime'),
            outtime: optionalTime(f(r, outtime), 'outtime'),
          });
          return true;
        },
      };
    }
    case 'chartevents': {
      const storetime = p.at('storetime');
      return {
        itemid,
        wanted: CHART_ITEMS,
        read: (r) => {
          const item = id(f(r, itemid), 'itemid');
          if (!CHART_ITEMS.has(item)) return false;
          tables.addChart({
            subjectId: id(f(r, subject), 'subject_id'),
            stayId: optionalId(f(r, stay), 'stay_id'),
            charttime: time(f(r, charttime), 'charttime'),
            storetime: optionalTime(f(r, storetime), 'storetime'),
            itemid: item,
            value: text(f(r, value)),
            valuenum: optionalNumber(f(r, valuenum), 'valuenum'),
          });
          return true;
        },
      };
    }
    case 'labevents': {
      const specimen = p.at('specimen_id');
      return {
        itemid,
        wanted: LAB_ITEMS,
        read: (r) => {
          const item = id(f(r, itemid), 'itemid');
          if (!LAB_ITEMS.has(item)) return false;
          tables.addLab({
            subjectId: id(f(r, subject), 'subject_id'),
            hadmId: optionalId(f(r, hadm), 'hadm_id'),
            specimenId: text(f(r, specimen)),
            itemid: item,
            charttime: time(f(r, charttime), 'charttime'),
            value: text(f(r, value)),
            valuenum: optionalNumber(f(r, valuenum), 'valuenum'),
          });
          return true;
        },
      };
    }
    case 'inputevents': {
      const [starttime, endtime, rate, rateuom, weight] = ['starttime', 'endtime', 'rate', 'rateuom', 'patientweight'].map(p.at) as [number, number, number, number, number];
      return {
        itemid,
        wanted: VASOPRESSOR_ITEM_IDS,
        read: (r) => {
          const item = id(f(r, itemid), 'itemid');
          if (!VASOPRESSOR_ITEMS.has(item)) return false;
          tables.addInput({
            stayId: optionalId(f(r, stay), 'stay_id'),
            starttime: optionalTime(f(r, starttime), 'starttime'),
            endtime: optionalTime(f(r, endtime), 'endtime'),
            itemid: item,
            rate: optionalNumber(f(r, rate), 'rate'),
            rateuom: text(f(r, rateuom)),
            patientweight: optionalNumber(f(r, weight), 'patientweight'),
          });
          return true;
        },
      };
    }
    case 'outputevents':
      return {
        itemid,
        wanted: URINE_ITEMS,
        read: (r) => {
          const item = id(f(r, itemid), 'itemid');
          if (!URINE_ITEMS.has(item)) return false;
          tables.addOutput({
            stayId: optionalId(f(r, stay), 'stay_id'),
            charttime: time(f(r, charttime), 'charttime'),
            itemid: item,
            value: optionalNumber(f(r, value), 'value'),
          });
          return true;
        },
      };
  }
}

const VASOPRESSOR_ITEM_IDS: ReadonlySet<number> = new Set(VASOPRESSOR_ITEMS.keys());

/** The item ids a table's rows are kept for (null: every row, icustays). */
export function wantedItems(table: SofaTable): ReadonlySet<number> | null {
  switch (table) {
    case 'icustays':
      return null;
    case 'chartevents':
      return CHART_ITEMS;
    case 'labevents':
      return LAB_ITEMS;
    case 'inputevents':
      return VASOPRESSOR_ITEM_IDS;
    case 'outputevents':
      return URINE_ITEMS;
  }
}

/**
 * What a plain file's reader (range-reader.ts) does with a line before decoding it: the rows of
 * chartevents, labevents and outputevents are read on their bytes (rowsOfBytes), the rows of
 * inputevents skipped on their item id when SOFA does not read that item (the others are few and
 * go through the text path). Counts go to `counts` (rows seen, rows kept).
 */
export function bytesReader(
  table: SofaTable,
  columns: Columns,
  tables: MimicSofaTables,
  counts: { rows: number; kept: number },
  router?: Router,
): LineBytes | undefined {
  const wanted = wantedItems(table);
  if (wanted === null || !columns.has('itemid')) return undefined;
  const keep = table === 'chartevents' ? chartOfBytes(columns, tables) : table === 'labevents' ? labOfBytes(columns, tables) : table === 'outputevents' ? outputOfBytes(columns, tables) : undefined;
  return rowsOfBytes(columns, wanted, counts, router, keep ?? (() => false));
}

/** Field i of a line whose bounds fieldBounds put in `at` is bytes [at[i], at[i + 1] - 1). */
const fieldStart = (at: Int32Array, i: number): number => at[i]!;
const fieldEnd = (at: Int32Array, i: number): number => at[i + 1]! - 1;
const emptyField = (at: Int32Array, i: number): boolean => i < 0 || at[i] === at[i + 1]! - 1;

/** Stores a row of a wanted item whose fields are all in `at`: false when anything is not in the plain form (the text path then reads the row and reports what is wrong). */
type KeepOfBytes = (bytes: Buffer, at: Int32Array, item: number) => boolean;

/**
 * A table's rows on their bytes, the same as readRow reads their text: true when the row was dealt
 * with (kept, or skipped as another item), false when the text path must read it. The item comes
 * first (as in readRow): another item's row is skipped whatever the rest holds.
 */
function rowsOfBytes(columns: Columns, wanted: ReadonlySet<number>, counts: { rows: number; kept: number }, router: Router | undefined, keep: KeepOfBytes): LineBytes {
  const itemid = columns.get('itemid')!;
  const count = columns.size;
  const at = new Int32Array(count + 1);
  return (bytes, start, end) => {
    const mine = ownsBytes(router, bytes, start, end, at, count);
    if (mine !== true) return mine === false;
    // Each scan goes on from the last field start the previous one found on this line.
    if (!fieldBounds(bytes, start, end, at, count, itemid, router === undefined ? 0 : Math.min(router.column, itemid))) return false;
    const item = idAt(bytes, at, itemid);
    if (item < 0) return false;
    if (!wanted.has(item)) {
      counts.rows++;
      return true;
    }
    if (!fieldBounds(bytes, start, end, at, count, count - 1, itemid) || !keep(bytes, at, item)) return false;
    counts.rows++;
    counts.kept++;
    return true;
  };
}

const columnsAt = (columns: Columns, names: readonly string[]): number[] => names.map((name) => columns.get(name) ?? -1);

// Field i of a line bounded in `at`, read as fieldBounds left it (the readers below).
/** An id; -1 when not plain digits. */
const idAt = (bytes: Buffer, at: Int32Array, i: number): number => byteId(bytes, fieldStart(at, i), fieldEnd(at, i));
/** An id or null when empty; -1 when not plain digits. */
const optionalIdAt = (bytes: Buffer, at: Int32Array, i: number): number | null => (emptyField(at, i) ? null : idAt(bytes, at, i));
/** A time (ms); null when not in the plain form. */
const timeAt = (bytes: Buffer, at: Int32Array, i: number): number | null => byteTime(bytes, fieldStart(at, i), fieldEnd(at, i));
/** A number, null when empty or the column is absent; undefined when not a finite number. */
const numberAt = (bytes: Buffer, at: Int32Array, i: number): number | null | undefined => (i < 0 ? null : byteNumber(bytes, fieldStart(at, i), fieldEnd(at, i)));
/** The text, null when empty; '' when `decode` is false (a non-empty text nobody reads). */
const textAt = (bytes: Buffer, at: Int32Array, i: number, decode: boolean): string | null =>
  emptyField(at, i) ? null : decode ? bytes.toString('utf8', fieldStart(at, i), fieldEnd(at, i)) : '';

/**
 * chartevents: only the value text of the items whose text SOFA reads (CHART_TEXT_ITEMS) is
 * decoded; the other rows carry only their number.
 */
function chartOfBytes(columns: Columns, tables: MimicSofaTables): KeepOfBytes {
  const [subject, stay, charttime, storetime, value, valuenum] = columnsAt(columns, ['subject_id', 'stay_id', 'charttime', 'storetime', 'value', 'valuenum']) as [number, number, number, number, number, number];
  return (bytes, at, item) => {
    const subjectId = idAt(bytes, at, subject);
    const stayId = optionalIdAt(bytes, at, stay);
    const chartMs = timeAt(bytes, at, charttime);
    const noStoretime = emptyField(at, storetime);
    const storeMs = noStoretime ? null : timeAt(bytes, at, storetime);
    const number = numberAt(bytes, at, valuenum);
    if (subjectId < 0 || stayId === -1 || chartMs === null || (!noStoretime && storeMs === null) || number === undefined) return false;
    tables.addChart({ subjectId, stayId, charttime: chartMs, storetime: storeMs, itemid: item, value: textAt(bytes, at, value, CHART_TEXT_ITEMS.has(item)), valuenum: number });
    return true;
  };
}

/** labevents: the value text is decoded only for the items whose text SOFA reads (LAB_TEXT_ITEMS: the blood-gas specimen type). */
function labOfBytes(columns: Columns, tables: MimicSofaTables): KeepOfBytes {
  const [subject, hadm, specimen, charttime, value, valuenum] = columnsAt(columns, ['subject_id', 'hadm_id', 'specimen_id', 'charttime', 'value', 'valuenum']) as [number, number, number, number, number, number];
  return (bytes, at, item) => {
    const subjectId = idAt(bytes, at, subject);
    const hadmId = optionalIdAt(bytes, at, hadm);
    const chartMs = timeAt(bytes, at, charttime);
    const number = numberAt(bytes, at, valuenum);
    if (subjectId < 0 || hadmId === -1 || chartMs === null || number === undefined) return false;
    const specimenId = textAt(bytes, at, specimen, true);
    tables.addLab({ subjectId, hadmId, specimenId, itemid: item, charttime: chartMs, value: textAt(bytes, at, value, LAB_TEXT_ITEMS.has(item)), valuenum: number });
    return true;
  };
}

/** outputevents: stay, chart time and volume. */
function outputOfBytes(columns: Columns, tables: MimicSofaTables): KeepOfBytes {
  const [stay, charttime, value] = columnsAt(columns, ['stay_id', 'charttime', 'value']) as [number, number, number];
  return (bytes, at, item) => {
    const stayId = optionalIdAt(bytes, at, stay);
    const chartMs = timeAt(bytes, at, charttime);
    const volume = numberAt(bytes, at, value);
    if (stayId === -1 || chartMs === null || volume === undefined) return false;
    tables.addOutput({ stayId, charttime: chartMs, itemid: item, value: volume });
    return true;
  };
}

/**
 * Whether a line is this part's: true; another part's: false (skipped, not counted: that part
 * counts it); undefined when its key is not plain digits (the text path routes it).
 */
function ownsBytes(router: Router | undefined, bytes: Buffer, start: number, end: number, at: Int32Array, count: number): boolean | undefined {
  if (router === undefined) return true;
  // Only as far as the key (subject_id comes first in most tables): another part's row costs little.
  if (!fieldBounds(bytes, start, end, at, count, router.column)) return undefined;
  const key = byteId(bytes, at[router.column]!, at[router.column + 1]! - 1);
  return key < 0 ? undefined : partOfKey(router, key) === router.index;
}

/**
 * Start of the fields of a line without quotes into `at` (at[i + 1] - 1 is where field i ends),
 * up to field `upTo` (all fields when undefined); false when the line has fewer fields than that
 * or, when all are wanted, not exactly `count`. A scan of the same line may go on from field
 * `known` when a previous call found up to that field at least (its start is in at[known]).
 */
function fieldBounds(bytes: Buffer, start: number, end: number, at: Int32Array, count: number, upTo = count - 1, known = 0): boolean {
  let field = known;
  if (known === 0) at[0] = start;
  for (let i = at[known]!; i < end; i++) {
    if (bytes[i] === 44) {
      if (++field >= count) return false;
      at[field] = i + 1;
      if (field > upTo) return true;
    }
  }
  if (field < upTo) return false;
  if (upTo === count - 1 && field !== count - 1) return false;
  at[field + 1] = end + 1;
  return true;
}

/** A non-empty run of at most 15 ASCII digits as a number, else -1 (the text path decides). */
function byteId(bytes: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i]! - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    value = value * 10 + c;
  }
  return value;
}

/** "YYYY-MM-DD HH:MM:SS" (or T) as parseMimicTime reads it; null for anything else (the text path decides). */
function byteTime(bytes: Buffer, start: number, end: number): number | null {
  if (end - start !== 19 || bytes[start + 4] !== 45 || bytes[start + 7] !== 45 || bytes[start + 13] !== 58 || bytes[start + 16] !== 58) return null;
  const sep = bytes[start + 10];
  if (sep !== 32 && sep !== 84) return null;
  return fixedDateTimeMsOfBytes(bytes, start) ?? null;
}

/**
 * valuenum on bytes: null when empty, whole numbers (optionally negative) read digit by digit,
 * anything with a point or exponent through Number() of its text (so the double is the one the
 * text path gets); undefined when it is not a finite number (the text path reports it).
 */
function byteNumber(bytes: Buffer, start: number, end: number): number | null | undefined {
  if (end === start) return null;
  let i = start;
  const negative = bytes[i] === 45;
  if (negative) i++;
  if (i < end && end - i <= 15) {
    let value = 0;
    for (; i < end; i++) {
      const c = bytes[i]! - 48;
      if (!(c >= 0 && c <= 9)) break;
      value = value * 10 + c;
    }
    if (i === end) return negative ? -value : value;
  }
  const raw = bytes.toString('latin1', start, end);
  if (raw.trim() === '') return null;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

class FieldError extends Error {}

/** Field `index` of an unquoted prefix of the line, or undefined when a quote comes first. */
function quickField(line: string, index: number): string | undefined {
  let start = 0;
  for (let i = 0; i < index; i++) {
    const comma = line.indexOf(',', start);
    if (comma === -1) return undefined;
    start = comma + 1;
  }
  const end = line.indexOf(',', start);
  const field = end === -1 ? line.slice(start) : line.slice(start, end);
  const quote = line.indexOf('"');
  return quote !== -1 && quote < (end === -1 ? line.length : end) ? undefined : field;
}

const text = (raw: string): string | null => (raw === '' ? null : raw);

function id(raw: string, column: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(value)) throw new FieldError(`${column} "${raw}" is not an integer id`);
  return value;
}

function optionalId(raw: string, column: string): number | null {
  return raw.trim() === '' ? null : id(raw, column);
}

function optionalNumber(raw: string, column: string): number | null {
  if (raw.trim() === '') return null;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new FieldError(`${column} "${raw}" is not a number`);
  return value;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?$/;
let lastTimeText = '';
let lastTimeMs: number | null = null;

/**
 * A MIMIC-IV zone-less timestamp as milliseconds of the same wall clock read as UTC. The
 * published form "YYYY-MM-DD HH:MM:SS" is read digit by digit (it is most of the reading time of
 * chartevents); other ISO-like forms (T separator, no seconds, fractions) through a pattern.
 */
export function parseMimicTime(raw: string): number | null {
  if (raw === lastTimeText) return lastTimeMs;
  const ms = raw.length === 19 ? fastTime(raw) : slowTime(raw);
  lastTimeText = raw;
  lastTimeMs = ms;
  return ms;
}

function fastTime(t: string): number | null {
  if (t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45 || t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58) return slowTime(t);
  const sep = t.charCodeAt(10);
  if (sep !== 32 && sep !== 84) return null;
  return fixedDateTimeMs(t) ?? null;
}

function slowTime(raw: string): number | null {
  const m = TIMESTAMP.exec(raw.trim());
  if (m === null) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Math.round(Number(m[7]) * 1000);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(ms);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return null;
  return ms;
}

function time(raw: string, column: string): number {
  const ms = parseMimicTime(raw);
  if (ms === null) throw new FieldError(`${column} "${raw}" is not a time of the form YYYY-MM-DD HH:MM:SS`);
  return ms;
}

function optionalTime(raw: string, column: string): number | null {
  return raw.trim() === '' ? null : time(raw, column);
}
