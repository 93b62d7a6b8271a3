/**
 * `immunoguide sofa PATH [--format csv|fhir|mimic-iv] [--preset NAME] [--hourly] [--out FILE.csv]
 * [--start ISO] [--json]`: SOFA per patient or ICU stay.
 *
 * - csv (default for a file): the simple measurement CSV (src/sources/measurement-csv.ts); daily
 *   windows, day k = [start + 24(k - 1) h, start + 24k h), start = --start or each patient's first
 *   measurement; --hourly gives the rolling 24 h rows of the preset instead.
 * - csv or fhir (.ndjson / .json, a file or a Bulk Data directory) with --preset mimic-iv
 *   --hourly: mimic-code's hourly `sofa` on the canonical measurements
 *   (src/sources/mimic/sofa/from-measurements.ts), the same rows the mimic-iv format gives for
 *   the same data: one row set per ICU stay (FHIR Encounter; a patient without one, as in the
 *   CSV, is one stay), starting at the stay's first heart rate.
 * - mimic-iv (default for a directory with icustays): PATH is a MIMIC-IV directory in the
 *   published layout. With the `mimic-iv` preset the score is mimic-code's hourly `sofa` concept,
 *   reproduced convention by convention (src/sources/mimic/sofa/); without --hourly, day k is the
 *   row hr = 24k - 1 (the 24 h from the hour of the first heart rate), the last day the stay's
 *   last row.
 * - --hourly --out FILE.csv writes one row per stay (or patient) and hour with mimic-code's
 *   columns: stay_id,hr,starttime,endtime,respiration_24hours,...,sofa_24hours (missing
 *   components count 0, as in mimic-code). --hourly without --out prints the same CSV.
 * - --preset names the SOFA conventions (src/clinical/sofa/parameters.ts); default mimic-iv.
 * - Exit 0; 1 when input cannot be read or has bad lines (the good lines are still scored and
 *   every bad line is listed); 2 for usage errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseInstant } from '../../clinical/instant.ts';
import {
  DEFAULT_SOFA_PRESET,
  SOFA_COMPONENTS,
  SOFA_PRESETS,
  type SofaDaysResult,
  type SofaHour,
  type SofaParameters,
  findSofaPreset,
  groupByPatient,
  scoreSofaDays,
  scoreSofaHours,
} from '../../clinical/sofa/index.ts';
import type { Concept, Measurement } from '../../clinical/types.ts';
import { type ConceptDictionary, defaultConceptDictionary } from '../../sources/concepts/dictionary.ts';
import { parseFhirDocument } from '../../sources/fhir/parse.ts';
import {
  type ImportFormat,
  type ImportIssue,
  type ParseResult,
  type PatientRecord,
  type SourceMeasurement,
  type StayRecord,
  createParserState,
  finishParse,
  parseChunk,
} from '../../sources/import-format.ts';
import { InputError, discoverInputs } from '../../sources/ingest/files.ts';
import { readLineChunks } from '../../sources/ingest/lines.ts';
import { parseMeasurementCsvChunk } from '../../sources/measurement-csv.ts';
import { labelledHourCsvLine, mimicSofaTablesFromMeasurements } from '../../sources/mimic/sofa/from-measurements.ts';
import { type COMPONENTS, MIMIC_SOFA_COLUMNS, type MimicSofaHour, type MimicSofaStay, hourCsvLine, mimicCodeSofa, mimicCodeSofaStays, naiveIso } from '../../sources/mimic/sofa/hourly.ts';
import { type MimicReadSummary, type ParallelScoreOptions, scoreMimicSofaCsv, scoreMimicSofaStays } from '../../sources/mimic/sofa/parallel.ts';
import { MimicDirectoryError } from '../../sources/mimic/sofa/read.ts';
import { CommandFailure, type CommandContext, EXIT_FAILURE, UsageError } from '../context.ts';
import type { RegisterCommand } from './index.ts';

/** Hourly rows into FILE as mimic-code's CSV: the header, then one line per hour, stay after stay. */
function writeHourlyCsv(out: string, stays: readonly MimicSofaStay[], line: (hour: MimicSofaHour) => string): void {
  const sink = fileSink(out);
  sink.write(`${MIMIC_SOFA_COLUMNS.join(',')}\n`);
  for (const stay of stays) if (stay.hours.length > 0) sink.write(`${stay.hours.map(line).join('\n')}\n`);
  sink.close();
}

