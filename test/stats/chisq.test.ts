import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chiSquareTest } from '../../src/stats/chisq.ts';
import { assertClose } from './close.ts';
import { type ProportionsFixture, readRFixture } from './fixtures.ts';

const fixture = readRFixture<ProportionsFixture>('proportions.json');

test('chi-square with and without Yates matches R chisq.test; zero margins are undefined (R: NaN)', () => {
  for (const c of fixture.cases) {
    const tab = [
      [c.treated.events, c.treated.n - c.treated.events],
      [c.control.events, c.control.n - c.control.events],
    ];
    const yates = chiSquareTest(tab, { yates: true });
    const plain = chiSquareTest(tab);
    if (c.chiSquareYates.p === null) {
      assert.equal(yates, null, c.name);
      assert.equal(plain, null, c.name);
      continue;
    }
    assertClose(yates?.statistic, c.chiSquareYates.statistic, 1e-10, `${c.name} Yates X2`, 1e-14);
    assertClose(yates?.p, c.chiSquareYates.p, 1e-10, `${c.name} Yates P`);
    assertClose(plain?.statistic, c.chiSquarePearson.statistic, 1e-10, `${c.name} X2`, 1e-14);
    assertClose(plain?.p, c.chiSquarePearson.p, 1e-10, `${c.name} P`);
    assert.equal(yates?.correction, 'yates');
    assert.equal(plain?.correction, 'none');
  }
});

test('hand-checked 2x2: [[15, 5], [8, 12]] X2 = 40 (15*12 - 5*8)^2 / (20*20*23*17) = 5.0128', () => {
  const result = chiSquareTest([[15, 5], [8, 12]]);
  assertClose(result?.statistic, (40 * (15 * 12 - 5 * 8) ** 2) / (20 * 20 * 23 * 17), 1e-14, 'X2');
  assert.equal(result?.df, 1);
  // Yates: (|ad - bc| - N/2)^2 N / (margins) = (140 - 20)^2 * 40 / 156400
  assertClose(chiSquareTest([[15, 5], [8, 12]], { yates: true })?.statistic, (120 ** 2 * 40) / 156400, 1e-14, 'Yates X2');
});

test('Yates correction never exceeds |O - E| (R: min(0.5, |O - E|)): equal arms give X2 = 0', () => {
  assert.equal(chiSquareTest([[7, 7], [7, 7]], { yates: true })?.statistic, 0);
  // |O - E| = 0.25 here: the correction shrinks to 0.25 and the statistic is 0.
  assert.equal(chiSquareTest([[1, 1], [1, 2]], { yates: true })?.statistic, 0);
});

test('r x c tables: df = (r - 1)(c - 1); Yates is ignored beyond 2x2', () => {
  const t = [
    [10, 20, 30],
    [30, 20, 10],
  ];
  const result = chiSquareTest(t, { yates: true });
  assert.equal(result?.df, 2);
  assert.equal(result?.correction, 'none');
  // Hand check: every expected count is 20; X2 = (100 + 0 + 100 + 100 + 0 + 100) / 20 = 20.
  assertClose(result?.statistic, 20, 1e-14, 'X2');
  assertClose(result?.p, Math.exp(-10), 1e-13, 'P'); // chi-square(2) tail = exp(-x / 2)
});
