/**
 * Every boundary of the SOFA table (CLINICAL.md section 6) in both threshold tables and both unit
 * systems, hand-checked; and property tests that every organ score is monotone in its input.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  CATECHOLAMINES,
  type Catecholamine,
  MIMIC_IV_PRESET,
  MIMIC_IV_THRESHOLDS,
  type OrganScore,
  type Quantity,
  SOFA_COMPONENTS,
  type SofaComponentScores,
  type SofaParameters,
  type SofaThresholds,
  VINCENT_1996_PRESET,
  VINCENT_1996_THRESHOLDS,
  pfRatio,
  scoreCardiovascular,
  scoreCatecholamine,
  scoreCns,
  scoreCoagulation,
  scoreCreatinine,
  scoreLiver,
  scoreMap,
  scoreRenal,
  scoreRespiration,
  scoreSofaDays,
  scoreUrineOutput,
  sofaTotal,
} from '../../../src/clinical/sofa/index.ts';
import type { Concept, Result } from '../../../src/clinical/types.ts';
import { m } from './support.ts';

const TABLES: readonly SofaThresholds[] = [VINCENT_1996_THRESHOLDS, MIMIC_IV_THRESHOLDS];

function score(result: Result<{ score: OrganScore }, string>): OrganScore {
  if (!result.ok) assert.fail(result.error);
  return result.value.score;
}

/** Checks value -> expected score pairs; the message names the value. */
function edges(what: string, fn: (value: number) => OrganScore, cases: Array<[number, OrganScore]>): void {
  for (const [value, expected] of cases) assert.equal(fn(value), expected, `${what} ${value} -> ${expected}`);
}

describe('respiration: PaO2/FiO2, 3-4 only with invasive ventilation', () => {
  test('mmHg column (both tables)', () => {
    for (const t of TABLES) {
      const vent = (r: number) => score(scoreRespiration({ value: r, unit: 'mm[Hg]' }, true, t));
      const noVent = (r: number) => score(scoreRespiration({ value: r, unit: 'mm[Hg]' }, false, t));
      edges(`${t.id} ventilated P/F`, vent, [[400, 0], [399.9, 1], [300, 1], [299.9, 2], [200, 2], [199.9, 3], [100, 3], [99.9, 4], [0, 4]]);
      edges(`${t.id} unventilated P/F`, noVent, [[400, 0], [399.9, 1], [300, 1], [299.9, 2], [200, 2], [199.9, 2], [99.9, 2], [0, 2]]);
    }
  });
  test('kPa column, printed by Vincent 1996 only', () => {
    const vent = (r: number) => score(scoreRespiration({ value: r, unit: 'kPa' }, true, VINCENT_1996_THRESHOLDS));
    edges('P/F kPa', vent, [[53.3, 0], [53.29, 1], [40, 1], [39.99, 2], [26.7, 2], [26.69, 3], [13.3, 3], [13.29, 4]]);
    assert.equal(score(scoreRespiration({ value: 13.29, unit: 'kPa' }, false, VINCENT_1996_THRESHOLDS)), 2);
    const refused = scoreRespiration({ value: 40, unit: 'kPa' }, true, MIMIC_IV_THRESHOLDS);
    assert.equal(refused.ok, false, 'mimic-code scores P/F in mmHg only');
  });
  test('the ratio never falls a hair below a band edge: 220 / 0.55 is exactly 400', () => {
    assert.equal(220 / 0.55 < 400, true, 'IEEE division alone would fall below 400');
    assert.equal(pfRatio(220, 0.55), 400);
    assert.equal(pfRatio(60, 0.3), 200);
    assert.equal(pfRatio(21, 0.21), 100);
    assert.equal(pfRatio(165, 0.55), 300);
    assert.equal(score(scoreRespiration({ value: pfRatio(220, 0.55), unit: 'mm[Hg]' }, false, MIMIC_IV_THRESHOLDS)), 0);
    // 29.32 kPa / 0.55 = 53.309... kPa: 0 on the SI column.
    assert.equal(score(scoreRespiration({ value: pfRatio(29.32, 0.55), unit: 'kPa' }, true, VINCENT_1996_THRESHOLDS)), 0);
  });
  test('the comparison names the band and the cap', () => {
    const capped = scoreRespiration({ value: 150, unit: 'mm[Hg]' }, false, VINCENT_1996_THRESHOLDS);
    assert.ok(capped.ok);
    assert.equal(capped.value.comparison, 'PaO2/FiO2 150 mmHg < 200 mmHg: 3, capped at 2 without invasive ventilation (3-4 need respiratory support)');
    assert.equal(capped.value.scale, 'respiration.pf.mmHg');
  });
});