/** An hour of the JSON document (`--hourly --json` without `--out`): times ISO 8601, the stay given once per stay. */
const jsonHour = (h: MimicSofaHour) => ({ ...h, stayId: undefined, starttime: naiveIso(h.starttime), endtime: naiveIso(h.endtime) });

interface SofaOptions {
  format?: string;
  start?: string;
  preset: string;
  hourly?: boolean;
  out?: string;
  json?: boolean;
  pfFloat64?: boolean;
  workers?: string;
}

const FORMATS = ['csv', 'fhir', 'mimic-iv'] as const;
type SofaFormat = (typeof FORMATS)[number];

export const register: RegisterCommand = (program, ctx, result) => {
  const presets = Object.keys(SOFA_PRESETS).join(', ');
  program
    .command('sofa')
    .description('SOFA per patient or ICU stay: daily, or hourly rolling 24 h rows (mimic-code layout)')
    .argument('<path>', 'a measurement CSV, FHIR NDJSON or JSON (a file or a directory; with --preset mimic-iv --hourly), or a MIMIC-IV directory (hosp/, icu/)')
    .option('--format <format>', `input format: ${FORMATS.join(', ')} (default: mimic-iv for a directory, csv for a file)`)
    .option('--preset <name>', `SOFA conventions: ${presets}`, DEFAULT_SOFA_PRESET)
    .option('--hourly', 'one row per hour: the 24 h window ending at the end of that hour (mimic-code sofa table)')
    .option('--out <file>', 'write the hourly rows to this CSV file (with --hourly)')
    .option('--start <iso>', "start of day 1 for every patient (default: each patient's first measurement; csv only)")
    .option('--json', 'machine-readable output')
    .option('--pf-float64', "mimic-iv tables: P/F in plain binary floating point as PostgreSQL computes it (220/0.55 = 399.99...), to diff against mimic-code's own table; the default keeps decimal band edges exact")
    .option('--workers <n>', 'mimic-iv tables: reader threads (default: one per CPU; 1 reads on the main thread)')
    .action(async (input: string, options: SofaOptions) => {
      const parameters = findSofaPreset(options.preset);
      if (parameters === undefined) throw new UsageError(`unknown preset "${options.preset}" (presets: ${presets})`);
      if (options.start !== undefined && parseInstant(options.start) === null) {
        throw new UsageError(`--start must be an ISO 8601 date-time with a time zone, e.g. 2026-01-05T08:00:00Z (got "${options.start}")`);
      }
      if (options.out !== undefined && options.hourly !== true) throw new UsageError('--out writes the hourly rows: add --hourly');
      const format = resolveFormat(input, options.format);
      if (format !== 'mimic-iv' && parameters.id === 'mimic-iv' && options.hourly === true) {
        if (options.start !== undefined) throw new UsageError("--start sets day 1 of daily scores; mimic-iv hourly rows start at each stay's first heart rate");
        result.exitCode = await canonicalMimicSofa(ctx, input, format, options);
        return;
      }
      if (format === 'fhir') {
        throw new UsageError(
          '--format fhir: `sofa` scores FHIR data hourly with mimic-code\'s conventions (--preset mimic-iv --hourly); for daily scores or other presets use `immunoguide screen PATH --format fhir` or import it first',
        );
      }
      if (format === 'mimic-iv') {
        if (parameters.id !== 'mimic-iv') {
          throw new UsageError(
            `--format mimic-iv scores with mimic-code's own conventions (--preset mimic-iv); for --preset ${parameters.id} import the tables or convert them to the measurement CSV first`,
          );
        }
        if (options.start !== undefined) throw new UsageError('--start applies to csv input; MIMIC-IV stays start at their first heart rate');
        result.exitCode = await mimicSofa(ctx, input, options);
        return;
      }
      result.exitCode = csvSofa(ctx, input, parameters, options);
    });
};

