/**
 * `immunoguide analyse proportions` and `immunoguide analyse survival`: the SAP's two-arm
 * comparisons on counts or on a CSV of follow-up times. The statistics are src/stats (validated
 * against R); this file only parses arguments and files and prints. Documented, with the JSON
 * contract, in docs/statistics.md.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import {
  type ProportionsComparison,
  type SurvivalComparison,
  type SurvivalRecord,
  compareProportions,
  compareSurvival,
} from '../../stats/analysis.ts';
import type { ArmCounts } from '../../stats/proportions.ts';
import { type CommandContext, CommandFailure, UsageError } from '../context.ts';
import { CsvSyntaxError, parseCsv } from '../csv.ts';
import type { RegisterCommand } from './index.ts';

export const register: RegisterCommand = (program, ctx) => {
  const analyse = program
    .command('analyse')
    .description('endpoint statistics as the statistical analysis plan reports them (validated against R)');
  registerProportions(analyse, ctx);
  registerSurvival(analyse, ctx);
};

// ---------------------------------------------------------------------------------------------
// proportions
// ---------------------------------------------------------------------------------------------

const COUNTS = /^\s*(\d+)\s*\/\s*(\d+)\s*$/;

/** Parses "EVENTS/N" (e.g. "12/40"); anything else is a usage error naming the flag. */
export function parseCounts(flag: string, value: string): ArmCounts {
  const match = COUNTS.exec(value);
  if (!match) throw new UsageError(`${flag} must be EVENTS/N with whole numbers, e.g. ${flag} 12/40 (got '${value}')`);
  const events = Number(match[1]);
  const n = Number(match[2]);
  if (!Number.isSafeInteger(events) || !Number.isSafeInteger(n)) throw new UsageError(`${flag} ${value}: the numbers are too large`);
  if (n < 1) throw new UsageError(`${flag} ${value}: N must be at least 1`);
  if (events > n) throw new UsageError(`${flag} ${value}: EVENTS (${events}) cannot exceed N (${n})`);
  return { events, n };
}

function registerProportions(analyse: Command, ctx: CommandContext): void {
  analyse
    .command('proportions')
    .description(
      'compare event (responder) proportions of two arms: Wilson CIs, risk difference (Newcombe), odds ratio (Woolf), Fisher and chi-square P',
    )
    .requiredOption('--treated <events/n>', 'events and patients in the treated arm, e.g. 12/40')
    .requiredOption('--control <events/n>', 'events and patients in the control arm, e.g. 5/38')
    .option('--json', 'machine-readable output')
    .action((options: { treated: string; control: string; json?: boolean }) => {
      const treated = parseCounts('--treated', options.treated);
      const control = parseCounts('--control', options.control);
      const result = compareProportions(treated, control);
      if (!result.ok) throw new UsageError(result.error.message);
      ctx.print(options.json === true, result.value, () => proportionsText(result.value));
    });
}

function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(1)}%`;
}

/** Four significant digits, exponent notation below 1e-4 (statistics, P values, ratios). */
export function formatNumber(value: number | null): string {
  if (value === null) return 'NA';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-4 || abs >= 1e6) return value.toExponential(2);
  return value.toPrecision(4);
}

/** Times as given in the data (no padding zeros). */
function formatTime(value: number | null): string {
  return value === null ? 'NA' : String(Number(value.toPrecision(8)));
}

function proportionsText(r: ProportionsComparison): string {
  const arm = (name: string, a: ProportionsComparison['treated']) =>
    `${name.padEnd(8)} ${`${a.events}/${a.n}`.padStart(11)}  ${percent(a.proportion).padStart(6)}  (95% CI ${percent(a.ci95[0])} to ${percent(a.ci95[1])}, Wilson)`;
  const rd = r.riskDifference;
  const or = r.oddsRatio;
  return [
    arm('treated', r.treated),
    arm('control', r.control),
    '',
    `risk difference (treated - control): ${(100 * rd.estimate).toFixed(1)} percentage points` +
      ` (95% CI ${(100 * rd.ci95[0]).toFixed(1)} to ${(100 * rd.ci95[1]).toFixed(1)}, Newcombe hybrid score)`,
    or.estimate === null || or.ci95 === null
      ? `odds ratio (treated vs control): not defined (${or.note ?? 'undefined'})`
      : `odds ratio (treated vs control): ${formatNumber(or.estimate)} (95% CI ${formatNumber(or.ci95[0])} to ${formatNumber(or.ci95[1])}, Woolf` +
        `${or.correction ? '; 0.5 added to every cell because one is zero' : ''})`,
    `Fisher exact test, two-sided: P = ${formatNumber(r.fisherP)}`,
    r.chiSquareP === null
      ? 'chi-square test: not defined (an outcome column is empty)'
      : `chi-square test (Pearson, no continuity correction): X2 = ${formatNumber(r.chiSquareStatistic)}, P = ${formatNumber(r.chiSquareP)}` +
        `; with Yates' correction P = ${formatNumber(r.chiSquareYatesP)}`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// survival
