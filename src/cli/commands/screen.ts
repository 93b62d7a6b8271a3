/**
 * `immunoguide screen PATH... [--format fhir|mimic-iv|csv] [--at ISO] [--rule-set ID]
 * [--out FILE] [--json] [--workers N]`: the whole pipeline without the store, for researchers
 * with large extracts. The files are streamed through the import readers; each patient gets
 * daily SOFA, Sepsis-3, the immune class, eligibility and therapy (src/sources/ingest/screen.ts),
 * on --workers threads.
 *
 * Output: without --out, one line per patient (a table) and the class counts, or with --json
 * one document {"patients": [...], "summary": {...}} written patient by patient. With --out
 * FILE each patient is a JSON line in FILE and stdout carries the summary only. Bad records
 * never abort: they are counted and listed; exit 1 when any record was rejected, 0 otherwise,
 * 2 for usage errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_IMMUNE_RULE_SET, IMMUNE_RULE_SETS, findImmuneRuleSet } from '../../clinical/immune/index.ts';
import { DictionaryError, loadConceptDictionary } from '../../sources/concepts/dictionary.ts';
import type { ImportFormat } from '../../sources/import-format.ts';
import { InputError } from '../../sources/ingest/files.ts';
import { ImportError } from '../../sources/ingest/run.ts';
import { type PatientScreen, type ScreenSummary, boundHeapGrowth, runScreen } from '../../sources/ingest/screen.ts';
import { parseFhirInstant } from '../../sources/time.ts';
import { CommandFailure, EXIT_FAILURE, UsageError } from '../context.ts';
import { progressBar } from '../progress.ts';
import type { RegisterCommand } from './index.ts';

interface ScreenCommandOptions {
  format?: string;
  at?: string;
  ruleSet: string;
  out?: string;
  maxIssues: string;
  json?: boolean;
  workers?: string;
}

const FORMATS: readonly ImportFormat[] = ['fhir', 'mimic-iv', 'csv'];
/** Issues printed in the human summary (all are in --json, up to --max-issues). */
const SHOWN_ISSUES = 100;

export const register: RegisterCommand = (program, ctx, result) => {
  program
    .command('screen')
    .description('run the whole pipeline on files without the store: per patient SOFA days, Sepsis-3, immune class, eligibility, therapy')
    .argument('<paths...>', 'files or directories, as for import (FHIR Bulk Data export, MIMIC-IV directory with hosp/ and icu/, CSV files)')
    .option('--format <format>', `input format: ${FORMATS.join(', ')} (default: from file names and contents)`)
    .option('--at <iso>', "evaluation time for every patient, ISO 8601 with zone (default: each patient's latest measurement)")
    .option('--rule-set <id>', `immune rule set: ${IMMUNE_RULE_SETS.map((r) => r.id).join(', ')}`, DEFAULT_IMMUNE_RULE_SET.id)
    .option('--out <file>', 'write one JSON line per patient to FILE; stdout then carries the summary only')
    .option('--max-issues <n>', 'issues listed in the summary', '10000')
    .option('--json', 'machine-readable output on stdout')
    .option('--workers <n>', 'threads that parse and assess; 1 runs in this thread (default: every core for inputs of 64 MiB or more, else 1)')
    .action(async (paths: string[], options: ScreenCommandOptions) => {
      const format = options.format;
      if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) {
        throw new UsageError(`unknown --format "${format}" (use ${FORMATS.join(', ')})`);
      }
      let at: string | undefined;
      if (options.at !== undefined) {
        const parsed = parseFhirInstant(options.at);
        if (!parsed.ok) throw new UsageError(`--at: ${parsed.reason}`);
        at = parsed.iso;
      }
      const ruleSet = findImmuneRuleSet(options.ruleSet);
      if (ruleSet === undefined) throw new UsageError(`unknown rule set "${options.ruleSet}" (known: ${IMMUNE_RULE_SETS.map((r) => r.id).join(', ')})`);
      if (!/^\d+$/.test(options.maxIssues)) throw new UsageError(`--max-issues must be a non-negative integer, got "${options.maxIssues}"`);
      if (options.workers !== undefined && !/^[1-9]\d*$/.test(options.workers)) throw new UsageError(`--workers must be a whole number >= 1, got "${options.workers}"`);
      let dictionary;
      try {
        dictionary = loadConceptDictionary(ctx.env);
      } catch (error) {
        if (error instanceof DictionaryError) throw new CommandFailure(error.message, { problems: error.problems });
        throw error;
      }
      const json = options.json === true;
      const outPath = options.out === undefined ? undefined : path.resolve(ctx.cwd, options.out);
      let out: number | undefined;
      if (outPath !== undefined) {
        try {
          out = fs.openSync(outPath, 'w');
        } catch (error) {
          throw new CommandFailure(`cannot write --out ${outPath}: ${(error as Error).message}`);
        }
      }

      // Patients are written as they are assessed: to FILE, into the JSON document, or as rows.
      let written = 0;
      const onPatient = (patient: PatientScreen): void => {
        if (out !== undefined) fs.writeSync(out, `${JSON.stringify(patient)}\n`);
        else if (json) ctx.stdout.write(`${written === 0 ? '{"patients":[\n' : ',\n'}${JSON.stringify(patient)}`);
        else {
          if (written === 0) ctx.stdout.write(`${tableRow(TABLE_HEADER)}\n`);
          ctx.stdout.write(`${tableRow(patientRow(patient))}\n`);
        }
        written++;
      };
      const reading = progressBar(ctx, 'read  ');
      const assessing = progressBar(ctx, 'assess');
      let summary: ScreenSummary;
      // Keeps the peak memory of a long run from creeping up with the size of the input.
      boundHeapGrowth();
      try {
        summary = await runScreen(paths, {
          ...(format === undefined ? {} : { format: format as ImportFormat }),
          dictionary,
          ...(at === undefined ? {} : { at }),
          ruleSet,
          maxIssues: Number(options.maxIssues),
          ...(options.workers === undefined ? {} : { workers: Number(options.workers) }),
          onPatient,
          onProgress: (progress) => {
            if (progress.phase === 'read') reading.update(progress.bytesRead, progress.totalBytes, progress.records, 'records');
            else {
              reading.done();
              assessing.update(progress.done, progress.patients, progress.done, 'patients');
            }
          },
        });
      } catch (error) {
        if (error instanceof InputError || error instanceof ImportError) throw new UsageError(error.message);
        throw error;
      } finally {
        reading.done();
        assessing.done();
        if (out !== undefined) fs.closeSync(out);
      }
      const report = { ...summary, ...(outPath === undefined ? {} : { out: outPath }) };
      if (json) {
        const text = JSON.stringify(report, null, 2);
        ctx.stdout.write(out === undefined ? `${written === 0 ? '{"patients":[' : '\n'}],"summary":${text}}\n` : `${text}\n`);
      } else ctx.stdout.write(`${humanSummary(summary, outPath)}\n`);
      if (!summary.ok) {
        ctx.stderr.write(`immunoguide: ${summary.rejected} record(s) rejected, ${summary.errors} error(s); see the summary\n`);
        result.exitCode = EXIT_FAILURE;
      }
    });
};