function resolveFormat(input: string, format: string | undefined): SofaFormat {
  if (format !== undefined) {
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`unknown format "${format}" (formats: ${FORMATS.join(', ')})`);
    return format as SofaFormat;
  }
  let directory: boolean;
  try {
    directory = fs.statSync(input).isDirectory();
  } catch {
    directory = false;
  }
  return directory ? 'mimic-iv' : /\.(ndjson|json)(\.gz)?$/i.test(input) ? 'fhir' : 'csv';
}

async function mimicSofa(ctx: CommandContext, dir: string, options: SofaOptions): Promise<number> {
  const workers = options.workers === undefined ? undefined : Number(options.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 16)) {
    throw new UsageError(`--workers must be a whole number from 1 to 16 (got "${options.workers}")`);
  }
  const progress = ctx.stderr.isTTY === true && options.json !== true;
  const scoring = { pfArithmetic: options.pfFloat64 === true ? ('float64' as const) : ('decimal' as const) };
  const parallel: ParallelScoreOptions = {
    ...(workers === undefined ? {} : { workers }),
    scoring,
    onProgress: progress
      ? (p) => {
          const percent = p.totalBytes === 0 ? 100 : Math.min(100, Math.floor((100 * p.bytesRead) / p.totalBytes));
          ctx.stderr.write(`\rreading and scoring MIMIC-IV tables: ${percent}% of ${(p.totalBytes / 1e6).toFixed(0)} MB   `);
        }
      : undefined,
  };
  const preset = {
    id: 'mimic-iv',
    version: SOFA_PRESETS['mimic-iv']!.version,
    title: SOFA_PRESETS['mimic-iv']!.title,
    pfArithmetic: scoring.pfArithmetic,
  };
  const thresholds = { id: SOFA_PRESETS['mimic-iv']!.thresholds.id, version: SOFA_PRESETS['mimic-iv']!.thresholds.version };
  const failed = (error: unknown): never => {
    if (error instanceof MimicDirectoryError) throw new CommandFailure(error.message, { path: dir });
    const err = error as NodeJS.ErrnoException;
    throw new CommandFailure(`cannot read ${dir}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`, { path: dir });
  };
  /** Every stay scored, kept in memory (the JSON documents and the daily view hold them all anyway). */
  const allStays = async (): Promise<{ read: MimicReadSummary; stays: MimicSofaStay[] }> => {
    const stays: MimicSofaStay[] = [];
    const read = await scoreMimicSofaStays(dir, parallel, (stay) => stays.push(stay)).catch(failed);
    return { read, stays };
  };

  let read: MimicReadSummary;
  if (options.hourly === true && options.json !== true) {
    // CSV rows stream out stay by stay, in stay order, as the threads score them: a cohort's
    // hours are never all in memory.
    const sink: FileSink = options.out === undefined ? { write: (text) => void ctx.stdout.write(text), close: () => {} } : fileSink(options.out);
    let rows = 0;
    let stayCount = 0;
    sink.write(`${MIMIC_SOFA_COLUMNS.join(',')}\n`);
    try {
      read = await scoreMimicSofaCsv(dir, parallel, (stay) => {
        stayCount++;
        rows += stay.rows;
        if (stay.rows > 0) sink.write(`${stay.csv}\n`);
      }).catch(failed);
    } finally {
      sink.close();
    }
    if (progress) ctx.stderr.write('\r'.padEnd(60, ' ') + '\r');
    if (options.out !== undefined) {
      ctx.stdout.write(`wrote ${rows.toLocaleString('en-US')} hourly row(s) of ${stayCount} stay(s) to ${options.out} (preset mimic-iv)\n`);
    }
  } else if (options.hourly === true) {
    const scored = await allStays();
    read = scored.read;
    const stays = scored.stays;
    const rows = stays.reduce((n, s) => n + s.hours.length, 0);
    if (options.out !== undefined) writeHourlyCsv(options.out, stays, hourCsvLine);
    const document = {
      preset,
      thresholds,
      ...(options.out === undefined
        ? {
            stays: stays.map((s) => ({
              stayId: s.stayId,
              subjectId: s.subjectId,
              hadmId: s.hadmId,
              hours: s.hours.map(jsonHour),
            })),
          }
        : { out: options.out }),
      staysScored: stays.length,
      rows,
      files: read.files,
      issues: read.issues,
    };
    ctx.print(true, document, () => '');
  } else {
    const scored = await allStays();
    read = scored.read;
    if (progress) ctx.stderr.write('\r'.padEnd(60, ' ') + '\r');
    const daily = scored.stays.map((s) => ({ stayId: s.stayId, subjectId: s.subjectId, hadmId: s.hadmId, days: mimicDays(s) }));
    ctx.print(options.json === true, { preset, thresholds, stays: daily, files: read.files, issues: read.issues }, () => mimicDaysText(daily));
  }
  const errors = read.issues.filter((i) => i.severity === 'error').length + read.issuesDropped;
  for (const issue of read.issues) if (issue.severity === 'warning') ctx.stderr.write(`immunoguide: warning: ${issue.message}\n`);
  if (errors > 0) {
    for (const issue of read.issues.filter((i) => i.severity === 'error').slice(0, 20)) {
      ctx.stderr.write(`immunoguide: ${issue.file}${issue.line === null ? '' : `:${issue.line}`}: ${issue.message}\n`);
    }
    ctx.stderr.write(`immunoguide: ${errors} row(s) could not be read and were skipped (${options.json === true ? 'listed in "issues"' : 'first 20 above'}); the others were scored\n`);
    return EXIT_FAILURE;
  }
  return 0;
}

