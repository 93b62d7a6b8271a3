/**
 * `immunoguide simulate`: Monte Carlo power of the primary comparison (responders, active vs
 * placebo) for a planned trial, the power curve against the number randomised, the sample size
 * for a target power, the analytic planning figure (R's power.prop.test) for comparison, and
 * optionally an SVG plot of the curve and one synthetic trial dataset for demos. The
 * computations are src/stats/power.ts and src/stats/simulate-trial.ts; this file parses, prints
 * and writes. Documented in docs/statistics.md.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  POWER_TESTS,
  POWER_TEST_LABELS,
  type PowerEstimate,
  type PowerScenario,
  type PowerTest,
  type StratumScenario,
  checkScenario,
  exactPower,
  powerPropTestN,
  sampleSizeForPower,
  simulatePower,
} from '../../stats/power.ts';
import { powerCurveSvg } from '../../stats/report/plots.ts';
import { type SyntheticTrialOptions, simulateTrialDataset } from '../../stats/simulate-trial.ts';
import { STRATA, trialDatasetJson } from '../../stats/trial-data.ts';
import { CommandFailure, UsageError } from '../context.ts';
import type { RegisterCommand } from './index.ts';

interface SimulateOptions {
  treated: string;
  control: string;
  n?: string;
  dropout: string;
  alpha: string;
  test: string;
  targetPower: string;
  nRange?: string;
  replicates: string;
  seed: string;
  prevalence: string;
  plot?: string;
  writeTrial?: string;
  json?: boolean;
}

const NUMBER = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/;
const MAX_REPLICATES = 10_000_000;

function probability(flag: string, value: string, open = false): number {
  const x = NUMBER.test(value) ? Number(value) : Number.NaN;
  if (!(x >= 0 && x <= 1) || (open && (x === 0 || x === 1))) {
    throw new UsageError(`${flag} must be a probability ${open ? 'strictly between 0 and 1' : 'between 0 and 1'}, e.g. ${flag} 0.4 (got '${value}')`);
  }
  return x;
}

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  if (!/^\s*\d+\s*$/.test(value)) throw new UsageError(`${flag} must be a whole number (got '${value}')`);
  const x = Number(value);
  if (x < min || x > max) throw new UsageError(`${flag} must be between ${min} and ${max} (got ${x})`);
  return x;
}

/** "0.4" or "MALS=0.45,immunoparalysis=0.35". */
export function parseRates(flag: string, value: string): number | Record<string, number> {
  if (!value.includes('=')) return probability(flag, value);
  const rates: Record<string, number> = {};
  for (const part of value.split(',')) {
    const [name, rate] = part.split('=').map((s) => s.trim());
    if (name === undefined || rate === undefined || !(STRATA as readonly string[]).includes(name)) {
      throw new UsageError(`${flag}: expected a rate or ${STRATA.map((s) => `${s}=RATE`).join(',')} (got '${value}')`);
    }
    rates[name] = probability(`${flag} ${name}`, rate);
  }
  for (const s of STRATA) if (rates[s] === undefined) throw new UsageError(`${flag}: missing ${s}=RATE`);
  return rates;
}

function parsePrevalence(value: string): Record<string, number> {
  const prevalence: Record<string, number> = {};
  for (const part of value.split(',')) {
    const [name, share] = part.split('=').map((s) => s.trim());
    if (name === undefined || share === undefined || !(STRATA as readonly string[]).includes(name)) {
      throw new UsageError(`--prevalence must be ${STRATA.map((s) => `${s}=SHARE`).join(',')} (got '${value}')`);
    }
    prevalence[name] = probability(`--prevalence ${name}`, share);
  }
  const total = STRATA.reduce((sum, s) => sum + (prevalence[s] ?? Number.NaN), 0);
  if (!(total > 0 && total <= 1)) throw new UsageError('--prevalence: give both classes; their shares must add up to more than 0 and at most 1');
  return prevalence;
}

function parseRange(value: string): number[] {
  const m = /^\s*(\d+)\s*:\s*(\d+)\s*:\s*(\d+)\s*$/.exec(value);
  if (!m) throw new UsageError(`--n-range must be FROM:TO:STEP, e.g. 200:360:10 (got '${value}')`);
  const [from, to, step] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (from < 2 || to < from || step < 1) throw new UsageError('--n-range: need 2 <= FROM <= TO and STEP >= 1');
  const ns: number[] = [];
  for (let n = from; n <= to; n += step) ns.push(n);
  if (ns.length > 500) throw new UsageError(`--n-range gives ${ns.length} sample sizes; at most 500`);
  return ns;
}

