/**
 * `immunoguide report --input trial.json [--blinded] --out report.html`: the endpoint report of
 * a locked trial dataset as one self-contained HTML file (printable to PDF). The analysis and
 * the rendering are src/stats (pure); this file reads, validates, writes and prints.
 *
 * Blinding: the unblinded report needs the unblinded dataset (arms), which only the
 * statistician and unblinded roles hold (the server's 'analysis:unblinded' permission);
 * --blinded produces the pooled report, which carries no arm information and may go to
 * everyone. Documented in docs/statistics.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ENDPOINT_DEFINITIONS } from '../../clinical/endpoints.ts';
import { type TrialDataset, blindTrialDataset, parseTrialDataset } from '../../stats/trial-data.ts';
import { blindedTrialReport, unblindedTrialReport } from '../../stats/trial-report.ts';
import { VERSION } from '../../version.ts';
import { CommandFailure, UsageError } from '../context.ts';
import type { RegisterCommand } from './index.ts';

interface ReportOptions {
  input: string;
  out: string;
  blinded?: boolean;
  definition?: string;
  generatedAt?: string;
  json?: boolean;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Reads and validates a trial.json file; data problems are CommandFailure (exit 1). */
export function readTrialDataset(file: string, cwd: string): TrialDataset {
  const fullPath = path.resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(fullPath, 'utf8');
  } catch (error) {
    throw new CommandFailure(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { file: fullPath });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CommandFailure(`${file} is not valid JSON: ${(error as Error).message}`, { file: fullPath });
  }
  const parsed = parseTrialDataset(json);
  if (!parsed.ok) {
    const shown = parsed.error.slice(0, 10).map((p) => `${p.path}: ${p.message}`);
    const more = parsed.error.length > shown.length ? `; and ${parsed.error.length - shown.length} more` : '';
    throw new CommandFailure(`${file} is not a valid trial dataset: ${shown.join('; ')}${more}`, { problems: parsed.error });
  }
  return parsed.value;
}

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('report')
    .description('endpoint report of a trial dataset as self-contained HTML (unblinded, or pooled with --blinded)')
    .requiredOption('--input <file>', 'trial dataset JSON (format immunoguide-trial/1, see docs/statistics.md)')
    .requiredOption('--out <file>', 'HTML file to write')
    .option('--blinded', 'pooled report without any treatment-arm information')
    .option('--definition <id>', `analyse under this shipped endpoint definition instead of the dataset's (${Object.keys(ENDPOINT_DEFINITIONS).join(', ')})`)
    .option('--generated-at <instant>', 'generation time printed in the report (ISO 8601 with zone; default: now)')
    .option('--json', 'machine-readable summary of what was written')
    .action((options: ReportOptions) => {
      if (options.definition !== undefined && !Object.hasOwn(ENDPOINT_DEFINITIONS, options.definition)) {
        throw new UsageError(`--definition ${options.definition}: unknown (shipped: ${Object.keys(ENDPOINT_DEFINITIONS).join(', ')})`);
      }
      if (options.generatedAt !== undefined && !ISO_INSTANT.test(options.generatedAt)) {
        throw new UsageError(`--generated-at must be an ISO 8601 instant with a time zone, e.g. 2026-03-01T12:00:00Z (got '${options.generatedAt}')`);
      }
      const loaded = readTrialDataset(options.input, ctx.cwd);
      const data: TrialDataset =
        options.definition === undefined ? loaded : { ...loaded, endpointDefinition: ENDPOINT_DEFINITIONS[options.definition] ?? loaded.endpointDefinition };
      const meta = {
        generatedAt: options.generatedAt ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        softwareVersion: VERSION,
        source: path.basename(options.input),
      };
      const blinded = options.blinded === true;
      // The same functions the server's analysis and report routes call (src/stats/trial-report.ts).
      const report = blinded ? blindedTrialReport(blindTrialDataset(data)) : unblindedTrialReport(data);
      if (!report.ok) {
        const { message, problems } = report.error;
        throw new CommandFailure(`${options.input}: ${message}`, problems === null ? undefined : { problems });
      }
      const html = report.value.render(meta);
      const analysed = report.value.analysed;
      const outPath = path.resolve(ctx.cwd, options.out);
      try {
        writeFileSync(outPath, html);
      } catch (error) {
        throw new CommandFailure(`cannot write ${options.out} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { file: outPath });
      }
      const summary = {
        out: outPath,
        blinded,
        bytes: Buffer.byteLength(html),
        patients: data.patients.length,
        analysed,
        endpointDefinition: { id: data.endpointDefinition.id, version: data.endpointDefinition.version },
        sofaPreset: data.trial.sofaPreset,
        generatedAt: meta.generatedAt,
      };
      ctx.print(options.json === true, summary, () =>
        `wrote ${options.out}: ${blinded ? 'blinded pooled' : 'UNBLINDED'} report, ${summary.patients} patients (${analysed} analysed), endpoint definition ${summary.endpointDefinition.id} ${summary.endpointDefinition.version}, SOFA preset ${summary.sofaPreset}`,
      );
    });
};