test('coagulation: platelets x10^3/uL (== x10^9/L), both tables', () => {
  for (const t of TABLES) {
    edges(`${t.id} platelets`, (v) => score(scoreCoagulation({ value: v, unit: '10*3/uL' }, t)), [
      [150, 0], [149.9, 1], [100, 1], [99.9, 2], [50, 2], [49.9, 3], [20, 3], [19.9, 4], [0, 4],
    ]);
  }
});

describe('liver: bilirubin', () => {
  const mgdl = (t: SofaThresholds) => (v: number) => score(scoreLiver({ value: v, unit: 'mg/dL' }, t));
  test('mg/dL as printed (vincent1996): 4 only above 12.0', () => {
    edges('bilirubin', mgdl(VINCENT_1996_THRESHOLDS), [[0, 0], [1.19, 0], [1.2, 1], [1.9, 1], [1.99, 1], [2.0, 2], [5.9, 2], [5.99, 2], [6.0, 3], [11.9, 3], [12.0, 3], [12.01, 4]]);
  });
  test('mg/dL as mimic-code scores it: >= 12.0 scores 4', () => {
    edges('bilirubin', mgdl(MIMIC_IV_THRESHOLDS), [[1.19, 0], [1.2, 1], [1.99, 1], [2.0, 2], [5.99, 2], [6.0, 3], [11.99, 3], [12.0, 4]]);
  });
  test('umol/L: the printed SI column (vincent1996)', () => {
    edges('bilirubin', (v) => score(scoreLiver({ value: v, unit: 'umol/L' }, VINCENT_1996_THRESHOLDS)), [
      [19.9, 0], [20, 1], [32, 1], [32.9, 1], [33, 2], [101, 2], [101.9, 2], [102, 3], [204, 3], [204.1, 4],
    ]);
    assert.equal(scoreLiver({ value: 20, unit: 'umol/L' }, MIMIC_IV_THRESHOLDS).ok, false, 'mimic-iv has no SI column');
  });
});

describe('cardiovascular: MAP and catecholamines (ug/kg/min)', () => {
  test('MAP, both tables', () => {
    for (const t of TABLES) edges(`${t.id} MAP`, (v) => scoreMap(v, t).score, [[70, 0], [69.9, 1], [40, 1]]);
  });
  test('dopamine <= 5: 2, > 5: 3, > 15: 4 (both tables)', () => {
    for (const t of TABLES) {
      edges(`${t.id} dopamine`, (v) => scoreCatecholamine('dopamine', v, t).score, [[0, 0], [0.5, 2], [5, 2], [5.01, 3], [5.1, 3], [15, 3], [15.01, 4]]);
    }
  });
  test('dobutamine: any dose scores 2', () => {
    for (const t of TABLES) edges(`${t.id} dobutamine`, (v) => scoreCatecholamine('dobutamine', v, t).score, [[0, 0], [0.01, 2], [20, 2]]);
  });
  test('epinephrine and norepinephrine: <= 0.1 scores 3, > 0.1 scores 4; a charted 0 scores 3 only in mimic-code', () => {
    for (const drug of ['epinephrine', 'norepinephrine'] as const) {
      edges(`vincent1996 ${drug}`, (v) => scoreCatecholamine(drug, v, VINCENT_1996_THRESHOLDS).score, [[0, 0], [0.01, 3], [0.1, 3], [0.1001, 4]]);
      edges(`mimic-iv ${drug}`, (v) => scoreCatecholamine(drug, v, MIMIC_IV_THRESHOLDS).score, [[0, 3], [0.01, 3], [0.1, 3], [0.1001, 4]]);
    }
  });
  test('simultaneous inputs: the worst decides; nothing measured is null', () => {
    const t = VINCENT_1996_THRESHOLDS;
    assert.equal(scoreCardiovascular({ mapMmHg: 50, rates: { dobutamine: 5 } }, t)?.score, 2);
    assert.equal(scoreCardiovascular({ mapMmHg: 80, rates: { norepinephrine: 0.05, dopamine: 16 } }, t)?.score, 4);
    assert.equal(scoreCardiovascular({ mapMmHg: 80, rates: { norepinephrine: 0 } }, t)?.score, 0);
    assert.equal(scoreCardiovascular({}, t), null);
  });
});

