/** Every band edge of the SOFA table (CLINICAL.md section 6), in conventional and SI units. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  MIMIC_IV_PRESET,
  VINCENT_1996_PRESET,
  cardiovascularPoints,
  cnsPoints,
  coagulationPoints,
  pfRatio,
  respirationPoints,
  risingPoints,
  urineOutputPoints,
} from '../../../src/clinical/sofa/index.ts';

const cases = <T>(fn: (input: T) => number, table: Array<[T, number]>): void => {
  for (const [input, expected] of table) assert.equal(fn(input), expected, `${JSON.stringify(input)} -> ${expected}`);
};

describe('respiration', () => {
  test('P/F bands in mmHg, with and without ventilation', () => {
    cases((r: number) => respirationPoints(r, true), [[400, 0], [399.9, 1], [300, 1], [299.9, 2], [200, 2], [199.9, 3], [100, 3], [99.9, 4]]);
    cases((r: number) => respirationPoints(r, false), [[400, 0], [399.9, 1], [299.9, 2], [199.9, 2], [99.9, 2]]);
  });
  test('P/F bands in kPa (the printed SI column)', () => {
    cases((r: number) => respirationPoints(r, true, 'kPa'), [[53.3, 0], [53.2, 1], [40, 1], [39.9, 2], [26.7, 2], [26.6, 3], [13.3, 3], [13.2, 4]]);
  });
  test('the ratio never falls a hair below a band edge', () => {
    assert.equal(pfRatio(220, 0.55), 400);
    assert.equal(respirationPoints(pfRatio(220, 0.55), false), 0);
    assert.equal(pfRatio(60, 0.3), 200);
    assert.equal(respirationPoints(pfRatio(60, 0.3), true), 2);
    assert.equal(pfRatio(21, 0.21), 100);
  });
});

test('coagulation: platelets x10^3/uL', () => {
  cases(coagulationPoints, [[150, 0], [149.9, 1], [100, 1], [99.9, 2], [50, 2], [49.9, 3], [20, 3], [19.9, 4], [0, 4]]);
});

describe('liver: bilirubin', () => {
  test('mg/dL, mimic-iv (>= 12.0 scores 4)', () => {
    cases((v: number) => risingPoints(v, MIMIC_IV_PRESET.liver.conventional), [[1.19, 0], [1.2, 1], [1.9, 1], [1.99, 1], [2.0, 2], [5.9, 2], [6.0, 3], [11.9, 3], [12.0, 4], [30, 4]]);
  });
  test('mg/dL, vincent1996 (> 12.0 scores 4)', () => {
    cases((v: number) => risingPoints(v, VINCENT_1996_PRESET.liver.conventional), [[1.2, 1], [6.0, 3], [12.0, 3], [12.01, 4]]);
  });
  test('umol/L against the printed SI column', () => {
    cases((v: number) => risingPoints(v, VINCENT_1996_PRESET.liver.si), [[19, 0], [20, 1], [32, 1], [33, 2], [101, 2], [102, 3], [204, 3], [205, 4]]);
    cases((v: number) => risingPoints(v, MIMIC_IV_PRESET.liver.si), [[204, 4]]);
  });
});

test('cardiovascular: MAP and catecholamines (ug/kg/min)', () => {
  const none = { mapMmHg: null, dopamine: null, dobutamine: null, epinephrine: null, norepinephrine: null };
  cases(cardiovascularPoints, [
    [{ ...none, mapMmHg: 70 }, 0],
    [{ ...none, mapMmHg: 69.9 }, 1],
    [{ ...none, mapMmHg: 50, dobutamine: 0.5 }, 2],
    [{ ...none, dopamine: 5 }, 2],
    [{ ...none, dopamine: 5.1 }, 3],
    [{ ...none, dopamine: 15 }, 3],
    [{ ...none, dopamine: 15.1 }, 4],
    [{ ...none, norepinephrine: 0.01 }, 3],
    [{ ...none, norepinephrine: 0.1 }, 3],
    [{ ...none, norepinephrine: 0.11 }, 4],
    [{ ...none, epinephrine: 0.1 }, 3],
    [{ ...none, epinephrine: 0.100001 }, 4],
    [{ ...none, mapMmHg: 80, norepinephrine: 0 }, 0],
    [none, 0],
  ]);
});

test('CNS: Glasgow coma score', () => {
  cases(cnsPoints, [[15, 0], [14, 1], [13, 1], [12, 2], [10, 2], [9, 3], [6, 3], [5, 4], [3, 4]]);
});

describe('renal', () => {
  test('creatinine mg/dL, mimic-iv (>= 5.0 scores 4)', () => {
    cases((v: number) => risingPoints(v, MIMIC_IV_PRESET.renalCreatinine.conventional), [[1.19, 0], [1.2, 1], [1.9, 1], [2.0, 2], [3.4, 2], [3.5, 3], [4.9, 3], [5.0, 4]]);
  });
  test('creatinine mg/dL, vincent1996 (> 5.0 scores 4)', () => {
    cases((v: number) => risingPoints(v, VINCENT_1996_PRESET.renalCreatinine.conventional), [[5.0, 3], [5.01, 4]]);
  });
  test('creatinine umol/L against the printed SI column', () => {
    cases((v: number) => risingPoints(v, VINCENT_1996_PRESET.renalCreatinine.si), [[109, 0], [110, 1], [170, 1], [171, 2], [299, 2], [300, 3], [440, 3], [441, 4]]);
  });
  test('urine output mL/day', () => {
    cases(urineOutputPoints, [[500, 0], [499, 3], [200, 3], [199, 4], [0, 4]]);
  });
});

describe('monotone: a worse input never lowers the score (property tests)', () => {
  const positive = fc.double({ min: 0, max: 2000, noNaN: true });
  test('respiration falls as P/F rises; ventilation never lowers it', () => {
    fc.assert(
      fc.property(positive, positive, fc.boolean(), (a, b, vent) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        return respirationPoints(low, vent) >= respirationPoints(high, vent) && respirationPoints(a, true) >= respirationPoints(a, false);
      }),
    );
  });
  test('coagulation falls as platelets rise', () => {
    fc.assert(fc.property(positive, positive, (a, b) => (a <= b ? coagulationPoints(a) >= coagulationPoints(b) : coagulationPoints(a) <= coagulationPoints(b))));
  });
  test('liver and renal rise with bilirubin and creatinine, in every preset and unit system', () => {
    const bands = [MIMIC_IV_PRESET.liver.conventional, MIMIC_IV_PRESET.liver.si, VINCENT_1996_PRESET.liver.conventional, MIMIC_IV_PRESET.renalCreatinine.si, VINCENT_1996_PRESET.renalCreatinine.conventional];
    fc.assert(fc.property(positive, positive, fc.constantFrom(...bands), (a, b, band) => (a <= b ? risingPoints(a, band) <= risingPoints(b, band) : true)));
  });
  test('CNS falls as GCS rises; urine points fall as output rises', () => {
    fc.assert(fc.property(fc.integer({ min: 3, max: 15 }), fc.integer({ min: 3, max: 15 }), (a, b) => (a <= b ? cnsPoints(a) >= cnsPoints(b) : true)));
    fc.assert(fc.property(positive, positive, (a, b) => (a <= b ? urineOutputPoints(a) >= urineOutputPoints(b) : true)));
  });
  test('cardiovascular rises with every catecholamine rate and falls with MAP', () => {
    const rate = fc.option(fc.double({ min: 0, max: 50, noNaN: true }), { nil: null });
    const inputs = fc.record({ mapMmHg: fc.option(fc.double({ min: 20, max: 150, noNaN: true }), { nil: null }), dopamine: rate, dobutamine: rate, epinephrine: rate, norepinephrine: rate });
    fc.assert(
      fc.property(inputs, fc.constantFrom('dopamine', 'dobutamine', 'epinephrine', 'norepinephrine' as const), fc.double({ min: 0, max: 5, noNaN: true }), (base, drug, more) => {
        const raised = { ...base, [drug]: (base[drug] ?? 0) + more };
        const lowerMap = { ...base, mapMmHg: base.mapMmHg === null ? null : base.mapMmHg - more };
        return cardiovascularPoints(raised) >= cardiovascularPoints(base) && cardiovascularPoints(lowerMap) >= cardiovascularPoints(base);
      }),
    );
  });
  test('every component stays within 0-4', () => {
    fc.assert(fc.property(positive, fc.boolean(), (v, vent) => [respirationPoints(v, vent), coagulationPoints(v), urineOutputPoints(v), risingPoints(v, MIMIC_IV_PRESET.liver.conventional)].every((p) => p >= 0 && p <= 4)));
  });
});
