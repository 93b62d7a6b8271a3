import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { ProportionsComparison, SurvivalComparison } from '../../src/stats/analysis.ts';
import { runCli } from '../support/cli.ts';
import { assertClose } from '../stats/close.ts';
import {
  type KmRowFixture,
  type ProportionsFixture,
  type SurvivalDatasetFixture,
  type SurvivalFixture,
  readRFixture,
} from '../stats/fixtures.ts';

const proportions = readRFixture<ProportionsFixture>('proportions.json');
const survival = readRFixture<SurvivalFixture>('survival.json');
const fixturesDir = fileURLToPath(new URL('../fixtures/r/', import.meta.url));
const TOLERANCE = 1e-6;

function tempCsv(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ig-analyse-'));
  writeFileSync(path.join(dir, 'data.csv'), text);
  return { dir, file: 'data.csv' };
}

// ---------------------------------------------------------------------------------------------
// analyse proportions
// ---------------------------------------------------------------------------------------------

test('analyse proportions --json: the documented fields, equal to R for every fixture table', async () => {
  for (const c of proportions.cases) {
    const run = await runCli([
      'analyse',
      'proportions',
      '--treated',
      `${c.treated.events}/${c.treated.n}`,
      '--control',
      `${c.control.events}/${c.control.n}`,
      '--json',
    ]);
    assert.equal(run.exitCode, 0, run.stderr);
    const out = run.json<ProportionsComparison>();
    for (const [arm, expected] of [
      [out.treated, c.treated],
      [out.control, c.control],
    ] as const) {
      assert.equal(arm.events, expected.events);
      assert.equal(arm.n, expected.n);
      assert.equal(arm.method, 'wilson');
      assertClose(arm.proportion, expected.proportion, 1e-15, `${c.name} proportion`);
      assertClose(arm.ci95[0], expected.ci95[0], TOLERANCE, `${c.name} Wilson lower`, 1e-15);
      assertClose(arm.ci95[1], expected.ci95[1], TOLERANCE, `${c.name} Wilson upper`, 1e-15);
    }
    assert.equal(out.riskDifference.method, 'newcombe');
    assertClose(out.riskDifference.estimate, c.riskDifference.estimate, 1e-12, `${c.name} RD`, 1e-15);
    assertClose(out.riskDifference.ci95[0], c.riskDifference.ci95[0], TOLERANCE, `${c.name} RD lower`, 1e-15);
    assertClose(out.riskDifference.ci95[1], c.riskDifference.ci95[1], TOLERANCE, `${c.name} RD upper`, 1e-15);
    const or = c.oddsRatioZeroCell ? c.oddsRatioHaldane : c.oddsRatioWoolfRaw;
    if (c.oddsRatioUndefined) {
      assert.equal(out.oddsRatio.estimate, null);
      assert.equal(out.oddsRatio.ci95, null);
    } else {
      assertClose(out.oddsRatio.estimate, or.estimate, TOLERANCE, `${c.name} OR`);
      assertClose(out.oddsRatio.ci95?.[0], or.ci95[0], TOLERANCE, `${c.name} OR lower`);
      assertClose(out.oddsRatio.ci95?.[1], or.ci95[1], TOLERANCE, `${c.name} OR upper`);
      assert.equal(out.oddsRatio.correction, c.oddsRatioZeroCell ? 'haldane-anscombe' : null);
    }
    assertClose(out.fisherP, c.fisherP, TOLERANCE, `${c.name} Fisher`);
    assertClose(out.chiSquareP, c.chiSquarePearson.p, TOLERANCE, `${c.name} chi-square P (no correction)`);
    assertClose(out.chiSquareYatesP, c.chiSquareYates.p, TOLERANCE, `${c.name} chi-square P (Yates)`);
  }
});

