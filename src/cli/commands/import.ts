/**
 * `immunoguide import PATH... [--format fhir|mimic-iv|csv] [--site ID] [--json]`: FHIR R4
 * (NDJSON, .ndjson.gz, Bundles), MIMIC-IV tables (a directory with hosp/ and icu/, .csv or
 * .csv.gz) and the simple measurement CSV into the configured store.
 *
 * Idempotent (provenance = source + record id), resumable after a crash or kill -9 (batches
 * commit with their file's checkpoint), bad records never abort (each is an issue with file,
 * line and reason). Exit 0 when every record was read, 1 when any was rejected (the summary is
 * printed either way), 2 for usage errors.
 */
import fs from 'node:fs';
import { loadConfig } from '../../config.ts';
import { DictionaryError, loadConceptDictionary } from '../../sources/concepts/dictionary.ts';
import type { ImportFormat, ImportIssue } from '../../sources/import-format.ts';
import { InputError } from '../../sources/ingest/files.ts';
import { type ImportProgress, type ImportSummary, ImportError, runImport } from '../../sources/ingest/run.ts';
import { StoreImportSink } from '../../store/import-sink.ts';
import { openMigratedDatabase } from '../../store/open.ts';
import { type CommandContext, CommandFailure, EXIT_FAILURE, UsageError } from '../context.ts';
import type { RegisterCommand } from './index.ts';

interface ImportOptions {
  format?: string;
  site?: string;
  source?: string;
  json?: boolean;
  resume: boolean;
  dryRun?: boolean;
  batchSize: string;
  maxIssues: string;
  issuesOut?: string;
  progress: string;
}

const FORMATS: readonly ImportFormat[] = ['fhir', 'mimic-iv', 'csv'];
const PROGRESS_MODES = ['auto', 'bar', 'ndjson', 'none'] as const;
type ProgressMode = (typeof PROGRESS_MODES)[number];

export const register: RegisterCommand = (program, ctx, result) => {
  program
    .command('import')
    .description('import FHIR R4 (NDJSON, Bundles), MIMIC-IV tables or the simple measurement CSV into the store')
    .argument('<paths...>', 'files or directories (a FHIR Bulk Data export, a MIMIC-IV directory with hosp/ and icu/, CSV files)')
    .option('--format <format>', `input format: ${FORMATS.join(', ')} (default: from file names and contents)`)
    .option('--site <id>', 'site of patients the data does not assign to one (default: "default")')
    .option('--source <label>', 'provenance source label (default: the format name)')
    .option('--no-resume', 'ignore checkpoints of earlier runs and read every file again (still stores nothing twice)')
    .option('--dry-run', 'parse and report without touching the database')
    .option('--batch-size <n>', 'measurements per committed batch', '20000')
    .option('--max-issues <n>', 'issues listed in the summary (all go to --issues-out)', '10000')
    .option('--issues-out <file>', 'write every issue as one JSON line (OperationOutcome.issue) to this file')
    .option('--progress <mode>', `progress on stderr: ${PROGRESS_MODES.join(', ')} (auto: a bar on a terminal)`, 'auto')
    .option('--json', 'machine-readable summary on stdout')
    .action(async (paths: string[], options: ImportOptions) => {
      const format = options.format;
      if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) {
        throw new UsageError(`unknown --format "${format}" (use ${FORMATS.join(', ')})`);
      }
      const batchSize = positiveInteger(options.batchSize, '--batch-size');
      const maxIssues = positiveInteger(options.maxIssues, '--max-issues', true);
      const progressMode = options.progress as ProgressMode;
      if (!PROGRESS_MODES.includes(progressMode)) throw new UsageError(`unknown --progress "${options.progress}" (use ${PROGRESS_MODES.join(', ')})`);

      let dictionary;
      try {
        dictionary = loadConceptDictionary(ctx.env);
      } catch (error) {
        if (error instanceof DictionaryError) throw new CommandFailure(error.message, { problems: error.problems });
        throw error;
      }
      const issuesOut = options.issuesOut === undefined ? undefined : fs.openSync(options.issuesOut, 'w');
      const progress = progressReporter(ctx, progressMode);
      const db = options.dryRun === true ? undefined : (await openMigratedDatabase(loadConfig(ctx.env, ctx.cwd))).db;
      let summary: ImportSummary;
      try {
        summary = await runImport(paths, {
          ...(format === undefined ? {} : { format: format as ImportFormat }),
          ...(options.site === undefined ? {} : { siteId: options.site }),
          ...(options.source === undefined ? {} : { source: options.source }),
          dictionary,
          ...(db === undefined ? {} : { sink: new StoreImportSink(db) }),
          resume: options.resume,
          batchMeasurements: batchSize,
          maxIssues,
          onProgress: progress.update,
          ...(issuesOut === undefined ? {} : { onIssue: (issue: ImportIssue) => fs.writeSync(issuesOut, `${JSON.stringify(issue)}\n`) }),
        });
      } catch (error) {
        if (error instanceof InputError || error instanceof ImportError) throw new UsageError(error.message);
        throw error;
      } finally {
        progress.done();
        if (issuesOut !== undefined) fs.closeSync(issuesOut);
        await db?.close();
      }
      const report = { database: db?.location ?? null, dryRun: options.dryRun === true, ...summary };
      ctx.print(options.json === true, report, () => humanSummary(summary, options.dryRun === true));
      if (!summary.ok) {
        ctx.stderr.write(`immunoguide: ${summary.rejected} record(s) rejected, ${summary.errors} error(s); see the summary\n`);
        result.exitCode = EXIT_FAILURE;
      }
    });
};

