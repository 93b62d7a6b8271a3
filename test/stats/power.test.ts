import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { chiSquareTest } from '../../src/stats/chisq.ts';
import { fisherExactTwoSided } from '../../src/stats/fisher.ts';
import {
  type PowerScenario,
  TestDecision,
  chiSquare2x2P,
  exactPower,
  exactPowerWithDropout,
  powerPropTest,
  powerPropTestN,
  sampleSizeForPower,
  simulatePower,
} from '../../src/stats/power.ts';
import { BinomialSampler, binomialPmf, xoshiro128 } from '../../src/stats/random.ts';
import { assertClose } from './close.ts';
import { readRFixture } from './fixtures.ts';

interface PowerFixture {
  analyticPower: Array<{ n: number; p1: number; p2: number; alpha: number; power: number }>;
  analyticN: Array<{ p1: number; p2: number; alpha: number; power: number; n: number }>;
  exactPower: Array<{ n1: number; n2: number; p1: number; p2: number; alpha: number; fisher: number; chisq: number; yates: number }>;
}

const fixture = readRFixture<PowerFixture>('power.json');
const IMMUNOSEP: PowerScenario = { treated: 0.4, control: 0.2, dropout: 0, alpha: 0.05, test: 'fisher' };

/** Monte Carlo agreement: within 4 standard errors of the true power (fails by chance < 1e-4). */
function assertWithinMonteCarlo(estimate: number, truth: number, replicates: number, what: string, extra = 0): void {
  const se = Math.sqrt((truth * (1 - truth)) / replicates);
  assert.ok(Math.abs(estimate - truth) <= 4 * se + extra, `${what}: simulated ${estimate}, expected ${truth} +- ${(4 * se + extra).toFixed(4)}`);
}

test('xoshiro128: deterministic per seed, uniform on [0, 1)', () => {
  const a = xoshiro128(1);
  const b = xoshiro128(1);
  const c = xoshiro128(2);
  const first = [a.next(), a.next(), a.next()];
  assert.deepEqual(first, [b.next(), b.next(), b.next()]);
  assert.notDeepEqual(first, [c.next(), c.next(), c.next()]);
  const rng = xoshiro128(123);
  let sum = 0;
  for (let i = 0; i < 100_000; i++) {
    const u = rng.next();
    assert.ok(u >= 0 && u < 1);
    sum += u;
  }
  // Mean of 1e5 uniforms: SE 0.0009.
  assert.ok(Math.abs(sum / 100_000 - 0.5) < 0.004);
});

test('binomial probabilities (hand-checked) and draws with the right mean and variance', () => {
  // C(10,3) 0.3^3 0.7^7 = 120 * 0.027 * 0.0823543 = 0.266827932.
  assertClose(binomialPmf(10, 0.3)[3], 0.266827932, 1e-9, 'dbinom(3, 10, 0.3)');
  assertClose(binomialPmf(4, 0.5)[2], 0.375, 1e-12, 'dbinom(2, 4, 0.5)');
  assert.deepEqual([...binomialPmf(3, 0)], [1, 0, 0, 0]);
  assert.deepEqual([...binomialPmf(3, 1)], [0, 0, 0, 1]);
  // Large n: no underflow at the mode, sums to 1.
  const big = binomialPmf(5000, 0.5);
  assertClose(big.reduce((s, x) => s + x, 0), 1, 1e-12, 'sum of pmf');
  const sampler = new BinomialSampler(xoshiro128(9), 0.3);
  const draws = Array.from({ length: 50_000 }, () => sampler.draw(40));
  const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
  const variance = draws.reduce((s, x) => s + (x - mean) ** 2, 0) / (draws.length - 1);
  // Expected 12 and 8.4; SE of the mean 0.013.
  assert.ok(Math.abs(mean - 12) < 0.06, `mean ${mean}`);
  assert.ok(Math.abs(variance - 8.4) < 0.3, `variance ${variance}`);
});

