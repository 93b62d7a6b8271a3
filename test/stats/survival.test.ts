import assert from 'node:assert/strict';
import fc from 'fast-check';
import { test } from 'node:test';
import {
  type KaplanMeierCurve,
  coxProportionalHazards,
  kaplanMeier,
  logRankTest,
  medianSurvival,
  survivalAt,
} from '../../src/stats/survival.ts';
import { assertClose } from './close.ts';
import { type CoxFixture, type SurvivalDatasetFixture, type SurvivalFixture, readRFixture } from './fixtures.ts';

const fixture = readRFixture<SurvivalFixture>('survival.json');
// The acceptance bar is 1e-6 relative; every statistic here actually agrees with R to 1e-10 or
// better (Cox estimates to ~1e-13, since the Newton iteration is R's, step for step), so the
// tests hold them to that.
const TIGHT = 1e-10;

function groupSample(ds: SurvivalDatasetFixture, level: string) {
  const time: number[] = [];
  const event: boolean[] = [];
  ds.data.group.forEach((g, i) => {
    if (g === level) {
      time.push(ds.data.time[i] as number);
      event.push(ds.data.event[i] === 1);
    }
  });
  return { time, event };
}

function curves(ds: SurvivalDatasetFixture): Map<string, KaplanMeierCurve> {
  return new Map(ds.levels.map((level) => [level, kaplanMeier(groupSample(ds, level))]));
}

for (const ds of fixture.datasets) {
  test(`${ds.name}: Kaplan-Meier rows equal R survfit (time, at risk, S, Greenwood SE, log CI)`, () => {
    for (const [level, curve] of curves(ds)) {
      const expected = ds.groups[level];
      assert.ok(expected, level);
      assert.equal(curve.n, expected.n);
      assert.equal(curve.events, expected.events);
      assert.equal(curve.rows.length, expected.km.length, `${level} rows`);
      curve.rows.forEach((row, i) => {
        const r = expected.km[i];
        assert.ok(r);
        const where = `${ds.name} ${level} t=${r.time}`;
        assert.equal(row.time, r.time, where);
        assert.equal(row.atRisk, r.nRisk, where);
        assert.equal(row.events, r.nEvent, where);
        assert.equal(row.censored, r.nCensor, where);
        assertClose(row.survival, r.survival, TIGHT, `${where} S`, 1e-15);
        if (r.stdErr === null) assert.equal(row.stdErrLogSurvival, Number.POSITIVE_INFINITY, where);
        else assertClose(row.stdErrLogSurvival, r.stdErr, TIGHT, `${where} se`, 1e-15);
        assertClose(row.lower, r.lower, TIGHT, `${where} lower`, 1e-15);
        assertClose(row.upper, r.upper, TIGHT, `${where} upper`, 1e-15);
      });
    }
  });

  test(`${ds.name}: median survival and its CI equal print.survfit; survival at times equals summary()`, () => {
    for (const [level, curve] of curves(ds)) {
      const expected = ds.groups[level];
      assert.ok(expected);
      const median = medianSurvival(curve);
      assert.equal(median.median, expected.median, `${ds.name} ${level} median`);
      assert.deepEqual(median.ci, expected.medianCi95, `${ds.name} ${level} median CI`);
      const at = survivalAt(curve, ds.at);
      assert.equal(at.length, expected.at.length);
      at.forEach((row, i) => {
        const r = expected.at[i];
        assert.ok(r);
        const where = `${ds.name} ${level} at ${r.time}`;
        assert.equal(row.time, r.time, where);
        assert.equal(row.atRisk, r.nRisk, `${where} at risk`);
        assertClose(row.survival, r.survival, TIGHT, `${where} S`, 1e-15);
        assertClose(row.lower, r.lower, TIGHT, `${where} lower`, 1e-15);
        assertClose(row.upper, r.upper, TIGHT, `${where} upper`, 1e-15);
      });
    }
  });

  test(`${ds.name}: log-rank equals R survdiff`, () => {
    const result = logRankTest(
      { time: ds.data.time, event: ds.data.event.map((e) => e === 1), group: ds.data.group },
      ds.levels,
    );
    assert.ok(result.ok, result.ok ? '' : result.error);
    assertClose(result.value.chiSquare, ds.logRank.chiSquare, TIGHT, `${ds.name} chi-square`);
    assert.equal(result.value.df, ds.logRank.df);
    assertClose(result.value.p, ds.logRank.p, TIGHT, `${ds.name} P`);
    result.value.observed.forEach((o, i) => assert.equal(o, ds.logRank.observed[i]));
    result.value.expected.forEach((e, i) => assertClose(e, ds.logRank.expected[i] as number, TIGHT, `${ds.name} E`));
  });

  for (const ties of ['efron', 'breslow'] as const) {
    test(`${ds.name}: Cox (${ties}) hazard ratio, Wald CI and P equal R coxph`, () => {
      const expected = ties === 'efron' ? ds.coxEfron : ds.coxBreslow;
      const covariates = ds.data.group.map((g) => ds.levels.slice(1).map((level) => (g === level ? 1 : 0)));
      const fit = coxProportionalHazards(
        { time: ds.data.time, event: ds.data.event.map((e) => e === 1), covariates },
        { ties },
      );
      assert.ok(fit.ok, fit.ok ? '' : fit.error);
      checkCox(fit.value, expected, ds.name);
    });
  }
}

