import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { PowerEstimate } from '../../src/stats/power.ts';
import { parseTrialDataset } from '../../src/stats/trial-data.ts';
import { readRFixture } from '../stats/fixtures.ts';
import { runCli } from '../support/cli.ts';

interface SimulateJson {
  scenario: { treated: number; control: number; dropout: number; alpha: number; test: string; replicates: number; seed: number };
  analytic: { nPerGroup: number; nPerGroupContinuityCorrected: number; totalRandomised: number } | null;
  power: PowerEstimate | null;
  exactPower: number | null;
  curve: PowerEstimate[];
  sampleSize: { targetPower: number; n: number | null; nConservative: number | null };
  screening: { randomisableShare: number; screenedPerRandomised: number };
  plot: string | null;
  trial: string | null;
}

const power = readRFixture<{ exactPower: Array<{ n1: number; fisher: number }> }>('power.json');

test('simulate --json: ImmunoSep planning numbers (40% vs 20%, alpha 0.05, Fisher)', async () => {
  const run = await runCli(['simulate', '--treated', '0.4', '--control', '0.2', '--n', '234', '--n-range', '226:242:2', '--replicates', '10000', '--seed', '1', '--json']);
  assert.equal(run.exitCode, 0, run.stderr);
  const r = run.json<SimulateJson>();
  assert.equal(r.scenario.test, 'fisher');
  // Exact Fisher power at 117 per group, from R, and the simulation within 4 Monte Carlo SE.
  const exact = power.exactPower.find((c) => c.n1 === 117)?.fisher as number;
  assert.ok(Math.abs((r.exactPower as number) - exact) < 1e-9);
  assert.ok(Math.abs((r.power?.power as number) - exact) <= 4 * Math.sqrt((exact * (1 - exact)) / 10_000));
  assert.equal(r.curve.length, 9);
  assert.ok(r.sampleSize.n !== null && Math.abs(r.sampleSize.n - 234) <= 8, `sample size ${r.sampleSize.n}`);
  assert.ok(Math.abs((r.analytic?.nPerGroup as number) - 108.2355) < 1e-3);
  assert.deepEqual(r.screening, { randomisableShare: 0.5, screenedPerRandomised: 2 });
});

test('simulate: text output, plot and a synthetic trial dataset', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ig-simulate-'));
  const run = await runCli(
    ['simulate', '--treated', '0.4', '--control', '0.2', '--n', '120', '--dropout', '0.15', '--n-range', '100:140:20', '--replicates', '2000', '--plot', 'power.svg', '--write-trial', 'trial.json'],
    {},
    dir,
  );
  assert.equal(run.exitCode, 0, run.stderr);
  assert.match(run.stdout, /^scenario: responders 40\.0% \(active\) vs 20\.0% \(placebo\), alpha 0\.05, dropout 15\.0%\n/);
  assert.match(run.stdout, /power with 120 randomised: \d+\.\d% \(95% Monte Carlo CI/);
  assert.match(run.stdout, /\n {7}100 +\d+\.\d% +\d+\.\d% to \d+\.\d%\n/);
  assert.match(run.stdout, /no sample size in 100-140 reaches 90\.0% power: widen --n-range/);
  const svg = readFileSync(path.join(dir, 'power.svg'), 'utf8');
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"') && svg.includes('target 90%'));
  const dataset = parseTrialDataset(JSON.parse(readFileSync(path.join(dir, 'trial.json'), 'utf8')));
  assert.ok(dataset.ok);
  assert.equal(dataset.value.patients.length, 120);
  // And the report command reads it.
  const report = await runCli(['report', '--input', 'trial.json', '--out', 'report.html'], {}, dir);
  assert.equal(report.exitCode, 0, report.stderr);
});

test('simulate with per-stratum rates weights them by prevalence', async () => {
  const run = await runCli([
    'simulate',
    '--treated',
    'MALS=0.5,immunoparalysis=0.3',
    '--control',
    'MALS=0.2,immunoparalysis=0.2',
    '--prevalence',
    'MALS=0.25,immunoparalysis=0.25',
    '--n',
    '200',
    '--n-range',
    '200:200:1',
    '--replicates',
    '1000',
    '--json',
  ]);
  assert.equal(run.exitCode, 0, run.stderr);
  const r = run.json<SimulateJson & { scenario: { strata: Array<{ name: string }> } }>();
  assert.ok(Math.abs(r.scenario.treated - 0.4) < 1e-12);
  assert.deepEqual(r.scenario.strata.map((s) => s.name), ['MALS', 'immunoparalysis']);
  assert.equal(r.exactPower, null, 'no exact power with strata');
});

test('simulate: usage errors exit 2', async () => {
  for (const args of [
    ['simulate', '--treated', '1.4', '--control', '0.2'],
    ['simulate', '--treated', '0.4', '--control', 'MALS=0.2,immunoparalysis=0.1'],
    ['simulate', '--treated', '0.4', '--control', '0.2', '--test', 'z'],
    ['simulate', '--treated', '0.4', '--control', '0.2', '--n-range', '10-20'],
    ['simulate', '--treated', '0.4', '--control', '0.2', '--replicates', '0'],
    ['simulate', '--treated', '0.4', '--control', '0.2', '--alpha', '0'],
    ['simulate', '--treated', '0.4', '--control', '0.2', '--dropout', '1'],
    ['simulate', '--treated', '0.4', '--control', '0.2', '--write-trial', 'x.json'],
    ['simulate', '--treated', '0.4', '--control', '0.2', '--prevalence', 'MALS=0.9,immunoparalysis=0.9'],
    ['simulate', '--treated', '0.4'],
  ]) {
    const run = await runCli([...args, '--json']);
    assert.equal(run.exitCode, 2, `${args.join(' ')}: ${run.stdout}`);
    assert.equal(run.json<{ error: { kind: string } }>().error.kind, 'usage');
  }
});