/** What `readCanonicalInputs` gathers from measurement CSV, FHIR or MIMIC-IV files. */
export interface CanonicalInputs {
  measurements: SourceMeasurement[];
  stays: StayRecord[];
  patients: PatientRecord[];
  records: number;
  rejected: number;
  issues: ImportIssue[];
  /** Issues beyond the first `maxIssues`, counted. */
  issuesDropped: number;
  errors: number;
}

/**
 * Every canonical measurement, ICU stay and hospital admission of the input files, parsed as
 * `immunoguide import` parses them (the same chunks, one parser state across the files of the
 * input, finishParse at each file's end) but held in memory instead of stored.
 */
export async function readCanonicalInputs(paths: readonly string[], format: ImportFormat, dictionary: ConceptDictionary, maxIssues = 1000): Promise<CanonicalInputs> {
  const files = discoverInputs(paths, format);
  const state = createParserState();
  const read: CanonicalInputs = { measurements: [], stays: [], patients: [], records: 0, rejected: 0, issues: [], issuesDropped: 0, errors: 0 };
  const absorb = (result: ParseResult): void => {
    for (const m of result.measurements) read.measurements.push(m);
    read.stays.push(...result.stays);
    read.patients.push(...result.patients);
    read.records += result.records;
    read.rejected += result.rejected;
    for (const issue of result.issues) {
      if (issue.severity === 'error') read.errors++;
      if (read.issues.length < maxIssues) read.issues.push(issue);
      else read.issuesDropped++;
    }
  };
  for (const file of files) {
    const context = { firstLineNumber: 1, fileName: file.path, dictionary, state };
    if (file.format === 'fhir-document') {
      absorb(parseFhirDocument(await fs.promises.readFile(file.path, 'utf8'), context));
      continue;
    }
    const chunkFormat = file.format;
    let header: string | undefined;
    for await (const chunk of readLineChunks(file.path, { csvQuotes: chunkFormat.startsWith('mimic-iv:'), chunkRecords: 5000 })) {
      let lines = chunk.lines;
      let lineNumbers = chunk.lineNumbers;
      if (chunkFormat !== 'fhir' && header === undefined && lines.length > 0) {
        header = lines[0];
        lines = lines.slice(1);
        lineNumbers = lineNumbers.slice(1);
      }
      const result = parseChunk(chunkFormat, lines, { ...context, firstLineNumber: lineNumbers[0] ?? chunk.lastLineNumber, lineNumbers, ...(header === undefined ? {} : { header }) });
      for (const dropped of chunk.oversized) {
        result.records++;
        result.rejected++;
        result.issues.push({ severity: 'error', code: 'too-long', diagnostics: `the line is ${dropped.bytes} bytes long, above the limit: skipped`, location: [`line ${dropped.lineNumber}`], file: file.path });
      }
      absorb(result);
    }
    absorb(finishParse(chunkFormat, context));
  }
  return read;
}