test('CNS: Glasgow Coma Scale, both tables', () => {
  for (const t of TABLES) {
    edges(`${t.id} GCS`, (v) => scoreCns(v, t).score, [[15, 0], [14, 1], [13, 1], [12, 2], [10, 2], [9, 3], [6, 3], [5, 4], [3, 4]]);
  }
});

describe('renal: creatinine or urine output', () => {
  test('creatinine mg/dL as printed (vincent1996): 4 only above 5.0', () => {
    edges('creatinine', (v) => score(scoreCreatinine({ value: v, unit: 'mg/dL' }, VINCENT_1996_THRESHOLDS)), [
      [1.19, 0], [1.2, 1], [1.99, 1], [2.0, 2], [3.4, 2], [3.49, 2], [3.5, 3], [4.9, 3], [5.0, 3], [5.01, 4],
    ]);
  });
  test('creatinine mg/dL as mimic-code scores it: >= 5.0 scores 4', () => {
    edges('creatinine', (v) => score(scoreCreatinine({ value: v, unit: 'mg/dL' }, MIMIC_IV_THRESHOLDS)), [[1.19, 0], [1.2, 1], [2.0, 2], [3.5, 3], [4.99, 3], [5.0, 4]]);
  });
  test('creatinine umol/L: the printed SI column (vincent1996)', () => {
    edges('creatinine', (v) => score(scoreCreatinine({ value: v, unit: 'umol/L' }, VINCENT_1996_THRESHOLDS)), [
      [109.9, 0], [110, 1], [170, 1], [170.9, 1], [171, 2], [299, 2], [299.9, 2], [300, 3], [440, 3], [440.1, 4],
    ]);
  });
  test('urine output mL/day, both tables', () => {
    for (const t of TABLES) edges(`${t.id} urine`, (v) => scoreUrineOutput(v, t).score, [[500, 0], [499.9, 3], [200, 3], [199.9, 4], [0, 4]]);
  });
  test('the worse of creatinine and urine output', () => {
    const t = MIMIC_IV_THRESHOLDS;
    const renal = scoreRenal({ creatinine: { value: 2.1, unit: 'mg/dL' }, urineOutputMlPerDay: 450 }, t);
    assert.ok(renal.ok);
    assert.equal(renal.value?.score, 3);
    assert.equal(renal.value?.scale, 'renal.urine-output');
    const none = scoreRenal({}, t);
    assert.ok(none.ok);
    assert.equal(none.value, null);
  });
});

/**
 * The same boundaries through the engine, with values REPORTED in SI units: vincent1996 scores
 * them on the printed SI column with the reported number; mimic-iv converts them to conventional
 * units first (units.ts: 1 mg/dL = 17.1 umol/L bilirubin, 88.4 umol/L creatinine; 1 kPa =
 * 7.50062 mmHg), so the two presets differ exactly where the printed SI thresholds are not
 * conversions of the conventional ones.
 */
