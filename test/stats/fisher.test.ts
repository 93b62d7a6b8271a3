import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fisherExactTwoSided, hypergeometricSupport } from '../../src/stats/fisher.ts';
import { assertClose } from './close.ts';
import { type ProportionsFixture, readRFixture } from './fixtures.ts';

const fixture = readRFixture<ProportionsFixture>('proportions.json');

function table(c: ProportionsFixture['cases'][number]) {
  return [
    [c.treated.events, c.treated.n - c.treated.events],
    [c.control.events, c.control.n - c.control.events],
  ] as const;
}

test('two-sided Fisher P matches R fisher.test on every table (ties, zero cells, zero margins)', () => {
  for (const c of fixture.cases) assertClose(fisherExactTwoSided(table(c)), c.fisherP, 1e-10, c.name);
});

test("Fisher's tea-tasting table: P = 0.4857 (= 34/70)", () => {
  assertClose(fisherExactTwoSided([[3, 1], [1, 3]]), 34 / 70, 1e-13, 'tea');
});

test('symmetric distributions keep the equally probable mirror table (R 1e-7 tolerance)', () => {
  // [[1, 3], [3, 1]] and [[3, 1], [1, 3]] are equally probable (16/70 each) and both belong to
  // the two-sided P: 1/70 + 16/70 + 16/70 + 1/70 = 34/70.
  assertClose(fisherExactTwoSided([[1, 3], [3, 1]]), 34 / 70, 1e-13, 'mirror');
  // Hand check: margins 2/2 with [[2, 0], [0, 2]] -> P = 1/6 + 1/6 = 1/3.
  assertClose(fisherExactTwoSided([[2, 0], [0, 2]]), 1 / 3, 1e-13, '2x2 extreme');
});

test('the hypergeometric support sums to 1 and is right for large tables', () => {
  const { lo, probabilities } = hypergeometricSupport([[450, 550], [380, 620]]);
  assert.equal(lo, 0);
  assert.equal(probabilities.length, 831);
  assertClose(probabilities.reduce((s, p) => s + p, 0), 1, 1e-12, 'sum');
  // Transposing or swapping rows leaves the two-sided P unchanged.
  const p = fisherExactTwoSided([[450, 550], [380, 620]]);
  assertClose(fisherExactTwoSided([[450, 380], [550, 620]]), p, 1e-12, 'transpose');
  assertClose(fisherExactTwoSided([[380, 620], [450, 550]]), p, 1e-12, 'rows swapped');
});