/**
 * mimic-code's hourly SOFA of measurement CSV or FHIR input: the canonical measurements fed to
 * the collector of the mimic-iv format (from-measurements.ts), the same columns and rows.
 */
async function canonicalMimicSofa(ctx: CommandContext, input: string, format: 'csv' | 'fhir', options: SofaOptions): Promise<number> {
  let read: CanonicalInputs;
  try {
    read = await readCanonicalInputs([input], format, defaultConceptDictionary());
  } catch (error) {
    if (error instanceof InputError) throw new CommandFailure(error.message, { path: input });
    throw new CommandFailure(`cannot read ${input}: ${(error as Error).message}`, { path: input });
  }
  const built = mimicSofaTablesFromMeasurements({ measurements: read.measurements, stays: read.stays });
  const scoring = { pfArithmetic: options.pfFloat64 === true ? ('float64' as const) : ('decimal' as const) };
  const presetInfo = SOFA_PRESETS['mimic-iv']!;
  const preset = { id: 'mimic-iv', version: presetInfo.version, title: presetInfo.title, pfArithmetic: scoring.pfArithmetic };
  const thresholds = { id: presetInfo.thresholds.id, version: presetInfo.thresholds.version };
  const withoutHeartRate = [...built.tables.stays.keys()].filter((id) => !built.tables.heartRate.has(id)).map(built.stayLabel);
  const unlinked = Object.fromEntries(built.unlinked) as Partial<Record<Concept, number>>;

  if (options.json !== true) {
    const sink: FileSink = options.out === undefined ? { write: (text) => void ctx.stdout.write(text), close: () => {} } : fileSink(options.out);
    let rows = 0;
    let stayCount = 0;
    sink.write(`${MIMIC_SOFA_COLUMNS.join(',')}\n`);
    for (const stay of mimicCodeSofaStays(built.tables, scoring)) {
      stayCount++;
      rows += stay.hours.length;
      const label = built.stayLabel(stay.stayId);
      if (stay.hours.length > 0) sink.write(`${stay.hours.map((h) => labelledHourCsvLine(h, label)).join('\n')}\n`);
    }
    sink.close();
    if (options.out !== undefined) {
      ctx.stdout.write(`wrote ${rows.toLocaleString('en-US')} hourly row(s) of ${stayCount} stay(s) to ${options.out} (preset mimic-iv)\n`);
    }
  } else {
    const stays = mimicCodeSofa(built.tables, scoring);
    const rows = stays.reduce((n, s) => n + s.hours.length, 0);
    if (options.out !== undefined) writeHourlyCsv(options.out, stays, (h) => labelledHourCsvLine(h, built.stayLabel(h.stayId)));
    const document = {
      preset,
      thresholds,
      ...(options.out === undefined
        ? {
            stays: stays.map((s) => ({
              stayId: built.stayLabel(s.stayId),
              patientId: built.patientId(s.subjectId),
              hours: s.hours.map(jsonHour),
            })),
          }
        : { out: options.out }),
      staysScored: stays.length,
      rows,
      staysWithoutHeartRate: withoutHeartRate,
      unlinked,
      records: read.records,
      rejected: read.rejected,
      issues: read.issues,
    };
    ctx.print(true, document, () => '');
  }
  if (withoutHeartRate.length > 0) {
    ctx.stderr.write(
      `immunoguide: warning: ${withoutHeartRate.length} stay(s) without a heart rate (${withoutHeartRate.slice(0, 10).join(', ')}${withoutHeartRate.length > 10 ? ', ...' : ''}): mimic-code's hour grid starts at a stay's first heart rate, so they have no rows (add heart_rate rows, or use --preset ricu or vincent1996, which need none)\n`,
    );
  }
  const unlinkedText = Object.entries(unlinked).map(([concept, n]) => `${concept} ${n}`);
  if (unlinkedText.length > 0) {
    ctx.stderr.write(`immunoguide: warning: measurements linked to no ICU stay (or, for labs, no hospital admission) were not scored: ${unlinkedText.join(', ')}\n`);
  }
  if (read.errors > 0) {
    for (const issue of read.issues.filter((i) => i.severity === 'error').slice(0, 20)) {
      ctx.stderr.write(`immunoguide: ${issue.file}: ${issue.location.join(', ')}: ${issue.diagnostics}\n`);
    }
    ctx.stderr.write(`immunoguide: ${read.errors} problem(s) in ${read.rejected} of ${read.records} record(s); the other records were scored\n`);
    return EXIT_FAILURE;
  }
  return 0;
}