// ---------------------------------------------------------------------------------------------

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Parses --at "7,14,28" into times >= 0. */
export function parseTimes(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  const times = parts.map((p) => (DECIMAL.test(p) ? Number(p) : Number.NaN));
  if (parts.length === 0 || times.some((t) => !(Number.isFinite(t) && t >= 0))) {
    throw new UsageError(`--at must be a comma-separated list of times >= 0, e.g. --at 7,14,28 (got '${value}')`);
  }
  return times;
}

const EVENT_VALUES: Record<string, boolean> = { '1': true, '0': false, true: true, false: false };

interface SurvivalOptions {
  time: string;
  event: string;
  group: string;
  reference?: string;
  at?: string;
  json?: boolean;
}

function dataError(line: number, column: string, value: string, expected: string): CommandFailure {
  return new CommandFailure(`line ${line}, column '${column}': expected ${expected}, got '${value}'`, { line, column, value });
}

/** Reads the follow-up records from the CSV text; data problems are CommandFailure (exit 1). */
export function readSurvivalCsv(text: string, options: Pick<SurvivalOptions, 'time' | 'event' | 'group'>, file: string): SurvivalRecord[] {
  let records;
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new CommandFailure(`${file} line ${error.line}: ${error.message}`, { line: error.line });
    throw error;
  }
  const header = records[0];
  if (header === undefined) throw new CommandFailure(`${file} is empty: expected a header line and data`);
  const names = header.fields.map((f) => f.trim());
  const columnIndex = (flag: string, name: string): number => {
    const index = names.indexOf(name);
    if (index < 0) throw new UsageError(`${flag} ${name}: no such column in ${file} (columns: ${names.join(', ')})`);
    if (names.indexOf(name, index + 1) >= 0) throw new CommandFailure(`column '${name}' appears more than once in the header of ${file}`);
    return index;
  };
  const timeIndex = columnIndex('--time', options.time);
  const eventIndex = columnIndex('--event', options.event);
  const groupIndex = columnIndex('--group', options.group);
  const rows = records.slice(1);
  if (rows.length === 0) throw new CommandFailure(`${file} has a header but no data rows`);
  return rows.map((record) => {
    if (record.fields.length !== names.length) {
      throw new CommandFailure(`line ${record.line}: expected ${names.length} fields as in the header, found ${record.fields.length}`, {
        line: record.line,
      });
    }
    const rawTime = (record.fields[timeIndex] as string).trim();
    const time = DECIMAL.test(rawTime) ? Number(rawTime) : Number.NaN;
    if (!(Number.isFinite(time) && time >= 0)) throw dataError(record.line, options.time, rawTime, 'a follow-up time >= 0');
    const rawEvent = (record.fields[eventIndex] as string).trim();
    const event = EVENT_VALUES[rawEvent.toLowerCase()];
    if (event === undefined) throw dataError(record.line, options.event, rawEvent, '1 (event) or 0 (censored)');
    const group = (record.fields[groupIndex] as string).trim();
    if (group === '') throw dataError(record.line, options.group, group, 'a group name');
    return { time, event, group };
  });
}

