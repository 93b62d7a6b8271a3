import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HSCORE, type ImmuneClassification, classifyAt } from '../../../src/clinical/immune/index.ts';
import { bandOf } from '../../../src/clinical/immune/score.ts';
import type { Measurement } from '../../../src/clinical/types.ts';
import { T0, sample } from './support.ts';

/** A full HScore input set; each field overrides one item's input. */
function patient(values: Partial<Record<string, number>> = {}): Measurement[] {
  const v = {
    immunosuppression: 0,
    temperature: 37,
    hepatomegaly: 0,
    splenomegaly: 0,
    hemoglobin: 12,
    leukocytes: 8,
    platelets: 200,
    ferritin: 500,
    triglycerides: 1,
    fibrinogen: 4,
    ast: 20,
    hemophagocytosis: 0,
    ...values,
  };
  return [
    sample('immunosuppression', v.immunosuppression, ''),
    sample('temperature', v.temperature, 'Cel'),
    sample('hepatomegaly', v.hepatomegaly, ''),
    sample('splenomegaly', v.splenomegaly, ''),
    sample('hemoglobin', v.hemoglobin, 'g/dL'),
    sample('leukocytes', v.leukocytes, '10*3/uL'),
    sample('platelets', v.platelets, '10*3/uL'),
    sample('ferritin', v.ferritin, 'ng/mL'),
    sample('triglycerides', v.triglycerides, 'mmol/L'),
    sample('fibrinogen', v.fibrinogen, 'g/L'),
    sample('ast', v.ast, 'U/L'),
    sample('hemophagocytosis', v.hemophagocytosis, ''),
  ];
}

function points(result: ImmuneClassification): Record<string, number | null> {
  return Object.fromEntries((result.evidence.score?.items ?? []).map((i) => [i.item, i.points]));
}

describe('HScore points table (Fardet 2014)', () => {
  test('a normal patient scores 0 and is unclassified', () => {
    const result = classifyAt(patient(), T0, HSCORE);
    assert.equal(result.class, 'unclassified');
    assert.equal(result.evidence.score?.minPoints, 0);
    assert.equal(result.evidence.comparisons.at(-1)?.text, 'HScore 0 points is not >= 169 points');
  });

  test('every item at its highest row: 18 + 49 + 38 + 34 + 50 + 64 + 30 + 19 + 35 = 337', () => {
    const result = classifyAt(
      patient({
        immunosuppression: 1,
        temperature: 39.5,
        hepatomegaly: 1,
        splenomegaly: 1,
        hemoglobin: 9.2,
        leukocytes: 5,
        platelets: 110,
        ferritin: 6000.5,
        triglycerides: 4.1,
        fibrinogen: 2.5,
        ast: 30,
        hemophagocytosis: 1,
      }),
      T0,
      HSCORE,
    );
    assert.deepEqual(points(result), {
      immunosuppression: 18,
      temperature: 49,
      organomegaly: 38,
      cytopenias: 34,
      ferritin: 50,
      triglycerides: 64,
      fibrinogen: 30,
      ast: 19,
      hemophagocytosis: 35,
    });
    assert.equal(result.evidence.score?.minPoints, 337);
    assert.equal(result.class, 'MALS');
  });

  test('middle rows and band edges', () => {
    const middle = points(
      classifyAt(
        patient({ temperature: 38.4, hepatomegaly: 1, hemoglobin: 9, leukocytes: 4, ferritin: 2000, triglycerides: 1.5 }),
        T0,
        HSCORE,
      ),
    );
    assert.equal(middle.temperature, 33);
    assert.equal(middle.organomegaly, 23);
    assert.equal(middle.cytopenias, 24);
    assert.equal(middle.ferritin, 35);
    assert.equal(middle.triglycerides, 44);
    const upperEdges = points(classifyAt(patient({ temperature: 39.4, ferritin: 6000, triglycerides: 4, hemoglobin: 9 }), T0, HSCORE));
    assert.deepEqual([upperEdges.temperature, upperEdges.ferritin, upperEdges.triglycerides, upperEdges.cytopenias], [33, 35, 44, 0]);
    const below = points(classifyAt(patient({ temperature: 38.39, ferritin: 1999.9, triglycerides: 1.49, fibrinogen: 2.51, ast: 29.9 }), T0, HSCORE));
    assert.deepEqual([below.temperature, below.ferritin, below.triglycerides, below.fibrinogen, below.ast], [0, 0, 0, 0, 0]);
  });

  test('exactly 169 points is MALS; 150 is not', () => {
    // 18 (immunosuppression) + 23 (one organ) + 35 (ferritin) + 44 (TG) + 30 (fibrinogen) + 19 (AST) = 169.
    const at169 = { immunosuppression: 1, splenomegaly: 1, ferritin: 3000, triglycerides: 2, fibrinogen: 2, ast: 30 };
    const result = classifyAt(patient(at169), T0, HSCORE);
    assert.equal(result.class, 'MALS');
    assert.equal(result.summary, 'MALS: HScore 169 points >= 169 points (rule set hscore 1.0.0)');
    assert.equal(classifyAt(patient({ ...at169, ast: 29 }), T0, HSCORE).class, 'unclassified');
  });

  test('temperature in Fahrenheit and ferritin in pmol/L score as in canonical units', () => {
    const measurements = patient().filter((m) => m.concept !== 'temperature' && m.concept !== 'ferritin');
    const result = classifyAt(
      [...measurements, sample('temperature', 101.12, '[degF]'), sample('ferritin', 4494, 'pmol/L')],
      T0,
      HSCORE,
    );
    // 101.12 degF = 38.4 Cel (33 points); 4494 pmol/L = 2000 ng/mL (35 points).
    assert.deepEqual([points(result).temperature, points(result).ferritin], [33, 35]);
  });
});

