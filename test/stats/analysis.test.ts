import assert from 'node:assert/strict';
import fc from 'fast-check';
import { test } from 'node:test';
import { compareProportions, compareSurvival } from '../../src/stats/analysis.ts';
import { fisherExactTwoSided } from '../../src/stats/fisher.ts';
import { newcombeRiskDifference, wilsonInterval } from '../../src/stats/proportions.ts';

test('compareProportions returns invalid counts as values, naming the arm', () => {
  const bad = compareProportions({ events: 5, n: 3 }, { events: 1, n: 2 });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.equal(bad.error.arm, 'treated');
  const zero = compareProportions({ events: 1, n: 2 }, { events: 0, n: 0 });
  assert.ok(!zero.ok && zero.error.arm === 'control');
  assert.equal(compareProportions({ events: 1.5, n: 3 }, { events: 1, n: 2 }).ok, false);
});

test('compareProportions: chiSquareP is the uncorrected Pearson test, chiSquareYatesP the corrected one', () => {
  const result = compareProportions({ events: 15, n: 20 }, { events: 8, n: 20 });
  assert.ok(result.ok);
  assert.ok(result.value.chiSquareP !== null && result.value.chiSquareYatesP !== null);
  assert.ok(result.value.chiSquareP < result.value.chiSquareYatesP);
});

test('compareSurvival: exactly two groups; the reference must exist; times must be >= 0', () => {
  const one = compareSurvival([{ time: 1, event: true, group: 'A' }]);
  assert.ok(!one.ok && one.error.kind === 'groups');
  const reference = compareSurvival(
    [
      { time: 1, event: true, group: 'A' },
      { time: 2, event: true, group: 'B' },
    ],
    { reference: 'C' },
  );
  assert.ok(!reference.ok && reference.error.kind === 'reference');
  const negative = compareSurvival([{ time: -1, event: true, group: 'A' }]);
  assert.ok(!negative.ok && negative.error.kind === 'data');
});

test('properties: Wilson and Newcombe intervals contain their estimates; swapping arms mirrors the RD', () => {
  const arm = fc.integer({ min: 1, max: 200 }).chain((n) => fc.record({ events: fc.integer({ min: 0, max: n }), n: fc.constant(n) }));
  fc.assert(
    fc.property(arm, arm, (treated, control) => {
      const [lower, upper] = wilsonInterval(treated);
      const p = treated.events / treated.n;
      assert.ok(lower >= 0 && lower <= p + 1e-15 && upper >= p - 1e-15 && upper <= 1);
      const rd = newcombeRiskDifference(treated, control);
      assert.ok(rd.ci95[0] <= rd.estimate + 1e-15 && rd.ci95[1] >= rd.estimate - 1e-15);
      assert.ok(rd.ci95[0] >= -1 - 1e-15 && rd.ci95[1] <= 1 + 1e-15);
      const mirrored = newcombeRiskDifference(control, treated);
      assert.ok(Math.abs(mirrored.ci95[0] + rd.ci95[1]) < 1e-12 && Math.abs(mirrored.ci95[1] + rd.ci95[0]) < 1e-12);
      const table = [
        [treated.events, treated.n - treated.events],
        [control.events, control.n - control.events],
      ] as const;
      const fisher = fisherExactTwoSided(table);
      assert.ok(fisher > 0 && fisher <= 1);
      const swapped = fisherExactTwoSided([table[1], table[0]]);
      assert.ok(Math.abs(fisher - swapped) <= 1e-12 * fisher);
    }),
  );
});