function registerSurvival(analyse: Command, ctx: CommandContext): void {
  analyse
    .command('survival')
    .description('Kaplan-Meier per group, log-rank test and Cox hazard ratio (Efron ties) from a CSV of follow-up')
    .argument('<file>', 'CSV file with a header line, one row per patient')
    .requiredOption('--time <column>', 'column with the follow-up time (any unit, >= 0)')
    .requiredOption('--event <column>', 'column with 1 (event) or 0 (censored); true/false also accepted')
    .requiredOption('--group <column>', 'column with the group (arm); exactly two groups')
    .option('--reference <level>', 'reference group of the hazard ratio (default: the first group name in sorted order)')
    .option('--at <times>', 'report the curves at these times (comma-separated), e.g. 7,14,28')
    .option('--json', 'machine-readable output')
    .action((file: string, options: SurvivalOptions) => {
      const at = options.at === undefined ? undefined : parseTimes(options.at);
      const fullPath = path.resolve(ctx.cwd, file);
      let text: string;
      try {
        text = readFileSync(fullPath, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'error';
        throw new CommandFailure(`cannot read ${file} (${code})`, { file: fullPath });
      }
      const records = readSurvivalCsv(text, options, file);
      const result = compareSurvival(records, {
        ...(options.reference === undefined ? {} : { reference: options.reference }),
        ...(at === undefined ? {} : { at }),
      });
      if (!result.ok) {
        const e = result.error;
        if (e.kind === 'reference') throw new UsageError(`--reference ${options.reference ?? ''}: ${e.message}`);
        throw new CommandFailure(`${file}, column '${options.group}': ${e.message}`, 'groups' in e ? { groups: e.groups } : undefined);
      }
      ctx.print(options.json === true, result.value, () => survivalText(result.value, options, at !== undefined));
    });
}

function survivalText(r: SurvivalComparison, options: SurvivalOptions, atRequested: boolean): string {
  const levels = [r.reference, r.comparison];
  const width = Math.max(8, ...levels.map((l) => l.length)) + 2;
  const lines = [
    `survival by '${options.group}' (time '${options.time}', event '${options.event}'); reference group: ${r.reference}`,
    '',
    `${'group'.padEnd(width)}${'n'.padStart(6)}${'events'.padStart(8)}${'median'.padStart(9)}  95% CI`,
    ...levels.map((level) => {
      const counts = r.groups[level] ?? { n: 0, events: 0 };
      const ci = r.medianCi95[level] ?? [null, null];
      return `${level.padEnd(width)}${String(counts.n).padStart(6)}${String(counts.events).padStart(8)}${formatTime(r.median[level] ?? null).padStart(9)}  ${formatTime(ci[0])} to ${formatTime(ci[1])}`;
    }),
    '',
    `log-rank test: chi-square ${formatNumber(r.logRank.chiSquare)} on ${r.logRank.df} df, P = ${formatNumber(r.logRank.p)}`,
    r.cox.hazardRatio === null || r.cox.ci95 === null
      ? `Cox model: no hazard ratio (${r.cox.note ?? 'undefined'})`
      : `Cox model (Efron ties): hazard ratio ${r.comparison} vs ${r.reference} ${formatNumber(r.cox.hazardRatio)}` +
        ` (95% CI ${formatNumber(r.cox.ci95[0])} to ${formatNumber(r.cox.ci95[1])}), Wald P = ${formatNumber(r.cox.p)}`,
  ];
  if (atRequested) {
    lines.push('', 'Kaplan-Meier survival (95% CI) and number at risk:');
    const times = (r.km[r.reference] ?? []).map((row) => row.time);
    lines.push(`${'time'.padEnd(8)}${levels.map((l) => l.padEnd(30)).join('')}`.trimEnd());
    times.forEach((time, i) => {
      const cells = levels.map((level) => {
        const row = r.km[level]?.[i];
        if (row === undefined) return ''.padEnd(30);
        const ci = row.lower === null || row.upper === null ? 'NA' : `${row.lower.toFixed(3)}-${row.upper.toFixed(3)}`;
        return `${row.survival.toFixed(3)} (${ci}) n=${row.atRisk}`.padEnd(30);
      });
      lines.push(`${formatTime(time).padEnd(8)}${cells.join('')}`.trimEnd());
    });
  }
  return lines.join('\n');
}
