/**
 * bench/analysis: the full endpoint analysis of a 10,000-patient synthetic trial and a
 * 10,000-replicate power simulation, in ImmunoGuide (TypeScript) and in R, in the same run, with
 * the ratio. Run from the repository root:
 *
 *   node --import tsx bench/analysis.ts [--patients 10000] [--replicates 10000] [--repeats 5]
 *
 * Needs Rscript with the survival and jsonlite packages (Debian: r-base-core,
 * r-cran-survival, r-cran-jsonlite). Both sides time in-process, median of --repeats runs:
 * - load: TypeScript parses and validates trial.json (parseTrialDataset); R reads the same data
 *   as two CSV files (read.csv).
 * - analysis: endpoints per patient (LOCF, death = 24, responders, mortality, reversal), the six
 *   binary endpoints overall and per stratum (Wilson, Newcombe, Woolf, Fisher, chi-square),
 *   Kaplan-Meier, log-rank and Cox for time to death and to reversal, baseline table and SOFA
 *   trajectories (TypeScript: analyseTrial; R: bench/analysis.R with prop.test, fisher.test,
 *   chisq.test, survfit, survdiff, coxph).
 * - power: 10,000 simulated trials of 280 patients (40% vs 20% responders, 15% dropout, Fisher
 *   exact test; TypeScript: simulatePower; R: rbinom + fisher.test).
 * The two sides' results are compared before the timings are printed.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simulatePower } from '../src/stats/power.ts';
import { simulateTrialDataset } from '../src/stats/simulate-trial.ts';
import { type TrialDataset, parseTrialDataset, trialDatasetJson } from '../src/stats/trial-data.ts';
import { analyseTrial } from '../src/stats/trial-analysis.ts';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const PATIENTS = option('patients', 10_000);
const REPLICATES = option('replicates', 10_000);
const REPEATS = option('repeats', 5);
const POWER_SCENARIO = { treated: 0.4, control: 0.2, dropout: 0.15, alpha: 0.05, test: 'fisher' as const };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function timed<T>(f: () => T): { ms: number; value: T } {
  let value: T | undefined;
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    value = f();
    times.push(performance.now() - start);
  }
  return { ms: median(times), value: value as T };
}

function csvField(v: unknown): string {
  return v === null || v === undefined ? 'NA' : typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
}

function writeCsv(data: TrialDataset, dir: string): void {
  const patients = [
    'id,site,stratum,arm,analysed,death_day,last_alive_day,reversed,first_reversal_at,assessed_through_day,infection_resolved,age,sex,infection,ferritin,hla_dr',
    ...data.patients.map((p) =>
      [
        p.id,
        p.site,
        p.stratum,
        p.arm,
        p.analysed,
        p.deathDay,
        p.lastAliveDay,
        p.reversal?.reversed,
        p.reversal?.firstReversalAt,
        p.reversal?.assessedThroughDay,
        p.infectionResolved,
        p.baseline.ageYears,
        p.baseline.sex,
        `"${p.baseline.infection ?? ''}"`,
        p.baseline.ferritinNgPerMl,
        p.baseline.hlaDrMoleculesPerMonocyte,
      ]
        .map(csvField)
        .join(','),
    ),
  ];
  fs.writeFileSync(path.join(dir, 'patients.csv'), `${patients.join('\n')}\n`);
  const sofa = ['id,day,total', ...data.patients.flatMap((p) => p.sofa.map((s) => `${p.id},${s.day},${csvField(s.total)}`))];
  fs.writeFileSync(path.join(dir, 'sofa.csv'), `${sofa.join('\n')}\n`);
}

interface RResult {
  r: string;
  survival: string;
  loadMs: number;
  analysisMs: number;
  powerMs: number;
  results: {
    primary: { active: [number, number]; placebo: [number, number]; rd: number[]; or: number[]; fisherP: number; chisqP: number };
    hazardRatio: number;
    logRankP: number;
    reversalLogRankP: number;
    reversalHazardRatio: number;
  };
  power: number;
}

function relative(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-bench-analysis-'));
  try {
    const data = simulateTrialDataset({ patients: PATIENTS, seed: 20260301 });
    const json = JSON.stringify(trialDatasetJson(data));
    writeCsv(data, dir);

    // TypeScript, after one warm-up run of each (R has no JIT to warm).
    analyseTrial(data);
    simulatePower(POWER_SCENARIO, 280, { replicates: 1000, seed: 99 });
    const load = timed(() => {
      const parsed = parseTrialDataset(JSON.parse(json));
      if (!parsed.ok) throw new Error('synthetic dataset did not validate');
      return parsed.value;
    });
    const analysis = timed(() => {
      const r = analyseTrial(load.value);
      if (!r.ok) throw new Error('analysis failed');
      return r.value;
    });
    const power = timed(() => simulatePower(POWER_SCENARIO, 280, { replicates: REPLICATES, seed: 1 }));

    const run = spawnSync('Rscript', [path.join(import.meta.dirname, 'analysis.R'), dir, String(REPEATS), String(REPLICATES)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (run.status !== 0) throw new Error(`Rscript failed (${run.status}): ${run.stderr || run.error?.message}`);
    const r = JSON.parse(run.stdout) as RResult;

    // The two sides must agree before their timings mean anything.
    const a = analysis.value;
    const primary = a.binary[0];
    const checks: Array<[string, boolean]> = [
      ['primary responders, active', primary?.active.events === r.results.primary.active[0] && primary?.active.n === r.results.primary.active[1]],
      ['primary responders, placebo', primary?.placebo.events === r.results.primary.placebo[0] && primary?.placebo.n === r.results.primary.placebo[1]],
      ['Fisher P', relative(primary?.comparison?.fisherP ?? Number.NaN, r.results.primary.fisherP) < 1e-6],
      ['Newcombe CI', relative(primary?.comparison?.riskDifference.ci95[0] ?? Number.NaN, r.results.primary.rd[1] as number) < 1e-6],
      ['hazard ratio (death)', relative(a.survival.comparison?.cox.hazardRatio ?? Number.NaN, r.results.hazardRatio) < 1e-6],
      ['log-rank P (death)', relative(a.survival.comparison?.logRank.p ?? Number.NaN, r.results.logRankP) < 1e-6],
      ['log-rank P (reversal)', relative(a.reversalTime.comparison?.logRank.p ?? Number.NaN, r.results.reversalLogRankP) < 1e-6],
      // Different random streams: the two power estimates agree within Monte Carlo error.
      ['power (within 4 MC SE)', Math.abs(power.value.power - r.power) < 4 * Math.sqrt((2 * r.power * (1 - r.power)) / REPLICATES)],
    ];
    const failed = checks.filter(([, ok]) => !ok).map(([name]) => name);
    if (failed.length > 0) throw new Error(`TypeScript and R disagree on: ${failed.join(', ')}`);

    const rows: Array<[string, number, number]> = [
      [`load ${PATIENTS} patients`, load.ms, r.loadMs],
      [`full analysis, ${PATIENTS} patients`, analysis.ms, r.analysisMs],
      [`power, ${REPLICATES} replicates of 280`, power.ms, r.powerMs],
    ];
    console.log(`bench/analysis: ${PATIENTS} patients, ${REPLICATES} replicates, median of ${REPEATS} runs; Node ${process.version}, ${r.r}, survival ${r.survival}; ${os.cpus().length} CPU(s)`);
    console.log(`results agree: ${checks.map(([name]) => name).join(', ')}`);
    console.log(`power: TypeScript ${power.value.power.toFixed(4)}, R ${r.power.toFixed(4)}`);
    console.log('');
    console.log(`${'computation'.padEnd(40)}${'TypeScript ms'.padStart(15)}${'R ms'.padStart(12)}${'R / TS'.padStart(10)}`);
    for (const [name, ts, rMs] of rows) {
      console.log(`${name.padEnd(40)}${ts.toFixed(1).padStart(15)}${rMs.toFixed(1).padStart(12)}${(rMs / ts).toFixed(1).padStart(9)}x`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