describe('both unit systems through the engine', () => {
  const day = (parameters: SofaParameters, ...data: ReturnType<typeof m>[]) => {
    const result = scoreSofaDays(data, { parameters });
    if (!result.ok) assert.fail(result.error.message);
    const first = result.value.days[0];
    assert.ok(first);
    return first;
  };
  const one = (parameters: SofaParameters, component: (typeof SOFA_COMPONENTS)[number], concept: Concept, value: number, unit: string) =>
    day(parameters, m(concept, value, unit, 0)).components[component];

  test('bilirubin in umol/L: SI column under vincent1996, converted under mimic-iv', () => {
    const cases: Array<[number, OrganScore, OrganScore]> = [
      // umol/L, vincent1996, mimic-iv (mg/dL = umol/L / 17.1)
      [19.9, 0, 0],
      [20, 1, 0], // 1.170 mg/dL
      [20.52, 1, 1], // 1.2 mg/dL exactly
      [32.9, 1, 1], // 1.924 mg/dL
      [33, 2, 1], // 1.930 mg/dL
      [34.2, 2, 2], // 2.0 mg/dL
      [101.9, 2, 2],
      [102, 3, 2], // 5.965 mg/dL
      [102.6, 3, 3], // 6.0 mg/dL
      [204, 3, 3], // 11.93 mg/dL
      [204.1, 4, 3], // 11.94 mg/dL
      [205.2, 4, 4], // 12.0 mg/dL
    ];
    for (const [value, vincent, mimic] of cases) {
      assert.equal(one(VINCENT_1996_PRESET, 'liver', 'bilirubin', value, 'umol/L'), vincent, `vincent1996 ${value} umol/L`);
      assert.equal(one(MIMIC_IV_PRESET, 'liver', 'bilirubin', value, 'umol/L'), mimic, `mimic-iv ${value} umol/L`);
    }
    assert.equal(one(VINCENT_1996_PRESET, 'liver', 'bilirubin', 20, 'µmol/L'), 1, 'the micro sign spells the same unit');
    // Conventional units score on the conventional column in both presets.
    assert.equal(one(VINCENT_1996_PRESET, 'liver', 'bilirubin', 1.2, 'mg/dL'), 1);
    assert.equal(one(VINCENT_1996_PRESET, 'liver', 'bilirubin', 12, 'mg/dL'), 3);
    assert.equal(one(MIMIC_IV_PRESET, 'liver', 'bilirubin', 12, 'mg/dL'), 4);
  });

  test('creatinine in umol/L: SI column under vincent1996, converted under mimic-iv', () => {
    const cases: Array<[number, OrganScore, OrganScore]> = [
      [106, 0, 0], // 1.199 mg/dL
      [109.9, 0, 1], // 1.243 mg/dL
      [110, 1, 1],
      [170.9, 1, 1],
      [171, 2, 1], // 1.934 mg/dL
      [176.8, 2, 2], // 2.0 mg/dL
      [299.9, 2, 2],
      [300, 3, 2], // 3.394 mg/dL
      [309.4, 3, 3], // 3.5 mg/dL
      [440, 3, 3], // 4.977 mg/dL
      [440.1, 4, 3],
      [442, 4, 4], // 5.0 mg/dL
    ];
    for (const [value, vincent, mimic] of cases) {
      assert.equal(one(VINCENT_1996_PRESET, 'renal', 'creatinine', value, 'umol/L'), vincent, `vincent1996 ${value} umol/L`);
      assert.equal(one(MIMIC_IV_PRESET, 'renal', 'creatinine', value, 'umol/L'), mimic, `mimic-iv ${value} umol/L`);
    }
    assert.equal(one(VINCENT_1996_PRESET, 'renal', 'creatinine', 5, 'mg/dL'), 3);
    assert.equal(one(MIMIC_IV_PRESET, 'renal', 'creatinine', 5, 'mg/dL'), 4);
  });

  test('PaO2 in kPa: P/F on the kPa column under vincent1996, in mmHg under mimic-iv', () => {
    const gas = (parameters: SofaParameters, pao2: number, unit: string, fio2: number) =>
      day(parameters, m('fio2', fio2, '1', 0), m('pao2', pao2, unit, 0), m('mechanical_ventilation', 1, '1', 0)).components.respiration;
    // [PaO2 kPa, FiO2, vincent1996 (kPa ratio), mimic-iv (mmHg ratio)]
    const cases: Array<[number, number, OrganScore, OrganScore]> = [
      [53.3, 1, 0, 1], // 53.3 kPa; 399.78 mmHg
      [29.33, 0.55, 0, 1], // 53.33 kPa; 399.99 mmHg
      [53.29, 1, 1, 1],
      [40, 1, 1, 1], // 300.02 mmHg
      [39.99, 1, 2, 2], // 299.95 mmHg
      [26.7, 1, 2, 2], // 200.27 mmHg
      [26.69, 1, 3, 2], // 200.19 mmHg
      [26.66, 1, 3, 3], // 199.97 mmHg
      [13.3, 1, 3, 4], // 99.76 mmHg
      [13.29, 1, 4, 4],
    ];
    for (const [pao2, fio2, vincent, mimic] of cases) {
      assert.equal(gas(VINCENT_1996_PRESET, pao2, 'kPa', fio2), vincent, `vincent1996 ${pao2} kPa / ${fio2}`);
      assert.equal(gas(MIMIC_IV_PRESET, pao2, 'kPa', fio2), mimic, `mimic-iv ${pao2} kPa / ${fio2}`);
    }
    // mmHg: the same column in both presets; FiO2 charted in percent.
    for (const parameters of [VINCENT_1996_PRESET, MIMIC_IV_PRESET]) {
      assert.equal(gas(parameters, 220, 'mm[Hg]', 0.55), 0);
      assert.equal(day(parameters, m('fio2', 55, '%', 0), m('pao2', 220, 'mmHg', 0)).components.respiration, 0);
      assert.equal(day(parameters, m('fio2', 55, '%', 0), m('pao2', 219.9, 'mmHg', 0)).components.respiration, 1);
    }
  });

  test('platelets in x10^9/L score like x10^3/uL (one column)', () => {
    for (const parameters of [VINCENT_1996_PRESET, MIMIC_IV_PRESET]) {
      for (const [value, expected] of [[150, 0], [149.9, 1], [100, 1], [99.9, 2], [50, 2], [49.9, 3], [20, 3], [19.9, 4]] as Array<[number, OrganScore]>) {
        assert.equal(one(parameters, 'coagulation', 'platelets', value, '10*9/L'), expected, `${parameters.id} ${value} x10^9/L`);
        assert.equal(one(parameters, 'coagulation', 'platelets', value, 'G/L'), expected, `${parameters.id} ${value} G/L`);
      }
    }
  });

  test('catecholamines in other units convert to ug/kg/min before scoring', () => {
    const run = (parameters: SofaParameters, rate: number, unit: string) =>
      day(parameters, m('norepinephrine', rate, unit, 0, 2)).components.cardiovascular;
    for (const parameters of [VINCENT_1996_PRESET, MIMIC_IV_PRESET]) {
      assert.equal(run(parameters, 100, 'ng/kg/min'), 3, `${parameters.id} 100 ng/kg/min = 0.1 ug/kg/min`);
      assert.equal(run(parameters, 101, 'ng/kg/min'), 4, `${parameters.id} 0.101 ug/kg/min`);
      assert.equal(run(parameters, 0.1, 'mcg/kg/min'), 3);
    }
  });
});