test('analyse proportions: human output names the methods and shows percentages', async () => {
  const run = await runCli(['analyse', 'proportions', '--treated', '15/20', '--control', '8/20']);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.match(run.stdout, /treated\s+15\/20\s+75\.0%/);
  assert.match(run.stdout, /35\.0 percentage points \(95% CI 4\.4 to 57\.8, Newcombe hybrid score\)/);
  assert.match(run.stdout, /odds ratio \(treated vs control\): 4\.500 \(95% CI 1\.166 to 17\.37, Woolf\)/);
  assert.match(run.stdout, /Fisher exact test, two-sided: P = 0\.05355/);
  assert.match(run.stdout, /Pearson, no continuity correction\): X2 = 5\.013, P = 0\.02516; with Yates' correction P = 0\.05497/);
});

test('analyse proportions: a zero cell is reported with the Haldane-Anscombe correction', async () => {
  const run = await runCli(['analyse', 'proportions', '--treated', '0/10', '--control', '5/12']);
  assert.equal(run.exitCode, 0);
  assert.match(run.stdout, /0\.5 added to every cell because one is zero/);
});

test('analyse proportions: malformed counts are usage errors (exit 2) naming the flag', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--treated', '5/3', '--control', '1/2'], /--treated 5\/3: EVENTS \(5\) cannot exceed N \(3\)/],
    [['--treated', 'five/10', '--control', '1/2'], /--treated must be EVENTS\/N/],
    [['--treated', '1.5/10', '--control', '1/2'], /--treated must be EVENTS\/N/],
    [['--treated', '-1/10', '--control', '1/2'], /--treated must be EVENTS\/N/],
    [['--treated', '3/10', '--control', '0/0'], /--control 0\/0: N must be at least 1/],
    [['--treated', '3/10', '--control', '99999999999999999999/99999999999999999999'], /too large/],
    [['--treated', '3/10'], /required option '--control/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(['analyse', 'proportions', ...args]);
    assert.equal(run.exitCode, 2, args.join(' '));
    assert.match(run.stderr, message);
  }
  const json = await runCli(['analyse', 'proportions', '--treated', '5/3', '--control', '1/2', '--json']);
  assert.equal(json.exitCode, 2);
  assert.equal(json.json<{ error: { kind: string } }>().error.kind, 'usage');
});

// ---------------------------------------------------------------------------------------------
// analyse survival
// ---------------------------------------------------------------------------------------------

for (const name of ['aml', 'heavy-censoring']) {
  test(`analyse survival ${name}.csv --json equals R (KM at times, medians, log-rank, Cox)`, async () => {
    const ds = survival.datasets.find((d) => d.name === name);
    assert.ok(ds);
    const run = await runCli(
      ['analyse', 'survival', `${name}.csv`, '--time', 'days', '--event', 'died', '--group', 'arm', '--reference', ds.reference, '--at', ds.at.join(','), '--json'],
      {},
      fixturesDir,
    );
    assert.equal(run.exitCode, 0, run.stderr);
    const out = run.json<SurvivalComparison>();
    assert.equal(out.reference, ds.reference);
    assert.equal(out.comparison, ds.levels[1]);
    assertClose(out.logRank.chiSquare, ds.logRank.chiSquare, TOLERANCE, 'log-rank chi-square');
    assertClose(out.logRank.p, ds.logRank.p, TOLERANCE, 'log-rank P');
    assertClose(out.cox.hazardRatio, ds.coxEfron.hazardRatio[0] as number, TOLERANCE, 'HR');
    assertClose(out.cox.ci95?.[0], ds.coxEfron.lower[0] as number, TOLERANCE, 'HR lower');
    assertClose(out.cox.ci95?.[1], ds.coxEfron.upper[0] as number, TOLERANCE, 'HR upper');
    assertClose(out.cox.p, ds.coxEfron.p[0] as number, TOLERANCE, 'Cox P');
    for (const level of ds.levels) {
      const expected: SurvivalDatasetFixture['groups'][string] | undefined = ds.groups[level];
      assert.ok(expected);
      assert.equal(out.median[level], expected.median, `${level} median`);
      assert.deepEqual(out.medianCi95[level], expected.medianCi95, `${level} median CI`);
      assert.deepEqual(out.groups[level], { n: expected.n, events: expected.events });
      const rows = out.km[level];
      assert.ok(rows);
      assert.deepEqual(
        rows.map((r) => Object.keys(r).sort()),
        rows.map(() => ['atRisk', 'lower', 'survival', 'time', 'upper']),
      );
      rows.forEach((row, i) => {
        const r = expected.at[i];
        assert.ok(r);
        assert.equal(row.time, r.time);
        assert.equal(row.atRisk, r.nRisk, `${level} at risk at ${r.time}`);
        assertClose(row.survival, r.survival, TOLERANCE, `${level} S(${r.time})`, 1e-15);
        assertClose(row.lower, r.lower, TOLERANCE, `${level} lower(${r.time})`, 1e-15);
        assertClose(row.upper, r.upper, TOLERANCE, `${level} upper(${r.time})`, 1e-15);
      });
    }
  });
}

