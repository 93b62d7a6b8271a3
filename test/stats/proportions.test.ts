import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newcombeRiskDifference, oddsRatioWoolf, wilsonInterval } from '../../src/stats/proportions.ts';
import { assertClose } from './close.ts';
import { type ProportionsFixture, readRFixture } from './fixtures.ts';

const fixture = readRFixture<ProportionsFixture>('proportions.json');
const TOLERANCE = 1e-6; // the acceptance bar; actual agreement is ~1e-14 (R's own formula)
const STRICT = 1e-12;

test('Wilson intervals match R prop.test(correct = FALSE) for every arm, incl. 0/n and n/n', () => {
  for (const c of fixture.cases) {
    for (const arm of [c.treated, c.control]) {
      const [lower, upper] = wilsonInterval(arm);
      assertClose(lower, arm.ci95[0], STRICT, `${c.name} ${arm.events}/${arm.n} lower`, 1e-15);
      assertClose(upper, arm.ci95[1], STRICT, `${c.name} ${arm.events}/${arm.n} upper`, 1e-15);
    }
  }
  assert.deepEqual(wilsonInterval({ events: 0, n: 10 })[0], 0);
  assert.deepEqual(wilsonInterval({ events: 10, n: 10 })[1], 1);
});

test('Newcombe hybrid score risk difference matches R (and Epi::ci.pd)', () => {
  for (const c of fixture.cases) {
    const rd = newcombeRiskDifference(c.treated, c.control);
    assertClose(rd.estimate, c.riskDifference.estimate, STRICT, `${c.name} estimate`, 1e-15);
    assertClose(rd.ci95[0], c.riskDifference.ci95[0], TOLERANCE, `${c.name} lower`, 1e-15);
    assertClose(rd.ci95[1], c.riskDifference.ci95[1], TOLERANCE, `${c.name} upper`, 1e-15);
    assert.equal(rd.method, 'newcombe');
  }
});

test('Newcombe 1998 Table II, method 10: the published limits to 4 decimals', () => {
  // 56/70 - 48/80: 0.0524 to 0.3339; 9/10 - 3/10: 0.1705 to 0.8090; 10/10 - 0/20: 0.6791 to 1.
  const cases: Array<[number, number, number, number, number, number]> = [
    [56, 70, 48, 80, 0.0524, 0.3339],
    [9, 10, 3, 10, 0.1705, 0.809],
    [10, 10, 0, 20, 0.6791, 1],
  ];
  for (const [x1, n1, x2, n2, lower, upper] of cases) {
    const rd = newcombeRiskDifference({ events: x1, n: n1 }, { events: x2, n: n2 });
    assert.equal(Number(rd.ci95[0].toFixed(4)), lower, `${x1}/${n1} - ${x2}/${n2}`);
    assert.equal(Number(rd.ci95[1].toFixed(4)), upper, `${x1}/${n1} - ${x2}/${n2}`);
  }
});

test('Woolf odds ratio matches R; Haldane-Anscombe only when a cell is zero; 0/0 is undefined', () => {
  for (const c of fixture.cases) {
    const or = oddsRatioWoolf(c.treated, c.control);
    if (c.oddsRatioUndefined) {
      assert.equal(or.defined, false, c.name);
      continue;
    }
    assert.ok(or.defined, c.name);
    const expected = c.oddsRatioZeroCell ? c.oddsRatioHaldane : c.oddsRatioWoolfRaw;
    assert.equal(or.correction, c.oddsRatioZeroCell ? 'haldane-anscombe' : null, c.name);
    assertClose(or.estimate, expected.estimate, STRICT, `${c.name} OR`);
    assertClose(or.ci95[0], expected.ci95[0], TOLERANCE, `${c.name} OR lower`);
    assertClose(or.ci95[1], expected.ci95[1], TOLERANCE, `${c.name} OR upper`);
  }
});

test('odds ratio without correction: zero cells are undefined, other tables equal the plain formula', () => {
  const zero = oddsRatioWoolf({ events: 0, n: 10 }, { events: 5, n: 12 }, { zeroCellCorrection: 'none' });
  assert.equal(zero.defined, false);
  const plain = oddsRatioWoolf({ events: 15, n: 20 }, { events: 8, n: 20 }, { zeroCellCorrection: 'none' });
  assert.ok(plain.defined);
  // Hand check: OR = (15 * 12) / (5 * 8) = 4.5; se = sqrt(1/15 + 1/5 + 1/8 + 1/12) = 0.6908...
  assert.equal(plain.estimate, 4.5);
  const se = Math.sqrt(1 / 15 + 1 / 5 + 1 / 8 + 1 / 12);
  assertClose(plain.ci95[0], 4.5 * Math.exp(-fixture.z * se), 1e-14, 'hand lower');
});

test('invalid counts are programming errors (RangeError)', () => {
  assert.throws(() => wilsonInterval({ events: 5, n: 3 }), RangeError);
  assert.throws(() => wilsonInterval({ events: 1.5, n: 3 }), RangeError);
  assert.throws(() => wilsonInterval({ events: 0, n: 0 }), RangeError);
  assert.throws(() => wilsonInterval({ events: 1, n: 3 }, 1), RangeError);
});

test('a 99% Wilson interval is wider and contains the 95% one', () => {
  const [l95, u95] = wilsonInterval({ events: 7, n: 19 });
  const [l99, u99] = wilsonInterval({ events: 7, n: 19 }, 0.99);
  assert.ok(l99 < l95 && u99 > u95);
});
