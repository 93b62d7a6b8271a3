/**
 * `immunoguide sofa FILE [--start ISO] [--preset NAME] [--json]`: daily SOFA per patient from the
 * simple measurement CSV (format: src/sources/measurement-csv.ts).
 *
 * - Day k is [start + 24(k - 1) h, start + 24k h); start is --start for every patient, else each
 *   patient's first measurement.
 * - --preset names the SOFA conventions (src/clinical/sofa/parameters.ts); default mimic-iv
 *   (issue 3: SOFA matching the MIMIC-IV sofa concept's conventions).
 * - JSON: {"preset", "thresholds", "patients": [{"patientId", "start", "days": [{"day", "start",
 *   "end", "interval", "total", "components": {respiration, coagulation, liver, cardiovascular,
 *   cns, renal}, "missing", "evidence"}]}], "records", "rejected", "issues"}.
 * - Exit 0; 1 when the file cannot be read or has bad lines (the good lines are still scored and
 *   printed, every bad line is listed); 2 for usage errors (bad --start, unknown preset).
 */
import fs from 'node:fs';
import { parseInstant } from '../../clinical/instant.ts';
import {
  DEFAULT_SOFA_PRESET,
  SOFA_COMPONENTS,
  SOFA_PRESETS,
  type SofaDaysResult,
  findSofaPreset,
  groupByPatient,
  scoreSofaDays,
} from '../../clinical/sofa/index.ts';
import { defaultConceptDictionary } from '../../sources/concepts/dictionary.ts';
import type { ImportIssue } from '../../sources/import-format.ts';
import { parseMeasurementCsvChunk } from '../../sources/measurement-csv.ts';
import { CommandFailure, EXIT_FAILURE, UsageError } from '../context.ts';
import type { RegisterCommand } from './index.ts';

interface SofaOptions {
  start?: string;
  preset: string;
  json?: boolean;
}

export const register: RegisterCommand = (program, ctx, result) => {
  const presets = Object.keys(SOFA_PRESETS).join(', ');
  program
    .command('sofa')
    .description('daily SOFA per patient from a measurement CSV (patient_id,time,concept,value,unit[,end_time|interval_hours])')
    .argument('<file>', 'the measurement CSV')
    .option('--start <iso>', "start of day 1 for every patient (default: each patient's first measurement)")
    .option('--preset <name>', `SOFA conventions: ${presets}`, DEFAULT_SOFA_PRESET)
    .option('--json', 'machine-readable output')
    .action((file: string, options: SofaOptions) => {
      const parameters = findSofaPreset(options.preset);
      if (parameters === undefined) throw new UsageError(`unknown preset "${options.preset}" (presets: ${presets})`);
      if (options.start !== undefined && parseInstant(options.start) === null) {
        throw new UsageError(`--start must be an ISO 8601 date-time with a time zone, e.g. 2026-01-05T08:00:00Z (got "${options.start}")`);
      }
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
        throw new CommandFailure(`cannot read ${file}: ${reason}`, { file });
      }
      const parsed = parseMeasurementCsvChunk(text, { firstLineNumber: 1, fileName: file, dictionary: defaultConceptDictionary() });

      const patients: SofaDaysResult[] = [];
      for (const [patientId, measurements] of groupByPatient(parsed.measurements)) {
        const scored = scoreSofaDays(measurements, { parameters, ...(options.start === undefined ? {} : { start: options.start }) });
        // The parser only emits canonical, well-timed measurements: a failure here is a defect.
        if (!scored.ok) throw new CommandFailure(`patient ${patientId}: ${scored.error.message}`, { patientId, kind: scored.error.kind });
        patients.push(scored.value);
      }
      const output = {
        preset: { id: parameters.id, version: parameters.version, title: parameters.title },
        thresholds: { id: parameters.thresholds.id, version: parameters.thresholds.version },
        patients: patients.map(({ patientId, start, days }) => ({ patientId, start, days })),
        records: parsed.records,
        rejected: parsed.rejected,
        issues: parsed.issues,
      };
      ctx.print(options.json === true, output, () => humanText(output.preset.id, patients, parsed.issues));
      const errors = parsed.issues.filter((i) => i.severity === 'error');
      if (errors.length > 0) {
        ctx.stderr.write(`immunoguide: ${errors.length} problem(s) in ${parsed.rejected} of ${parsed.records} line(s) of ${file}; the other lines were scored\n`);
        result.exitCode = EXIT_FAILURE;
      }
    });
};

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