describe('HScore with missing items: a class only when the missing items cannot change it', () => {
  const known = (m: Measurement[], keep: readonly string[]) => m.filter((x) => keep.includes(x.concept));

  test('enough points without the missing items: MALS ("at least")', () => {
    const result = classifyAt(
      known(patient({ immunosuppression: 1, ferritin: 7000, triglycerides: 5, fibrinogen: 2, ast: 40 }), [
        'immunosuppression',
        'ferritin',
        'triglycerides',
        'fibrinogen',
        'ast',
      ]),
      T0,
      HSCORE,
    );
    assert.equal(result.class, 'MALS');
    assert.match(result.summary, /HScore \(at least\) 181 points >= 169 points/);
  });

  test('cannot reach the cut-off even with the maximum for the missing items: unclassified ("at most")', () => {
    const measurements = known(patient(), ['temperature', 'ferritin', 'triglycerides', 'fibrinogen', 'ast']);
    const result = classifyAt(measurements, T0, HSCORE);
    // Missing: immunosuppression 18 + organomegaly 38 + cytopenias 34 + haemophagocytosis 35 = 125.
    assert.equal(result.class, 'unclassified');
    assert.match(result.summary, /HScore \(at most\) 125 points is not >= 169 points/);
  });

  test('otherwise indeterminate, naming the unscored items', () => {
    const result = classifyAt(known(patient(), ['ferritin', 'triglycerides', 'fibrinogen', 'ast']), T0, HSCORE);
    assert.equal(result.class, 'indeterminate');
    if (result.class !== 'indeterminate') return;
    assert.deepEqual(result.possible, ['MALS', 'unclassified']);
    assert.ok(result.missing.includes('temperature'));
    assert.match(result.summary, /HScore between 0 and 174 points/);
    assert.match(result.summary, /not scored: immunosuppression, temperature, organomegaly, cytopenias, hemophagocytosis/);
  });

  test('a partly known cytopenia count bounds its points', () => {
    const measurements = patient({ hemoglobin: 8, platelets: 200 }).filter((m) => m.concept !== 'leukocytes');
    const item = classifyAt(measurements, T0, HSCORE).evidence.score?.items.find((i) => i.item === 'cytopenias');
    // One lineage known cytopenic, one known normal, one unknown: 1 or 2 lineages = 0 or 24 points.
    assert.deepEqual([item?.points, item?.minPoints, item?.maxPoints], [null, 0, 24]);
  });
});

describe('HScore table data', () => {
  test('the bands of every item partition the number line', () => {
    for (const item of HSCORE.items) {
      if (item.kind !== 'bands') continue;
      const edges = item.bands.flatMap((b) => [b.lower?.value, b.upper?.value]).filter((x) => x !== undefined);
      const probes = [-1e9, 1e9, ...edges.flatMap((e) => [e - 1e-9, e, e + 1e-9])];
      for (const value of probes) {
        assert.doesNotThrow(() => bandOf(item.bands, value), `${item.id} at ${value}`);
        const count: number = item.bands.filter(
          (b) =>
            (b.lower === undefined || (b.lower.operator === '>' ? value > b.lower.value : value >= b.lower.value)) &&
            (b.upper === undefined || (b.upper.operator === '<' ? value < b.upper.value : value <= b.upper.value)),
        ).length;
        assert.equal(count, 1, `${item.id}: ${count} bands contain ${value}`);
      }
    }
  });
  test('count items give points for every possible count', () => {
    for (const item of HSCORE.items) {
      if (item.kind === 'count') assert.equal(item.pointsByCount.length, item.criteria.length + 1, item.id);
    }
  });
});