const TABLE_HEADER = ['patient', 'site', 'at', 'class', 'SOFA', 'Sepsis-3', 'eligibility', 'therapy', 'data gaps'];
const WIDTHS = [14, 10, 24, 15, 4, 8, 12, 20, 0];

function tableRow(cells: readonly string[]): string {
  return cells
    .map((cell, i) => (WIDTHS[i]! > 0 ? cell.padEnd(WIDTHS[i]!) : cell))
    .join('  ')
    .trimEnd();
}

function patientRow(p: PatientScreen): string[] {
  const lastSofa = p.sofa.days.at(-1)?.total;
  return [
    p.patientId,
    p.siteId ?? '-',
    p.at ?? '-',
    p.immuneClass?.class ?? 'not assessed',
    lastSofa === undefined ? '-' : String(lastSofa),
    p.sepsis3 === null ? '?' : p.sepsis3.met ? 'yes' : 'no',
    p.eligibility?.status ?? '-',
    p.therapy === null ? '-' : p.therapy.regimen.drug,
    String(p.dataGaps.length),
  ];
}

function humanSummary(summary: ScreenSummary, outPath: string | undefined): string {
  const n = (value: number): string => value.toLocaleString('en-US');
  const at = summary.at === null ? "each patient's latest measurement" : summary.at;
  const lines = [
    `screened ${n(summary.patients)} patient(s) at ${at} (${summary.ruleSet.id} ${summary.ruleSet.version}, SOFA ${summary.sofaPreset})${outPath === undefined ? '' : `; results in ${outPath}`}`,
    `  classes: ${Object.entries(summary.classes).map(([name, count]) => `${name} ${n(count)}`).join(', ')}${summary.notAssessed > 0 ? `; not assessed (no measurements) ${n(summary.notAssessed)}` : ''}`,
    `  Sepsis-3: met ${n(summary.sepsis3.met)}, not met ${n(summary.sepsis3.notMet)}, not assessable ${n(summary.sepsis3.notAssessable)}`,
    `  eligibility: eligible ${n(summary.eligibility.eligible)}, not eligible ${n(summary.eligibility.notEligible)}, incomplete ${n(summary.eligibility.incomplete)}`,
    `read ${summary.files.length} file(s) in ${(summary.elapsedMs / 1000).toFixed(1)} s (${n(summary.recordsPerSecond)} records/s): records ${n(summary.records)}, measurements ${n(summary.measurements)}, rejected ${n(summary.rejected)}, skipped (not mapped) ${n(summary.skipped)}`,
  ];
  const issueCount = summary.issueCount;
  if (issueCount > 0) {
    lines.push(`issues (${summary.errors} error(s), ${summary.warnings} warning(s)):`);
    const shown = summary.issues.slice(0, SHOWN_ISSUES);
    for (const issue of shown) lines.push(`  ${issue.file}:${issue.location.join(' ')}: ${issue.severity}: ${issue.diagnostics}`);
    const more = issueCount - shown.length;
    if (more > 0) lines.push(`  ... and ${n(more)} more (use --json)`);
  }
  if (summary.unmapped.length > 0) {
    lines.push('most frequent codes not in the concept dictionary (map them in IMMUNOGUIDE_CONCEPTS_FILE if needed):');
    for (const { code, count } of summary.unmapped.slice(0, 10)) lines.push(`  ${n(count)}  ${code}`);
  }
  return lines.join('\n');
}