function checkCox(fit: Extract<ReturnType<typeof coxProportionalHazards>, { ok: true }>['value'], expected: CoxFixture, name: string) {
  fit.coefficients.forEach((c) => assert.equal(c.mayBeInfinite, expected.infiniteWarning, `${name} infinite flag`));
  assertClose(fit.logLikelihood.initial, expected.loglik[0], TIGHT, `${name} initial loglik`);
  assertClose(fit.logLikelihood.final, expected.loglik[1], TIGHT, `${name} final loglik`);
  assert.equal(fit.iterations, expected.iterations, `${name} iterations`);
  assertClose(fit.scoreTest.statistic, expected.scoreTest[0], TIGHT, `${name} score test`);
  assertClose(fit.scoreTest.p, expected.scoreTest[1], TIGHT, `${name} score P`);
  assertClose(fit.likelihoodRatioTest.statistic, expected.likelihoodRatioTest[0], 1e-8, `${name} LRT`);
  if (expected.infiniteWarning) return; // R's estimate is wherever its iteration stopped
  fit.coefficients.forEach((c, j) => {
    const where = `${name} coefficient ${j}`;
    assertClose(c.coefficient, expected.coef[j] as number, TIGHT, `${where} coef`);
    assertClose(c.standardError, expected.se[j] as number, TIGHT, `${where} se`);
    assertClose(c.hazardRatio, expected.hazardRatio[j] as number, TIGHT, `${where} HR`);
    assertClose(c.ci[0], expected.lower[j] as number, TIGHT, `${where} lower`);
    assertClose(c.ci[1], expected.upper[j] as number, TIGHT, `${where} upper`);
    assertClose(c.z, expected.z[j] as number, TIGHT, `${where} z`);
    assertClose(c.p, expected.p[j] as number, TIGHT, `${where} P`);
  });
}