/** The default grid: around the analytic total, about 25 even sizes. */
function defaultRange(analyticTotal: number): number[] {
  const from = Math.max(2, 2 * Math.floor((analyticTotal * 0.6) / 2));
  const to = Math.max(from + 2, 2 * Math.ceil((analyticTotal * 1.4) / 2));
  const step = Math.max(2, 2 * Math.round((to - from) / 24 / 2));
  const ns: number[] = [];
  for (let n = from; n <= to; n += step) ns.push(n);
  return ns;
}

function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('simulate')
    .description('Monte Carlo power and sample size of the primary responder comparison, with a power curve')
    .requiredOption('--treated <rate>', 'responder probability in the active arm, e.g. 0.4, or per stratum MALS=0.45,immunoparalysis=0.35')
    .requiredOption('--control <rate>', 'responder probability in the placebo arm, e.g. 0.2 (or per stratum)')
    .option('--n <patients>', 'patients randomised (both arms): report the power at this size')
    .option('--dropout <share>', 'share of randomised patients not analysed', '0')
    .option('--alpha <level>', 'two-sided significance level', '0.05')
    .option('--test <name>', `test of the 2x2 table: ${POWER_TESTS.join(', ')}`, 'fisher')
    .option('--target-power <power>', 'find the sample size for this power', '0.9')
    .option('--n-range <from:to:step>', 'sample sizes of the power curve (default: around the analytic estimate)')
    .option('--replicates <count>', 'simulated trials per sample size', '10000')
    .option('--seed <integer>', 'random seed (same seed, same result)', '1')
    .option('--prevalence <shares>', 'class prevalence among eligible screened patients', 'MALS=0.22,immunoparalysis=0.28')
    .option('--plot <file.svg>', 'write the power curve as SVG')
    .option('--write-trial <file.json>', 'also write one synthetic trial dataset of --n patients (trial.json for `immunoguide report`)')
    .option('--json', 'machine-readable output')
    .action((options: SimulateOptions) => {
      const treated = parseRates('--treated', options.treated);
      const control = parseRates('--control', options.control);
      if (typeof treated !== typeof control) throw new UsageError('--treated and --control must both be single rates or both per stratum');
      const dropout = probability('--dropout', options.dropout);
      if (dropout >= 1) throw new UsageError('--dropout must be below 1');
      const alpha = probability('--alpha', options.alpha, true);
      const targetPower = probability('--target-power', options.targetPower, true);
      if (!(POWER_TESTS as readonly string[]).includes(options.test)) throw new UsageError(`--test must be one of ${POWER_TESTS.join(', ')} (got '${options.test}')`);
      const test = options.test as PowerTest;
      const replicates = wholeNumber('--replicates', options.replicates, 1, MAX_REPLICATES);
      if (!/^\s*-?\d+\s*$/.test(options.seed) || !Number.isSafeInteger(Number(options.seed))) throw new UsageError(`--seed must be an integer (got '${options.seed}')`);
      const seed = Number(options.seed);
      const prevalence = parsePrevalence(options.prevalence);
      const n = options.n === undefined ? undefined : wholeNumber('--n', options.n, 2, 1_000_000);

      const strata: StratumScenario[] | undefined =
        typeof treated === 'number'
          ? undefined
          : STRATA.map((s) => ({ name: s, prevalence: prevalence[s] as number, treated: (treated as Record<string, number>)[s] as number, control: (control as Record<string, number>)[s] as number }));
      // Planning rates for the analytic figure: prevalence-weighted when per stratum.
      const weight = STRATA.reduce((sum, s) => sum + (prevalence[s] as number), 0);
      const pooledRate = (r: number | Record<string, number>) =>
        typeof r === 'number' ? r : STRATA.reduce((sum, s) => sum + (r[s] as number) * (prevalence[s] as number), 0) / weight;
      const scenario: PowerScenario = {
        treated: pooledRate(treated),
        control: pooledRate(control),
        ...(strata === undefined ? {} : { strata }),
        dropout,
        alpha,
        test,
      };
      const valid = checkScenario(scenario);
      if (!valid.ok) throw new UsageError(valid.error);

      const analytic =
        scenario.treated === scenario.control ? null : powerPropTestN(scenario.treated, scenario.control, alpha, targetPower);
      // The planning figure matching the test: Fleiss' continuity correction for Fisher and Yates.
      const analyticPerGroup = analytic === null ? null : test === 'chisq' ? analytic.n : analytic.nContinuityCorrected;
      const analyticTotal = analyticPerGroup === null ? null : Math.ceil((2 * Math.ceil(analyticPerGroup)) / (1 - dropout));
      const ns = options.nRange !== undefined ? parseRange(options.nRange) : defaultRange(analyticTotal ?? n ?? 200);
      const sim = { replicates, seed };
      const atN: PowerEstimate | null = n === undefined ? null : simulatePower(scenario, n, sim);
      // Exact (no simulation error) where it is cheap: no strata, no dropout, even n.
      const exact =
        n !== undefined && strata === undefined && dropout === 0 && n % 2 === 0 ? exactPower(n / 2, n / 2, scenario.treated, scenario.control, test, alpha) : null;
      const size = sampleSizeForPower(scenario, targetPower, ns, sim);
      const randomisableShare = weight;

      let plotPath: string | null = null;
      if (options.plot !== undefined) {
        plotPath = path.resolve(ctx.cwd, options.plot);
        const svg = powerCurveSvg(size.curve, {
          title: `Power against sample size (${POWER_TEST_LABELS[test]})`,
          subtitle: `${percent(scenario.treated)} vs ${percent(scenario.control)} responders, alpha ${alpha}, dropout ${percent(dropout)}, ${replicates} simulated trials per size, seed ${seed}; bars: 95% Monte Carlo CI`,
          targetPower,
          chosenN: size.n,
        });
        writeFile(plotPath, options.plot, `${svg}\n`);
      }
      let trialPath: string | null = null;
      if (options.writeTrial !== undefined) {
        if (n === undefined) throw new UsageError('--write-trial needs --n (the number of patients to randomise)');
        trialPath = path.resolve(ctx.cwd, options.writeTrial);
        const dataset = simulateTrialDataset({
          patients: n,
          seed,
          prevalence: { MALS: prevalence.MALS as number, immunoparalysis: prevalence.immunoparalysis as number },
          responders: { active: treated, placebo: control } as SyntheticTrialOptions['responders'],
          dropout,
        });
        writeFile(trialPath, options.writeTrial, `${JSON.stringify(trialDatasetJson(dataset), null, 1)}\n`);
      }

      const result = {
        scenario: { ...scenario, testLabel: POWER_TEST_LABELS[test], replicates, seed, prevalence },
        analytic:
          analytic === null
            ? null
            : {
                method: 'normal approximation (R power.prop.test), two-sided',
                nPerGroup: analytic.n,
                nPerGroupContinuityCorrected: analytic.nContinuityCorrected,
                totalRandomised: analyticTotal,
              },
        power: atN,
        exactPower: exact,
        curve: size.curve,
        sampleSize: { targetPower, n: size.n, nConservative: size.nConservative },
        screening: { randomisableShare, screenedPerRandomised: 1 / randomisableShare },
        plot: plotPath,
        trial: trialPath,
      };
      ctx.print(options.json === true, result, () => {
        const lines = [
          `scenario: responders ${percent(scenario.treated)} (active) vs ${percent(scenario.control)} (placebo)${strata ? ' (prevalence-weighted over strata)' : ''}, alpha ${alpha}, dropout ${percent(dropout)}`,
          `test: ${POWER_TEST_LABELS[test]}; ${replicates} simulated trials per sample size, seed ${seed}`,
        ];
        if (analytic !== null) {
          lines.push(
            `analytic (power.prop.test): ${analytic.n.toFixed(1)} per group for ${percent(targetPower)} power` +
              ` (${analytic.nContinuityCorrected.toFixed(1)} with continuity correction); ${analyticTotal} randomised with ${test === 'chisq' ? 'the uncorrected figure' : 'the corrected figure'} and dropout`,
          );
        }
        if (atN !== null) {
          lines.push(
            `power with ${atN.n} randomised: ${percent(atN.power)} (95% Monte Carlo CI ${percent(atN.ci95[0])} to ${percent(atN.ci95[1])}; ${atN.meanAnalysed.toFixed(1)} analysed on average)` +
              (exact === null ? '' : `; exact ${percent(exact)}`),
          );
        }
        lines.push(
          size.n === null
            ? `no sample size in ${ns[0]}-${ns[ns.length - 1]} reaches ${percent(targetPower)} power: widen --n-range`
            : `sample size for ${percent(targetPower)} power: ${size.n} randomised (smallest simulated size with estimated power >= target)` +
                (size.nConservative === null ? '' : `; ${size.nConservative} with the lower 95% Monte Carlo limit >= target`),
          `screening: about ${(1 / randomisableShare).toFixed(1)} eligible patients screened per patient randomised (class prevalence ${percent(randomisableShare)})`,
          '',
          'randomised   power    95% Monte Carlo CI',
          ...size.curve.map((e) => `${String(e.n).padStart(10)}   ${percent(e.power).padStart(6)}   ${percent(e.ci95[0])} to ${percent(e.ci95[1])}`),
        );
        if (plotPath !== null) lines.push('', `plot: ${options.plot}`);
        if (trialPath !== null) lines.push(`synthetic trial dataset: ${options.writeTrial}`);
        return lines.join('\n');
      });
    });
};

function writeFile(fullPath: string, shown: string, content: string): void {
  try {
    writeFileSync(fullPath, content);
  } catch (error) {
    throw new CommandFailure(`cannot write ${shown} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { file: fullPath });
  }
}