interface MimicDay {
  day: number;
  hr: number;
  start: string;
  end: string;
  components: Record<(typeof COMPONENTS)[number], number>;
  total: number;
}

/** Day k = the 24 h window of row hr = 24k - 1; a last partial day ends at the stay's last row. */
function mimicDays(stay: MimicSofaStay): MimicDay[] {
  const days: MimicDay[] = [];
  const last = stay.hours.length - 1;
  for (let hr = 23, k = 1; ; hr += 24, k++) {
    const index = Math.min(hr, last);
    const hour = stay.hours[index];
    if (hour === undefined) break;
    days.push({ day: k, hr: hour.hr, start: naiveIso(hour.endtime - 24 * 3_600_000), end: naiveIso(hour.endtime), components: hour.components, total: hour.total });
    if (index === last) break;
  }
  return days;
}

function mimicDaysText(stays: ReadonlyArray<{ stayId: number; days: MimicDay[] }>): string {
  const out: string[] = [];
  for (const stay of stays) {
    out.push(`stay ${stay.stayId}: preset mimic-iv (mimic-code sofa), day k = the 24 h ending at hour row 24k - 1`);
    out.push(`  day  ${SOFA_COMPONENTS.map((c) => SHORT[c].padStart(7)).join('')}  total  window`);
    for (const day of stay.days) {
      out.push(`  ${String(day.day).padStart(3)}  ${SOFA_COMPONENTS.map((c) => String(day.components[c]).padStart(7)).join('')}  ${String(day.total).padStart(5)}  (${day.start}, ${day.end}]`);
    }
    out.push('');
  }
  if (stays.length === 0) out.push('no ICU stay with a heart-rate charting (itemid 220045): mimic-code scores none', '');
  out.push('Missing components count 0, as in mimic-code; --json --hourly gives the inputs of every hour.');
  return out.join('\n');
}

interface FileSink {
  write(text: string): void;
  close(): void;
}

/** A new file (created with its directory) written piece by piece. */
function fileSink(file: string): FileSink {
  let fd: number;
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fd = fs.openSync(file, 'w');
  } catch (error) {
    throw new CommandFailure(`cannot write ${file}: ${(error as Error).message}`, { file });
  }
  return { write: (text) => void fs.writeSync(fd, text), close: () => fs.closeSync(fd) };
}

function writeOut(file: string, text: string): void {
  const sink = fileSink(file);
  sink.write(text);
  sink.close();
}

