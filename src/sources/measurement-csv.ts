/**
 * The simple measurement CSV: one measurement per line.
 *
 *   patient_id,time,concept,value,unit[,end_time][,interval_hours]
 *
 * - `time`: ISO 8601 with a time zone (2026-01-05T08:00:00Z). A time without a zone is refused:
 *   it would be a guess.
 * - `concept`: a canonical concept (pao2, fio2, mechanical_ventilation, platelets, bilirubin, map,
 *   norepinephrine, epinephrine, dopamine, dobutamine, gcs, creatinine, urine_output, ferritin,
 *   hla_dr, ... see src/clinical/units.ts); `unit`: UCUM or a common spelling (mg/dL, umol/L,
 *   ug/kg/min, %, molecules/cell ...), converted through UCUM. Flags (mechanical_ventilation,
 *   antibiotic, culture) and GCS may leave the unit empty.
 * - Intervals: urine output is the volume collected over [time, end_time) — give `end_time`,
 *   or `interval_hours` (end = time + interval_hours). A urine line without either is charted at
 *   `time` and covers the time since the patient's previous urine charting (as MIMIC-IV charts
 *   it). Vasopressor rates may also carry an interval (the infusion's start and stop); a rate
 *   without one holds until the drug's next charting (at most 1 h, see the SOFA presets).
 * - Columns are found by name, in any order; quoted fields ("a, b"), CRLF line ends and a
 *   UTF-8 byte order mark are accepted; blank lines are skipped.
 *
 * Bad lines never stop the parse: each becomes an issue naming the line, the column, the value
 * and the reason, and every good line is kept. A record's provenance is the file's source
 * label plus a hash of the line's content, so importing the same file twice stores nothing new.
 */
import crypto, { createHash } from 'node:crypto';
import { parseInstant } from '../clinical/instant.ts';
import type { Concept } from '../clinical/types.ts';
import { CONCEPT_UNITS, normalize } from '../clinical/units.ts';
import { type ImportIssue, type ParseContext, type ParseResult, type SourceMeasurement, emptyResult } from './import-format.ts';

export const MEASUREMENT_CSV_COLUMNS = ['patient_id', 'time', 'concept', 'value', 'unit'] as const;
const OPTIONAL_COLUMNS = ['end_time', 'interval_hours'] as const;

/** Splits one CSV line into fields (RFC 4180 quoting); null when a quote is left open. */
export function splitCsvLine(line: string): string[] | null {
  // Most lines have no quotes: split them natively (the same fields as the loop below).
  if (line.indexOf('"') === -1) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  if (quoted) return null;
  fields.push(field);
  return fields;
}

export interface CsvHeader {
  index: Record<(typeof MEASUREMENT_CSV_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number], number>;
}

/** Reads the header line; the error names the missing columns. */
export function parseMeasurementCsvHeader(line: string): { ok: true; header: CsvHeader } | { ok: false; message: string } {
  const fields = splitCsvLine(line.replace(/^\uFEFF/, '').replace(/\r$/, ''));
  if (fields === null) return { ok: false, message: 'the header line has an unclosed quote' };
  const names = fields.map((f) => f.trim().toLowerCase());
  const missing = MEASUREMENT_CSV_COLUMNS.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    return {
      ok: false,
      message: `the header lacks column(s) ${missing.join(', ')}; expected ${MEASUREMENT_CSV_COLUMNS.join(',')}[,end_time][,interval_hours], got "${line.trim()}"`,
    };
  }
  const index = {} as CsvHeader['index'];
  for (const column of [...MEASUREMENT_CSV_COLUMNS, ...OPTIONAL_COLUMNS]) index[column] = names.indexOf(column);
  return { ok: true, header: { index } };
}

const CONCEPTS = new Set(Object.keys(CONCEPT_UNITS));
const UNITLESS_OK = new Set(['1', '{score}']);
const HOUR_MS = 3_600_000;

/**
 * Parses a chunk of the CSV (`lines` without their line ends, or a text). The header is
 * `context.header`, or the chunk's first line when `context.firstLineNumber` is 1 and no header
 * is given.
 */