describe('properties', () => {
  const value = fc.double({ min: 0, max: 3000, noNaN: true });
  const pair = fc.tuple(value, value).map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a]));
  const table = fc.constantFrom(...TABLES);

  test('respiration never improves as P/F falls; ventilation never lowers it', () => {
    fc.assert(
      fc.property(table, pair, fc.boolean(), (t, [low, high], vent) => {
        const s = (r: number, v: boolean) => score(scoreRespiration({ value: r, unit: 'mm[Hg]' }, v, t));
        return s(low, vent) >= s(high, vent) && s(low, true) >= s(low, false);
      }),
    );
    fc.assert(
      fc.property(pair, ([low, high]) => {
        const s = (r: number) => score(scoreRespiration({ value: r, unit: 'kPa' }, true, VINCENT_1996_THRESHOLDS));
        return s(low / 7) >= s(high / 7);
      }),
    );
  });

  test('lower platelets, MAP, GCS and urine output never lower the score', () => {
    fc.assert(
      fc.property(table, pair, (t, [low, high]) => {
        const gcs = (v: number) => scoreCns(3 + Math.round((v / 3000) * 12), t).score;
        return (
          score(scoreCoagulation({ value: low, unit: '10*3/uL' }, t)) >= score(scoreCoagulation({ value: high, unit: '10*3/uL' }, t)) &&
          scoreMap(low / 10, t).score >= scoreMap(high / 10, t).score &&
          gcs(low) >= gcs(high) &&
          scoreUrineOutput(low, t).score >= scoreUrineOutput(high, t).score
        );
      }),
    );
  });

  test('higher bilirubin, creatinine and catecholamine rates never lower the score, in every column', () => {
    fc.assert(
      fc.property(table, pair, fc.constantFrom(...CATECHOLAMINES), (t, [low, high], drug: Catecholamine) => {
        const columns = (scales: readonly { unit: string }[], fn: (q: Quantity) => OrganScore) =>
          scales.every((s) => fn({ value: low / 20, unit: s.unit }) <= fn({ value: high / 20, unit: s.unit }) && fn({ value: low, unit: s.unit }) <= fn({ value: high, unit: s.unit }));
        return (
          columns(t.liver.bilirubin, (q) => score(scoreLiver(q, t))) &&
          columns(t.renal.creatinine, (q) => score(scoreCreatinine(q, t))) &&
          scoreCatecholamine(drug, low / 100, t).score <= scoreCatecholamine(drug, high / 100, t).score
        );
      }),
    );
  });

  test('cardiovascular: raising any rate or lowering MAP never lowers the combined score', () => {
    const rate = fc.option(fc.double({ min: 0, max: 30, noNaN: true }), { nil: undefined });
    const input = fc.record({
      mapMmHg: fc.option(fc.double({ min: 20, max: 150, noNaN: true }), { nil: undefined }),
      rates: fc.record({ norepinephrine: rate, epinephrine: rate, dopamine: rate, dobutamine: rate }),
    });
    fc.assert(
      fc.property(table, input, fc.constantFrom(...CATECHOLAMINES), fc.double({ min: 0, max: 5, noNaN: true }), (t, base, drug, more) => {
        const clean = { ...(base.mapMmHg === undefined ? {} : { mapMmHg: base.mapMmHg }), rates: Object.fromEntries(Object.entries(base.rates).filter(([, r]) => r !== undefined)) };
        const before = scoreCardiovascular(clean, t)?.score ?? 0;
        const raised = scoreCardiovascular({ ...clean, rates: { ...clean.rates, [drug]: (clean.rates[drug] ?? 0) + more } }, t)?.score ?? 0;
        const lowered = clean.mapMmHg === undefined ? before : (scoreCardiovascular({ ...clean, mapMmHg: clean.mapMmHg - more }, t)?.score ?? 0);
        return raised >= before && lowered >= before;
      }),
    );
  });

  test('every organ score is 0-4 and the total is the sum of the non-null components (0-24)', () => {
    const component = fc.option(fc.constantFrom<OrganScore>(0, 1, 2, 3, 4), { nil: null });
    fc.assert(
      fc.property(fc.tuple(component, component, component, component, component, component), (scores) => {
        const components = Object.fromEntries(SOFA_COMPONENTS.map((c, i) => [c, scores[i] ?? null])) as SofaComponentScores;
        const total = sofaTotal(components);
        return total === scores.reduce<number>((sum, s) => sum + (s ?? 0), 0) && total >= 0 && total <= 24;
      }),
    );
  });
});