for (const ds of fixture.coxCovariates) {
  for (const ties of ['efron', 'breslow'] as const) {
    test(`${ds.name}: Cox (${ties}) with a continuous and a binary covariate equals R coxph`, () => {
      const covariates = ds.data.age.map((age, i) => [age, ds.data.sex[i] as number]);
      const fit = coxProportionalHazards(
        { time: ds.data.time, event: ds.data.event.map((e) => e === 1), covariates },
        { ties },
      );
      assert.ok(fit.ok);
      checkCox(fit.value, ties === 'efron' ? ds.coxEfron : ds.coxBreslow, ds.name);
      const variance = (ties === 'efron' ? ds.coxEfron : ds.coxBreslow).variance;
      fit.value.variance.forEach((row, i) => row.forEach((v, j) => assertClose(v, variance[i]?.[j] as number, TIGHT, `var ${i}${j}`)));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Hand-checked cases
// ---------------------------------------------------------------------------------------------

test('hand check: KM of 5 deaths at 1..5 is 0.8, 0.6, ...; Greenwood at t=1 is sqrt(1/20); median 3', () => {
  const curve = kaplanMeier({ time: [1, 2, 3, 4, 5], event: [true, true, true, true, true] });
  assert.deepEqual(
    curve.rows.map((r) => Number(r.survival.toFixed(12))),
    [0.8, 0.6, 0.4, 0.2, 0],
  );
  assertClose(curve.rows[0]?.stdErrLogSurvival, Math.sqrt(1 / 20), 1e-15, 'Greenwood');
  assertClose(curve.rows[0]?.lower, 0.8 * Math.exp(-1.959963984540054 * Math.sqrt(0.05)), 1e-14, 'lower');
  assert.equal(curve.rows[4]?.lower, null); // S = 0: no log interval
  assert.equal(medianSurvival(curve).median, 3);
});

test('hand check: survival exactly 0.5 over [2, 3): the median is the midpoint 2.5', () => {
  const curve = kaplanMeier({ time: [1, 2, 3, 4], event: [true, true, true, true] });
  assert.equal(medianSurvival(curve).median, 2.5);
  // S = 5/6, 4/6, 3/6 at 1, 2, 3; a censoring at 4; S = 1/4 at 5: the median is (3 + 5) / 2,
  // skipping the censoring time.
  const censored = kaplanMeier({ time: [1, 2, 3, 4, 5, 6], event: [true, true, true, false, true, false] });
  assert.equal(medianSurvival(censored).median, 4);
});

test('hand check: censoring at an event time counts the subject at risk (events before censorings)', () => {
  const curve = kaplanMeier({ time: [2, 2, 3], event: [true, false, true] });
  assert.equal(curve.rows[0]?.atRisk, 3);
  assertClose(curve.rows[0]?.survival, 2 / 3, 1e-15, 'S(2)');
  assert.equal(curve.rows[1]?.atRisk, 1);
  assert.deepEqual(
    survivalAt(curve, [0, 2, 2.5, 9]).map((r) => r.atRisk),
    [3, 3, 1, 0],
  );
});

test('hand check: log-rank with one death per group: chi-square 1, P = 0.3173', () => {
  const result = logRankTest({ time: [1, 2], event: [true, true], group: ['A', 'B'] });
  assert.ok(result.ok);
  assertClose(result.value.chiSquare, 1, 1e-15, 'chi-square');
  assertClose(result.value.p, 0.31731050786291415, 1e-13, 'P'); // R: pchisq(1, 1, lower = FALSE)
  assert.deepEqual(result.value.expected, [0.5, 1.5]);
});

test('hand check: Cox without ties, closed form HR = 1/sqrt(2)', () => {
  // x = 1 dies at 1, x = 0 dies at 2, x = 1 dies at 3: L = u / (2u + 1) * 1 / (1 + u), maximised at u^2 = 1/2.
  const fit = coxProportionalHazards({ time: [1, 2, 3], event: [true, true, true], covariates: [[1], [0], [1]] });
  assert.ok(fit.ok);
  assertClose(fit.value.coefficients[0]?.hazardRatio, Math.SQRT1_2, 1e-12, 'HR');
});

test('hand check: two tied deaths (x = 1, x = 0) and one censored x = 0: Efron HR = sqrt 6, Breslow HR = 2', () => {
  // Efron: ln L = b - ln(u + 2) - ln((u + 3) / 2), score 0 at u^2 = 6. Breslow: ln L = b - 2 ln(u + 2), u = 2.
  const data = { time: [1, 1, 2], event: [true, true, false], covariates: [[1], [0], [0]] };
  const efron = coxProportionalHazards(data);
  const breslow = coxProportionalHazards(data, { ties: 'breslow' });
  assert.ok(efron.ok && breslow.ok);
  assertClose(efron.value.coefficients[0]?.hazardRatio, Math.sqrt(6), 1e-12, 'Efron HR');
  assertClose(breslow.value.coefficients[0]?.hazardRatio, 2, 1e-12, 'Breslow HR');
});

test('aml (Embury 1977), the textbook example: medians 31 and 23, log-rank 3.4 (P 0.065), HR 2.50', () => {
  const ds = fixture.datasets.find((d) => d.name === 'aml');
  assert.ok(ds);
  const km = curves(ds);
  assert.equal(medianSurvival(km.get('Maintained') as KaplanMeierCurve).median, 31);
  assert.equal(medianSurvival(km.get('Nonmaintained') as KaplanMeierCurve).median, 23);
  const logRank = logRankTest({ time: ds.data.time, event: ds.data.event.map((e) => e === 1), group: ds.data.group });
  assert.ok(logRank.ok);
  assert.equal(logRank.value.chiSquare.toFixed(1), '3.4');
  assert.equal(logRank.value.p.toFixed(3), '0.065');
  const cox = coxProportionalHazards({
    time: ds.data.time,
    event: ds.data.event.map((e) => e === 1),
    covariates: ds.data.group.map((g) => [g === 'Nonmaintained' ? 1 : 0]),
  });
  assert.ok(cox.ok);
  assert.equal(cox.value.coefficients[0]?.hazardRatio.toFixed(2), '2.50');
});

test('errors are values: no events, a constant covariate, a single group', () => {
  assert.equal(coxProportionalHazards({ time: [1, 2], event: [false, false], covariates: [[1], [0]] }).ok, false);
  assert.equal(coxProportionalHazards({ time: [1, 2, 3], event: [true, true, false], covariates: [[1], [1], [1]] }).ok, false);
  assert.equal(logRankTest({ time: [1, 2], event: [true, true], group: ['A', 'A'] }).ok, false);
  assert.throws(() => kaplanMeier({ time: [-1], event: [true] }), RangeError);
});

test('properties: S is non-increasing, inside its interval, and the interval inside [0, 1]', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ time: fc.integer({ min: 0, max: 30 }), event: fc.boolean() }), { minLength: 1, maxLength: 60 }),
      (subjects) => {
        const curve = kaplanMeier({ time: subjects.map((s) => s.time), event: subjects.map((s) => s.event) });
        let previous = 1;
        for (const row of curve.rows) {
          assert.ok(row.survival <= previous + 1e-15);
          previous = row.survival;
          if (row.lower !== null && row.upper !== null) {
            assert.ok(row.lower >= 0 && row.lower <= row.survival + 1e-15 && row.upper >= row.survival - 1e-15 && row.upper <= 1);
          }
        }
        assert.equal(curve.rows.reduce((s, r) => s + r.events + r.censored, 0), subjects.length);
        const median = medianSurvival(curve);
        if (median.median !== null && median.ci[0] !== null) assert.ok(median.ci[0] <= median.median);
        if (median.median !== null && median.ci[1] !== null) assert.ok(median.ci[1] >= median.median);
      },
    ),
  );
});