function csvSofa(ctx: CommandContext, file: string, parameters: SofaParameters, options: SofaOptions): number {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CommandFailure(`cannot read ${file}: ${reason}`, { file });
  }
  const parsed = parseMeasurementCsvChunk(text, { firstLineNumber: 1, fileName: file, dictionary: defaultConceptDictionary() });
  const groups = groupByPatient(parsed.measurements);
  const preset = { id: parameters.id, version: parameters.version, title: parameters.title };
  const thresholds = { id: parameters.thresholds.id, version: parameters.thresholds.version };
  if (options.hourly === true) {
    const patients = hourlyByPatient(groups, parameters);
    const lines = [MIMIC_SOFA_COLUMNS.join(',')];
    for (const { patientId, hours } of patients) {
      for (const h of hours) {
        const c = h.components;
        lines.push([csvCell(patientId), h.hr, h.hourStart, h.end, c.respiration ?? 0, c.coagulation ?? 0, c.liver ?? 0, c.cardiovascular ?? 0, c.cns ?? 0, c.renal ?? 0, h.total].join(','));
      }
    }
    const csv = `${lines.join('\n')}\n`;
    if (options.out !== undefined) writeOut(options.out, csv);
    if (options.json === true) {
      ctx.print(true, { preset, thresholds, patients: options.out === undefined ? patients : undefined, out: options.out, records: parsed.records, rejected: parsed.rejected, issues: parsed.issues }, () => '');
    } else if (options.out === undefined) ctx.stdout.write(csv);
    else ctx.stdout.write(`wrote ${lines.length - 1} hourly row(s) of ${patients.length} patient(s) to ${options.out} (preset ${parameters.id})\n`);
  } else {
    const patients: SofaDaysResult[] = [];
    for (const [patientId, measurements] of groups) {
      const scored = scoreSofaDays(measurements, { parameters, ...(options.start === undefined ? {} : { start: options.start }) });
      // The parser only emits canonical, well-timed measurements: a failure here is a defect.
      if (!scored.ok) throw new CommandFailure(`patient ${patientId}: ${scored.error.message}`, { patientId, kind: scored.error.kind });
      patients.push(scored.value);
    }
    const output = {
      preset,
      thresholds,
      patients: patients.map(({ patientId, start, days }) => ({ patientId, start, days })),
      records: parsed.records,
      rejected: parsed.rejected,
      issues: parsed.issues,
    };
    ctx.print(options.json === true, output, () => humanText(output.preset.id, patients, parsed.issues));
  }
  const errors = parsed.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) {
    ctx.stderr.write(`immunoguide: ${errors.length} problem(s) in ${parsed.rejected} of ${parsed.records} line(s) of ${file}; the other lines were scored\n`);
    return EXIT_FAILURE;
  }
  return 0;
}

function hourlyByPatient(groups: Map<string, Measurement[]>, parameters: SofaParameters): Array<{ patientId: string; anchor: string | null; hours: SofaHour[] }> {
  const out: Array<{ patientId: string; anchor: string | null; hours: SofaHour[] }> = [];
  for (const [patientId, measurements] of groups) {
    const scored = scoreSofaHours(measurements, { parameters });
    if (!scored.ok) throw new CommandFailure(`patient ${patientId}: ${scored.error.message}`, { patientId, kind: scored.error.kind });
    out.push({ patientId, anchor: scored.value.anchor, hours: scored.value.hours });
  }
  return out;
}

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const SHORT: Record<(typeof SOFA_COMPONENTS)[number], string> = {
  respiration: 'resp',
  coagulation: 'coag',
  liver: 'liver',
  cardiovascular: 'cardio',
  cns: 'cns',
  renal: 'renal',
};

function humanText(preset: string, patients: readonly SofaDaysResult[], issues: readonly ImportIssue[]): string {
  const out: string[] = [];
  const cell = (value: number | null, width: number) => (value === null ? '-' : String(value)).padStart(width);
  for (const patient of patients) {
    out.push(`patient ${patient.patientId}: day 1 starts ${patient.start ?? '(no data)'}, preset ${preset}`);
    out.push(`  day  ${SOFA_COMPONENTS.map((c) => SHORT[c].padStart(7)).join('')}  total  missing`);
    for (const day of patient.days) {
      out.push(
        `  ${String(day.day).padStart(3)}  ${SOFA_COMPONENTS.map((c) => cell(day.components[c], 7)).join('')}  ${String(day.total).padStart(5)}  ${day.missing.join(', ') || '-'}`,
      );
    }
    out.push('');
  }
  if (patients.length === 0) out.push('no valid measurements', '');
  for (const issue of issues) out.push(`${issue.severity}: ${issue.location.join(', ')}: ${issue.diagnostics}`);
  out.push('"-": not measured in that day (counted 0 in the total, never assumed normal). --json adds the input behind each score.');
  return out.join('\n');
}