test('analyse survival without --at lists every distinct observed time (the survfit rows)', async () => {
  const ds = survival.datasets.find((d) => d.name === 'aml');
  assert.ok(ds);
  const run = await runCli(['analyse', 'survival', 'aml.csv', '--time', 'days', '--event', 'died', '--group', 'arm', '--json'], {}, fixturesDir);
  assert.equal(run.exitCode, 0, run.stderr);
  const out = run.json<SurvivalComparison>();
  // Default reference: the first group in sorted order ("Maintained"), as R's factor levels.
  assert.equal(out.reference, 'Maintained');
  for (const level of ds.levels) {
    const expected: KmRowFixture[] = ds.groups[level]?.km ?? [];
    assert.deepEqual(
      out.km[level]?.map((r) => [r.time, r.atRisk]),
      expected.map((r) => [r.time, r.nRisk]),
    );
    out.km[level]?.forEach((row, i) => assertClose(row.survival, expected[i]?.survival ?? null, TOLERANCE, 'S', 1e-15));
  }
  // Reversing the reference inverts the hazard ratio.
  const reversed = await runCli(
    ['analyse', 'survival', 'aml.csv', '--time', 'days', '--event', 'died', '--group', 'arm', '--reference', 'Nonmaintained', '--json'],
    {},
    fixturesDir,
  );
  const hr = reversed.json<SurvivalComparison>().cox.hazardRatio;
  assertClose(hr, 1 / (ds.coxEfron.hazardRatio[0] as number), 1e-9, 'reversed HR');
});

test('analyse survival human output: medians with CI, log-rank, Cox and the at-risk table', async () => {
  const run = await runCli(
    ['analyse', 'survival', 'aml.csv', '--time', 'days', '--event', 'died', '--group', 'arm', '--at', '10,30'],
    {},
    fixturesDir,
  );
  assert.equal(run.exitCode, 0, run.stderr);
  assert.match(run.stdout, /Maintained\s+11\s+7\s+31\s+18 to NA/);
  assert.match(run.stdout, /Nonmaintained\s+12\s+11\s+23\s+8 to NA/);
  assert.match(run.stdout, /log-rank test: chi-square 3\.396 on 1 df, P = 0\.06534/);
  assert.match(run.stdout, /hazard ratio Nonmaintained vs Maintained 2\.498 \(95% CI 0\.9159 to 6\.813\), Wald P = 0\.07371/);
  assert.match(run.stdout, /^10\s+0\.909 \(0\.754-1\.000\) n=10\s+0\.667 \(0\.447-0\.995\) n=8/m);
});

test('analyse survival: a group without events gives no hazard ratio, with the reason', async () => {
  const { dir, file } = tempCsv('arm,t,dead\nplacebo,5,0\nplacebo,6,0\nplacebo,7,0\nactive,1,1\nactive,2,1\nactive,3,0\n');
  const run = await runCli(['analyse', 'survival', file, '--time', 't', '--event', 'dead', '--group', 'arm', '--reference', 'placebo', '--json'], {}, dir);
  assert.equal(run.exitCode, 0, run.stderr);
  const out = run.json<SurvivalComparison>();
  assert.equal(out.cox.hazardRatio, null);
  assert.match(out.cox.note ?? '', /may be infinite/);
  assert.equal(out.median.placebo, null);
  assert.ok(out.logRank.p > 0 && out.logRank.p < 1);
});