function positiveInteger(text: string, flag: string, allowZero = false): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) throw new UsageError(`${flag} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${text}"`);
  return value;
}

function humanSummary(summary: ImportSummary, dryRun: boolean): string {
  const n = (value: number): string => value.toLocaleString('en-US');
  const lines = [
    `${dryRun ? 'parsed (dry run)' : 'imported'} ${summary.files.length} file(s) in ${(summary.elapsedMs / 1000).toFixed(1)} s (${n(summary.recordsPerSecond)} records/s)`,
    `  records ${n(summary.records)}: rejected ${n(summary.rejected)}, skipped (not mapped) ${n(summary.skipped)}`,
    `  measurements ${n(summary.measurements)}${dryRun ? '' : `: stored ${n(summary.inserted)}, already stored ${n(summary.duplicates)}`}`,
  ];
  for (const file of summary.files) {
    const note = file.alreadyImported ? ' (already imported; skipped)' : file.resumedAfterLine > 0 ? ` (resumed after line ${file.resumedAfterLine})` : '';
    lines.push(`  ${file.path} [${file.format}]: ${n(file.records)} records, ${n(file.measurements)} measurements, ${n(file.rejected)} rejected${note}`);
  }
  if (summary.issues.length > 0) {
    lines.push(`issues (${summary.errors} error(s), ${summary.warnings} warning(s)):`);
    const shown = summary.issues.slice(0, 100);
    for (const issue of shown) lines.push(`  ${issue.file}:${issue.location.join(' ')}: ${issue.severity}: ${issue.diagnostics}`);
    const more = summary.issues.length - shown.length + summary.issuesOmitted;
    if (more > 0) lines.push(`  ... and ${n(more)} more (use --json or --issues-out)`);
  }
  if (summary.unmapped.length > 0) {
    lines.push('most frequent codes not in the concept dictionary (map them in IMMUNOGUIDE_CONCEPTS_FILE if needed):');
    for (const { code, count } of summary.unmapped.slice(0, 10)) lines.push(`  ${n(count)}  ${code}`);
  }
  return lines.join('\n');
}

interface ProgressReporter {
  update: (progress: ImportProgress) => void;
  done: () => void;
}

/** A one-line progress bar (records/s, ETA) on a terminal, NDJSON lines for supervisors, or nothing. */
function progressReporter(ctx: CommandContext, mode: ProgressMode): ProgressReporter {
  const resolved = mode === 'auto' ? (ctx.stderr.isTTY === true ? 'bar' : 'none') : mode;
  if (resolved === 'none') return { update: () => {}, done: () => {} };
  let last = 0;
  let drawn = false;
  return {
    update(progress) {
      const now = progress.elapsedMs;
      if (resolved === 'ndjson') {
        ctx.stderr.write(`${JSON.stringify({ progress })}\n`);
        return;
      }
      if (now - last < 100 && progress.bytesRead < progress.totalBytes) return;
      last = now;
      const fraction = progress.totalBytes > 0 ? Math.min(1, progress.bytesRead / progress.totalBytes) : 0;
      const width = 24;
      const filled = Math.round(fraction * width);
      const seconds = now / 1000;
      const rate = seconds > 0 ? progress.records / seconds : 0;
      const eta = fraction > 0 && fraction < 1 ? (seconds * (1 - fraction)) / fraction : 0;
      const line =
        `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ` +
        `${progress.records.toLocaleString('en-US')} records  ${Math.round(rate).toLocaleString('en-US')} rec/s  ` +
        `ETA ${formatDuration(eta)}  file ${progress.fileIndex + 1}/${progress.fileCount}`;
      ctx.stderr.write(`\r${line}\u001b[K`);
      drawn = true;
    },
    done() {
      if (drawn) ctx.stderr.write('\n');
    },
  };
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
