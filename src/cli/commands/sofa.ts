/**
 * `immunoguide sofa FILE [--start ISO] [--preset NAME] [--json]`: daily SOFA per patient from
 * the simple measurement CSV (see src/sources/measurement-csv.ts for the format).
 */
import fs from 'node:fs';
import { SOFA_COMPONENTS, SOFA_PRESETS, DEFAULT_SOFA_PRESET, sofaDays } from '../../clinical/sofa/index.ts';
import { parseInstant } from '../../clinical/instant.ts';
import type { Measurement } from '../../clinical/types.ts';
import { defaultConceptDictionary } from '../../sources/concepts/dictionary.ts';
import { parseMeasurementCsvChunk } from '../../sources/measurement-csv.ts';
import { CommandFailure, UsageError } from '../context.ts';
import type { RegisterCommand } from './index.ts';

export const register: RegisterCommand = (program, ctx, result) => {
  program
    .command('sofa')
    .description('daily SOFA per patient from a measurement CSV (patient_id,time,concept,value,unit[,end_time|interval_hours])')
    .argument('<file>', 'the measurement CSV')
    .option('--start <iso>', 'start of day 1 for every patient (default: each patient\'s first measurement)')
    .option('--preset <name>', `SOFA conventions: ${Object.keys(SOFA_PRESETS).join(', ')}`, DEFAULT_SOFA_PRESET)
    .option('--json', 'machine-readable output')
    .action(async (file: string, options: { start?: string; preset: string; json?: boolean }) => {
      const parameters = SOFA_PRESETS[options.preset];
      if (!parameters) throw new UsageError(`unknown preset "${options.preset}"; presets: ${Object.keys(SOFA_PRESETS).join(', ')}`);
      if (options.start !== undefined && parseInstant(options.start) === null) {
        throw new UsageError(`--start must be an ISO 8601 date-time with a time zone, got "${options.start}"`);
      }
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (error) {
        throw new CommandFailure(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
      }
      const parsed = parseMeasurementCsvChunk(text, { firstLineNumber: 1, fileName: file, dictionary: defaultConceptDictionary() });
      const byPatient = new Map<string, Measurement[]>();
      for (const m of parsed.measurements) {
        let list = byPatient.get(m.patientId);
        if (!list) byPatient.set(m.patientId, (list = []));
        list.push(m);
      }
      const patients = [...byPatient.entries()].map(([patientId, measurements]) => {
        const days = sofaDays(measurements, { parameters, ...(options.start !== undefined ? { start: options.start } : {}) });
        return { patientId, start: days[0]?.start ?? null, days };
      });
      const errors = parsed.issues.filter((i) => i.severity === 'error');
      const output = {
        preset: { id: parameters.preset, version: parameters.version, title: parameters.title },
        patients,
        records: parsed.records,
        rejected: parsed.rejected,
        issues: parsed.issues,
      };
      ctx.print(options.json === true, output, () => renderTable(output.preset.id, patients, parsed.issues));
      if (errors.length > 0) {
        ctx.stderr.write(`immunoguide: ${parsed.rejected} of ${parsed.records} line(s) rejected (listed above); the other lines were scored\n`);
        result.exitCode = 1;
      }
    });
};

function renderTable(
  preset: string,
  patients: Array<{ patientId: string; start: string | null; days: ReturnType<typeof sofaDays> }>,
  issues: Array<{ location: string[]; diagnostics: string; severity: string }>,
): string {
  const out: string[] = [];
  const cell = (value: number | null) => (value === null ? '-' : String(value)).padStart(5);
  for (const patient of patients) {
    out.push(`patient ${patient.patientId}: day 1 starts ${patient.start ?? '(no data)'}, preset ${preset}`);
    out.push(`  day${SOFA_COMPONENTS.map((c) => c.slice(0, 5).padStart(6)).join('')}  total  missing`);
    for (const day of patient.days) {
      out.push(
        `  ${String(day.day).padStart(3)}${SOFA_COMPONENTS.map((c) => ` ${cell(day.components[c])}`).join('')}  ${String(day.total).padStart(5)}  ${day.missing.join(', ') || '-'}`,
      );
    }
  }
  if (patients.length === 0) out.push('no valid measurements');
  for (const issue of issues) out.push(`${issue.severity}: ${issue.location.join(', ')}: ${issue.diagnostics}`);
  out.push('"-": not measured in that window (counted as 0 in the total, never assumed normal)');
  return out.join('\n');
}