test('analyse survival: quoted CSV fields, CRLF line ends, true/false events are read', async () => {
  const { dir, file } = tempCsv('"arm, as randomised",days,event\r\n"A",1,true\r\n"A",2,FALSE\r\n"B",1,1\r\n"B",3,1\r\n');
  const run = await runCli(['analyse', 'survival', file, '--time', 'days', '--event', 'event', '--group', 'arm, as randomised', '--json'], {}, dir);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.deepEqual(run.json<SurvivalComparison>().groups, { A: { n: 2, events: 1 }, B: { n: 2, events: 2 } });
});

test('analyse survival: usage errors exit 2 (unknown column, unknown reference, bad --at, missing flag)', async () => {
  const args = ['aml.csv', '--time', 'days', '--event', 'died', '--group', 'arm'];
  const cases: Array<[string[], RegExp]> = [
    [['aml.csv', '--time', 'day', '--event', 'died', '--group', 'arm'], /--time day: no such column in aml\.csv \(columns: patient, arm, days, died\)/],
    [[...args, '--reference', 'placebo'], /reference group 'placebo' is not in the data \(groups: Maintained, Nonmaintained\)/],
    [[...args, '--at', '7,x'], /--at must be a comma-separated list of times >= 0/],
    [[...args, '--at', '-1'], /--at must be a comma-separated list/],
    [['aml.csv', '--time', 'days', '--event', 'died'], /required option '--group/],
  ];
  for (const [extra, message] of cases) {
    const run = await runCli(['analyse', 'survival', ...extra], {}, fixturesDir);
    assert.equal(run.exitCode, 2, extra.join(' '));
    assert.match(run.stderr, message);
  }
});

test('analyse survival: data errors exit 1 and name the line and the column', async () => {
  const header = 'id,arm,days,died\n';
  const cases: Array<[string, RegExp]> = [
    [`${header}1,A,5,1\n2,B,abc,0\n`, /line 3, column 'days': expected a follow-up time >= 0, got 'abc'/],
    [`${header}1,A,5,1\n2,B,-2,0\n`, /line 3, column 'days': expected a follow-up time >= 0, got '-2'/],
    [`${header}1,A,5,1\n\n2,B,4,2\n`, /line 4, column 'died': expected 1 \(event\) or 0 \(censored\), got '2'/],
    [`${header}1,A,5,1\n2,,4,1\n`, /line 3, column 'arm': expected a group name, got ''/],
    [`${header}1,A,5,1\n2,B,4\n`, /line 3: expected 4 fields as in the header, found 3/],
    [`${header}1,A,5,1\n2,A,4,1\n`, /exactly two groups are needed for a hazard ratio, found 1 \(A\)/],
    [`${header}1,A,5,1\n2,B,4,1\n3,C,4,1\n`, /found 3 \(A, B, C\)/],
    [`${header}`, /has a header but no data rows/],
    ['', /is empty/],
    [`${header}1,"A,5,1\n`, /line 2: a quoted field is not closed/],
  ];
  for (const [text, message] of cases) {
    const { dir, file } = tempCsv(text);
    const run = await runCli(['analyse', 'survival', file, '--time', 'days', '--event', 'died', '--group', 'arm'], {}, dir);
    assert.equal(run.exitCode, 1, text);
    assert.match(run.stderr, message);
  }
  const { dir, file } = tempCsv(`${header}1,A,5,1\n2,B,abc,0\n`);
  const json = await runCli(['analyse', 'survival', file, '--time', 'days', '--event', 'died', '--group', 'arm', '--json'], {}, dir);
  assert.equal(json.exitCode, 1);
  assert.deepEqual(json.json<{ error: { kind: string; details: unknown } }>().error, {
    kind: 'failure',
    message: "line 3, column 'days': expected a follow-up time >= 0, got 'abc'",
    details: { line: 3, column: 'days', value: 'abc' },
  });
  const missing = await runCli(['analyse', 'survival', 'nope.csv', '--time', 'days', '--event', 'died', '--group', 'arm'], {}, dir);
  assert.equal(missing.exitCode, 1);
  assert.match(missing.stderr, /cannot read nope\.csv \(ENOENT\)/);
});