test('analytic power and sample size equal R power.prop.test', () => {
  for (const c of fixture.analyticPower) {
    assertClose(powerPropTest(c.n, c.p1, c.p2, c.alpha), c.power, 1e-10, `power.prop.test(n = ${c.n}, ${c.p1}, ${c.p2})`);
  }
  for (const c of fixture.analyticN) {
    assertClose(powerPropTestN(c.p1, c.p2, c.alpha, c.power).n, c.n, 1e-9, `power.prop.test(${c.p1}, ${c.p2}, power = ${c.power})$n`);
  }
  // ImmunoSep planning, 40% vs 20%, alpha 0.05, 90%: 108.2 per group by the normal
  // approximation, 118.0 with Fleiss' continuity correction.
  const planning = powerPropTestN(0.4, 0.2, 0.05, 0.9);
  assert.equal(Math.ceil(planning.n), 109);
  assert.equal(Math.ceil(planning.nContinuityCorrected), 119);
});

test('exact power by enumeration equals R (fisher.test, chisq.test with and without Yates)', () => {
  for (const c of fixture.exactPower) {
    const what = `${c.n1} vs ${c.n2}, ${c.p1} vs ${c.p2}, alpha ${c.alpha}`;
    assertClose(exactPower(c.n1, c.n2, c.p1, c.p2, 'fisher', c.alpha), c.fisher, 1e-9, `Fisher ${what}`);
    assertClose(exactPower(c.n1, c.n2, c.p1, c.p2, 'chisq', c.alpha), c.chisq, 1e-9, `chi-square ${what}`);
    assertClose(exactPower(c.n1, c.n2, c.p1, c.p2, 'chisq-yates', c.alpha), c.yates, 1e-9, `Yates ${what}`);
  }
});

test('ImmunoSep planning: Fisher exact power reaches 90% at exactly 117 per group (R)', () => {
  const at = (n: number) => fixture.exactPower.find((c) => c.n1 === n && c.n2 === n && c.p1 === 0.4)?.fisher;
  assert.ok((at(116) as number) < 0.9, `116 per group: ${at(116)}`);
  assert.ok((at(117) as number) >= 0.9, `117 per group: ${at(117)}`);
  assertClose(exactPower(117, 117, 0.4, 0.2, 'fisher', 0.05), at(117) as number, 1e-9, 'TS exact at 117');
});

test('the 2x2 test decisions equal the validated tests for any table', () => {
  const decisions = { fisher: new TestDecision('fisher', 0.05), chisq: new TestDecision('chisq', 0.05), yates: new TestDecision('chisq-yates', 0.05) };
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (n1, n2, u1, u2) => {
      const x1 = Math.floor(u1 * (n1 + 1)) % (n1 + 1);
      const x2 = Math.floor(u2 * (n2 + 1)) % (n2 + 1);
      const table = [
        [x1, n1 - x1],
        [x2, n2 - x2],
      ] as const;
      assert.equal(decisions.fisher.rejects(x1, n1, x2, n2), fisherExactTwoSided(table) <= 0.05);
      for (const yates of [false, true]) {
        const reference = chiSquareTest(table, { yates });
        const p = chiSquare2x2P(x1, n1, x2, n2, yates);
        if (reference === null) assert.equal(p, null);
        else assertClose(p, reference.p, 1e-12, `chi-square ${JSON.stringify(table)} yates=${yates}`, 1e-300);
        assert.equal((yates ? decisions.yates : decisions.chisq).rejects(x1, n1, x2, n2), reference !== null && reference.p <= 0.05);
      }
    }),
    { numRuns: 400, seed: 7 },
  );
});

test('simulated power lies within Monte Carlo error of the exact power computed by R (fixed seeds)', () => {
  const replicates = 10_000;
  const r117 = fixture.exactPower.find((c) => c.n1 === 117 && c.n2 === 117) as PowerFixture['exactPower'][number];
  for (const seed of [1, 2]) {
    const fisher = simulatePower(IMMUNOSEP, 234, { replicates, seed });
    assertWithinMonteCarlo(fisher.power, r117.fisher, replicates, `Fisher, seed ${seed}`);
    assert.ok(fisher.ci95[0] <= fisher.power && fisher.power <= fisher.ci95[1]);
    assert.equal(fisher.meanAnalysed, 234);
    const chisq = simulatePower({ ...IMMUNOSEP, test: 'chisq' }, 234, { replicates, seed });
    assertWithinMonteCarlo(chisq.power, r117.chisq, replicates, `chi-square, seed ${seed}`);
    // The uncorrected chi-square is the test power.prop.test approximates: R's exact 0.9231 vs
    // the normal approximation 0.9210; the simulation is within MC error plus that 0.002 gap.
    const analytic = fixture.analyticPower.find((c) => c.n === 117)?.power as number;
    assertWithinMonteCarlo(chisq.power, analytic, replicates, `chi-square vs power.prop.test, seed ${seed}`, Math.abs(r117.chisq - analytic));
  }
});