export function parseMeasurementCsvChunk(input: string | readonly string[], context: ParseContext): ParseResult {
  const lines = typeof input === 'string' ? input.split('\n') : input;
  const result = emptyResult();
  const file = context.fileName;
  const source = context.source ?? 'csv';
  let first = 0;
  let headerLine = context.header;
  if (headerLine === undefined) {
    if (context.firstLineNumber !== 1 || lines.length === 0) {
      result.issues.push(issue(file, context.firstLineNumber, 'structure', 'no CSV header: the chunk needs the file header line'));
      return result;
    }
    headerLine = lines[0]!;
    first = 1;
  }
  const parsedHeader = parseMeasurementCsvHeader(headerLine);
  if (!parsedHeader.ok) {
    result.issues.push(issue(file, 1, 'structure', parsedHeader.message));
    return result;
  }
  const { index } = parsedHeader.header;
  const patientColumn = index.patient_id;
  const timeColumn = index.time;
  const conceptColumn = index.concept;
  const valueColumn = index.value;
  const unitColumn = index.unit;
  const endColumn = index.end_time;
  const intervalColumn = index.interval_hours;
  const patients = new Set<string>();
  const lineNumbers = context.lineNumbers;
  // One call per rejected line (rare): kept out of the loop, where a closure per line was a
  // noticeable share of the parse of large files.
  const fail = (lineNumber: number, column: string | null, message: string, code: ImportIssue['code'] = 'value'): void => {
    result.rejected++;
    result.issues.push(issue(file, lineNumber, code, column === null ? message : `column ${column}: ${message}`));
  };

  for (let i = first; i < lines.length; i++) {
    const lineNumber = lineNumbers?.[i - first] ?? context.firstLineNumber + i;
    let raw = lines[i]!;
    if (raw.charCodeAt(raw.length - 1) === 13 /* \r */) raw = raw.slice(0, -1);
    if (raw.trim() === '') continue;
    result.records++;
    const fields = splitCsvLine(raw);
    if (fields === null) {
      fail(lineNumber, null, 'unclosed quote', 'structure');
      continue;
    }
    const patientId = field(fields, patientColumn);
    const timeText = field(fields, timeColumn);
    const conceptText = field(fields, conceptColumn);
    const valueText = field(fields, valueColumn);
    const unitText = field(fields, unitColumn);
    if (patientId === '') {
      fail(lineNumber, 'patient_id', 'empty', 'required');
      continue;
    }
    const timeMs = parseInstant(timeText);
    if (timeMs === null) {
      fail(lineNumber, 'time', `"${timeText}" is not an ISO 8601 date-time with a time zone (e.g. 2026-01-05T08:00:00Z)`);
      continue;
    }
    if (!CONCEPTS.has(conceptText)) {
      fail(lineNumber, 'concept', `unknown concept "${conceptText}"; known: ${[...CONCEPTS].sort().join(', ')}`, 'code-invalid');
      continue;
    }
    const concept = conceptText as Concept;
    const value = valueText === '' ? Number.NaN : Number(valueText);
    if (!Number.isFinite(value)) {
      fail(lineNumber, 'value', `"${valueText}" is not a number (use a decimal point, e.g. 4420.5)`);
      continue;
    }
    const spec = CONCEPT_UNITS[concept];
    let unit = unitText;
    if (unit === '') {
      if (!UNITLESS_OK.has(spec.canonicalUnit)) {
        fail(lineNumber, 'unit', `empty; ${concept} needs a unit (canonical ${spec.canonicalUnit})`, 'required');
        continue;
      }
      unit = spec.canonicalUnit;
    }
    const normalized = normalize(concept, value, unit);
    if (!normalized.ok) {
      fail(lineNumber, 'unit', normalized.error.message);
      continue;
    }
    let endMs: number | null = null;
    const endText = field(fields, endColumn);
    const intervalText = field(fields, intervalColumn);
    if (endText !== '') {
      endMs = parseInstant(endText);
      if (endMs === null) {
        fail(lineNumber, 'end_time', `"${endText}" is not an ISO 8601 date-time with a time zone`);
        continue;
      }
    } else if (intervalText !== '') {
      const hours = Number(intervalText);
      if (!Number.isFinite(hours) || hours <= 0) {
        fail(lineNumber, 'interval_hours', `"${intervalText}" is not a positive number of hours`);
        continue;
      }
      endMs = timeMs + hours * HOUR_MS;
    }
    if (endMs !== null && endMs <= timeMs) {
      fail(lineNumber, endText !== '' ? 'end_time' : 'interval_hours', 'the interval ends before it starts');
      continue;
    }
    const canonical = normalized.value;
    // The canonical form of the time is usually the text itself (the store writes it that way).
    const time = timeText.length === 24 && timeText.charCodeAt(23) === 90 /* Z */ && timeText.charCodeAt(19) === 46 /* . */ ? timeText : new Date(timeMs).toISOString();
    const endTime = endMs === null ? undefined : new Date(endMs).toISOString();
    // Built property by property in one order (the JSON of a measurement does not change).
    const measurement: SourceMeasurement =
      endTime === undefined
        ? { patientId, concept, value: canonical.value, unit: canonical.unit, time, provenance: { source, recordId: contentId(patientId, time, concept, valueText, unitText, '') } }
        : { patientId, concept, value: canonical.value, unit: canonical.unit, time, endTime, provenance: { source, recordId: contentId(patientId, time, concept, valueText, unitText, endTime) } };
    if (canonical.unit !== unitText || canonical.value !== value) measurement.reported = { value, unit: unitText };
    result.measurements.push(measurement);
    if (canonical.interpretation !== undefined) {
      result.issues.push({ ...issue(file, lineNumber, 'informational', canonical.interpretation), severity: 'warning' });
    }
    patients.add(patientId);
  }
  for (const id of patients) result.patients.push({ id, ...(context.siteId !== undefined ? { siteId: context.siteId } : {}) });
  return result;
}

/** The trimmed field of a column ('' when the header lacks the column or the line the field). */
function field(fields: readonly string[], column: number): string {
  return column >= 0 && column < fields.length ? fields[column]!.trim() : '';
}

function issue(file: string, line: number, code: ImportIssue['code'], diagnostics: string): ImportIssue {
  return { severity: 'error', code, diagnostics, location: [`line ${line}`], file };
}

/**
 * A stable id for a record from its content: the same row imported twice is the same record.
 * The SHA-256 of the fields joined by U+001F; one-shot `hash` where Node has it (a Hash object
 * per line cost about as much as the rest of the line's parse).
 */
function contentId(patientId: string, time: string, concept: string, valueText: string, unitText: string, endTime: string): string {
  const text = `${patientId}\u001f${time}\u001f${concept}\u001f${valueText}\u001f${unitText}\u001f${endTime}`;
  return (oneShotHash === undefined ? createHash('sha256').update(text).digest('hex') : oneShotHash('sha256', text, 'hex')).slice(0, 32);
}

/** crypto.hash (Node 20.12 and 21.7 on); undefined on older Node 20 releases. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
