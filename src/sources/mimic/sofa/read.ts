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
import { splitCsvRecord } from '../../csv-record.ts';
import { readLineChunks } from '../../ingest/lines.ts';
import { CHART_ITEMS, LAB_ITEMS, MimicSofaTables, URINE_ITEMS, VASOPRESSOR_ITEMS } from './tables.ts';

export type SofaTable = 'icustays' | 'chartevents' | 'labevents' | 'inputevents' | 'outputevents';
const ORDER: readonly SofaTable[] = ['icustays', 'labevents', 'inputevents', 'outputevents', 'chartevents'];

const REQUIRED: Readonly<Record<SofaTable, readonly string[]>> = {
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
}

export async function readMimicSofaTables(dir: string, options: MimicReadOptions = {}): Promise<MimicReadResult> {
  const files = findSofaTables(dir);
  const tables = new MimicSofaTables();
  const result: MimicReadResult = { tables, files: [], issues: [], issuesDropped: 0 };
  const maxIssues = options.maxIssues ?? 1000;
  const report = (issue: MimicReadIssue) => {
    if (result.issues.length < maxIssues) result.issues.push(issue);
    else result.issuesDropped++;
  };
  for (const table of ORDER) {
    const file = files.get(table);
    if (file === undefined) {
      report({ severity: 'warning', file: path.join(dir, `${table}.csv`), line: null, message: `no ${table} table: the SOFA inputs it holds count as missing` });
      continue;
    }
    const totalBytes = fs.statSync(file).size;
    const summary = { table, path: file, rows: 0, kept: 0, rejected: 0 };
    let columns: Map<string, number> | undefined;
    let headerProblem = false;
    for await (const chunk of readLineChunks(file, { csvQuotes: true, chunkRecords: 20_000 })) {
      for (let k = 0; k < chunk.lines.length; k++) {
        const line = chunk.lines[k]!;
        const lineNumber = chunk.lineNumbers[k]!;
        if (columns === undefined) {
          const header = splitCsvRecord(line);
          columns = new Map();
          if (header.ok) header.fields.forEach((name, index) => columns!.set(name.trim().toLowerCase(), index));
          const missing = REQUIRED[table].filter((c) => !columns!.has(c));
          if (!header.ok || missing.length > 0) {
            headerProblem = true;
            report({ severity: 'error', file, line: 1, message: `not a MIMIC-IV ${table} table: missing column(s) ${missing.join(', ')}` });
          }
          continue;
        }
        if (headerProblem || line === '') continue;
        summary.rows++;
        const outcome = readRow(table, line, columns, tables);
        if (outcome === true) summary.kept++;
        else if (typeof outcome === 'string') {
          summary.rejected++;
          report({ severity: 'error', file, line: lineNumber, message: outcome });
        }
      }
      options.onProgress?.({ table, bytesRead: chunk.bytesRead, totalBytes, rows: summary.rows });
    }
    if (headerProblem) summary.rejected = summary.rows;
    result.files.push(summary);
  }
  return result;
}

/** One row into the tables: true kept, false skipped (not a SOFA item), a string: why it was rejected. */
function readRow(table: SofaTable, line: string, columns: Map<string, number>, tables: MimicSofaTables): boolean | string {
  // Item filter on the raw line first: most chartevents/labevents rows are other items.
  if (table === 'chartevents' || table === 'labevents' || table === 'inputevents' || table === 'outputevents') {
    const itemid = quickField(line, columns.get('itemid')!);
    if (itemid !== undefined) {
      const id = Number(itemid);
      const wanted =
        table === 'chartevents' ? CHART_ITEMS : table === 'labevents' ? LAB_ITEMS : table === 'outputevents' ? URINE_ITEMS : VASOPRESSOR_ITEMS;
      if (!wanted.has(id)) return false;
    }
  }
  const split = splitCsvRecord(line);
  if (!split.ok) return `malformed CSV row: ${split.reason}`;
  const fields = split.fields;
  if (fields.length !== columns.size) return `the row has ${fields.length} fields, the header ${columns.size}`;
  const get = (name: string): string => {
    const index = columns.get(name);
    return index === undefined ? '' : (fields[index] ?? '');
  };
  try {
    switch (table) {
      case 'icustays':
        tables.addIcuStay({
          subjectId: id(get('subject_id'), 'subject_id'),
          hadmId: optionalId(get('hadm_id'), 'hadm_id'),
          stayId: id(get('stay_id'), 'stay_id'),
          intime: optionalTime(get('intime'), 'intime'),
          outtime: optionalTime(get('outtime'), 'outtime'),
        });
        return true;
      case 'chartevents': {
        const itemid = id(get('itemid'), 'itemid');
        if (!CHART_ITEMS.has(itemid)) return false;
        tables.addChart({
          subjectId: id(get('subject_id'), 'subject_id'),
          stayId: optionalId(get('stay_id'), 'stay_id'),
          charttime: time(get('charttime'), 'charttime'),
          storetime: optionalTime(get('storetime'), 'storetime'),
          itemid,
          value: text(get('value')),
          valuenum: optionalNumber(get('valuenum'), 'valuenum'),
        });
        return true;
      }
      case 'labevents': {
        const itemid = id(get('itemid'), 'itemid');
        if (!LAB_ITEMS.has(itemid)) return false;
        tables.addLab({
          subjectId: id(get('subject_id'), 'subject_id'),
          hadmId: optionalId(get('hadm_id'), 'hadm_id'),
          specimenId: text(get('specimen_id')),
          itemid,
          charttime: time(get('charttime'), 'charttime'),
          value: text(get('value')),
          valuenum: optionalNumber(get('valuenum'), 'valuenum'),
        });
        return true;
      }
      case 'inputevents': {
        const itemid = id(get('itemid'), 'itemid');
        if (!VASOPRESSOR_ITEMS.has(itemid)) return false;
        tables.addInput({
          stayId: optionalId(get('stay_id'), 'stay_id'),
          starttime: optionalTime(get('starttime'), 'starttime'),
          endtime: optionalTime(get('endtime'), 'endtime'),
          itemid,
          rate: optionalNumber(get('rate'), 'rate'),
          rateuom: text(get('rateuom')),
          patientweight: optionalNumber(get('patientweight'), 'patientweight'),
        });
        return true;
      }
      case 'outputevents': {
        const itemid = id(get('itemid'), 'itemid');
        if (!URINE_ITEMS.has(itemid)) return false;
        tables.addOutput({
          stayId: optionalId(get('stay_id'), 'stay_id'),
          charttime: time(get('charttime'), 'charttime'),
          itemid,
          value: optionalNumber(get('value'), 'value'),
        });
        return true;
      }
    }
  } catch (error) {
    if (error instanceof FieldError) return error.message;
    throw error;
  }
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

/** A MIMIC-IV zone-less timestamp as milliseconds of the same wall clock read as UTC. */
export function parseMimicTime(raw: string): number | null {
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