test('simulated power with dropout lies within Monte Carlo error of the exact mixture', () => {
  const scenario: PowerScenario = { treated: 0.5, control: 0.2, dropout: 0.2, alpha: 0.05, test: 'fisher' };
  const replicates = 20_000;
  for (const n of [40, 61]) {
    const truth = exactPowerWithDropout(scenario, n);
    const estimate = simulatePower(scenario, n, { replicates, seed: 11 });
    assertWithinMonteCarlo(estimate.power, truth, replicates, `n = ${n}, dropout 20%`);
    // About 80% of the randomised patients are analysed.
    assert.ok(Math.abs(estimate.meanAnalysed - 0.8 * n) < 0.1, `mean analysed ${estimate.meanAnalysed}`);
  }
});

test('strata with the same rates in each stratum give the unstratified power; an effect confined to one stratum gives that stratum\'s power', () => {
  const replicates = 20_000;
  const same: PowerScenario = {
    ...IMMUNOSEP,
    dropout: 0.1,
    strata: [
      { name: 'MALS', prevalence: 0.22, treated: 0.4, control: 0.2 },
      { name: 'immunoparalysis', prevalence: 0.28, treated: 0.4, control: 0.2 },
    ],
  };
  const truth = exactPowerWithDropout({ ...IMMUNOSEP, dropout: 0.1 }, 100);
  // Within-stratum 1:1 with random odd patients changes the arm split slightly: allow 0.01.
  assertWithinMonteCarlo(simulatePower(same, 100, { replicates, seed: 3 }).power, truth, replicates, 'stratified, same rates', 0.01);
  // An effect only in one stratum: responders 0.6 vs 0.2 in a stratum of all patients, none in
  // the other (prevalence ~0): the power equals the single-stratum power.
  const oneStratum: PowerScenario = {
    ...IMMUNOSEP,
    strata: [
      { name: 'MALS', prevalence: 1, treated: 0.6, control: 0.2 },
      { name: 'immunoparalysis', prevalence: 1e-12, treated: 0.2, control: 0.2 },
    ],
  };
  assertWithinMonteCarlo(simulatePower(oneStratum, 60, { replicates, seed: 5 }).power, exactPower(30, 30, 0.6, 0.2, 'fisher', 0.05), replicates, 'one stratum');
});

test('sample size search: the ImmunoSep design lands at 117 per group (234) without dropout, 280 is enough with 15%', () => {
  const grid = Array.from({ length: 16 }, (_, i) => 220 + 2 * i); // 220..250
  const result = sampleSizeForPower(IMMUNOSEP, 0.9, grid, { replicates: 10_000, seed: 1 });
  assert.ok(result.n !== null && Math.abs(result.n - 234) <= 8, `found ${result.n}`);
  assert.ok(result.nConservative === null || result.nConservative >= (result.n as number));
  assert.equal(result.curve.length, grid.length);
  const planned = simulatePower({ ...IMMUNOSEP, dropout: 0.15 }, 280, { replicates: 10_000, seed: 1 });
  assert.ok(planned.ci95[0] > 0.9, `power at 280 with 15% dropout: ${planned.power}`);
});

test('the same seed gives the same simulation; invalid sizes are rejected', () => {
  const a = simulatePower(IMMUNOSEP, 100, { replicates: 2000, seed: 42 });
  const b = simulatePower(IMMUNOSEP, 100, { replicates: 2000, seed: 42 });
  const c = simulatePower(IMMUNOSEP, 100, { replicates: 2000, seed: 43 });
  assert.deepEqual(a, b);
  assert.notEqual(a.rejections, c.rejections);
  assert.throws(() => simulatePower(IMMUNOSEP, 1, { replicates: 10, seed: 1 }), RangeError);
  assert.throws(() => simulatePower(IMMUNOSEP, 10, { replicates: 0, seed: 1 }), RangeError);
  // No effect: the rejection rate is at most alpha (Fisher is conservative).
  const null0 = simulatePower({ ...IMMUNOSEP, treated: 0.3, control: 0.3 }, 200, { replicates: 10_000, seed: 8 });
  assert.ok(null0.power <= 0.05 + 4 * Math.sqrt((0.05 * 0.95) / 10_000), `type I error ${null0.power}`);
});
