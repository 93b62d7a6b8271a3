import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type ImmuneClassification,
  IMMUNOSEP,
  PROVIDE_2017,
  SUPAR,
  classifyAt,
  classifyTimeline,
} from '../../../src/clinical/immune/index.ts';
import { T0, ferritin, hlaDr, hoursAfter, sample } from './support.ts';

function indeterminate(result: ImmuneClassification) {
  if (result.class !== 'indeterminate') assert.fail(`expected indeterminate, got ${result.class}: ${result.summary}`);
  return result;
}

describe('immunosep thresholds, exactly at the edges', () => {
  test('ferritin 4420 ng/mL is not MALS; 4420.0001 is', () => {
    const at4420 = classifyAt([ferritin(4420), hlaDr(6000)], T0);
    assert.equal(at4420.class, 'unclassified');
    assert.equal(at4420.evidence.comparisons[0]?.text, 'ferritin 4420 ng/mL is not > 4420 ng/mL');
    assert.equal(at4420.evidence.comparisons[0]?.result, false);

    const above = classifyAt([ferritin(4420.0001), hlaDr(6000)], T0);
    assert.equal(above.class, 'MALS');
    assert.deepEqual(above.evidence.comparisons, [
      {
        rule: 'mals-ferritin',
        input: 'ferritin',
        value: 4420.0001,
        unit: 'ng/mL',
        time: T0,
        operator: '>',
        threshold: 4420,
        thresholdUnit: 'ng/mL',
        result: true,
        text: 'ferritin 4420.0001 ng/mL > 4420 ng/mL',
      },
    ]);
  });

  test('values are printed unrounded: 4420.4 is never shown as 4420', () => {
    const result = classifyAt([ferritin(4420.4)], T0);
    assert.equal(result.class, 'MALS');
    assert.match(result.summary, /ferritin 4420\.4 ng\/mL > 4420 ng\/mL/);
  });

  test('HLA-DR 4999 molecules/monocyte is immunoparalysis; 5000 is unclassified', () => {
    const ip = classifyAt([ferritin(4420), hlaDr(4999)], T0);
    assert.equal(ip.class, 'immunoparalysis');
    assert.deepEqual(
      ip.evidence.comparisons.map((c) => [c.text, c.result]),
      [
        ['ferritin 4420 ng/mL is not > 4420 ng/mL', false],
        ['HLA-DR 4999 molecules/monocyte < 5000 molecules/monocyte', true],
      ],
    );
    const unclassified = classifyAt([ferritin(4420), hlaDr(5000)], T0);
    assert.equal(unclassified.class, 'unclassified');
    assert.equal(unclassified.evidence.comparisons[1]?.text, 'HLA-DR 5000 molecules/monocyte is not < 5000 molecules/monocyte');
  });

  test('MALS takes precedence over a low HLA-DR, which is then not consulted', () => {
    const result = classifyAt([ferritin(9000), hlaDr(1000)], T0);
    assert.equal(result.class, 'MALS');
    assert.deepEqual(result.evidence.inputs.map((i) => i.concept), ['ferritin']);
  });

  test('every result names the rule set and version, the evaluation time and the inputs', () => {
    const result = classifyAt(
      [{ ...ferritin(3000), provenance: { source: 'lab', recordId: 'F-1' } }, hlaDr(4000, hoursAfter(-6))],
      T0,
    );
    assert.deepEqual(result.ruleSet, { id: 'immunosep', version: IMMUNOSEP.version });
    assert.equal(result.evaluatedAt, T0);
    assert.deepEqual(result.evidence.inputs, [
      {
        concept: 'ferritin',
        value: 3000,
        unit: 'ng/mL',
        time: T0,
        ageHours: 0,
        reported: { value: 3000, unit: 'ng/mL' },
        provenance: { source: 'lab', recordId: 'F-1' },
      },
      {
        concept: 'hla_dr',
        value: 4000,
        unit: '{molecules}/{cell}',
        time: hoursAfter(-6),
        ageHours: 6,
        reported: { value: 4000, unit: '{molecules}/{cell}' },
      },
    ]);
    assert.equal(
      result.summary,
      'immunoparalysis: ferritin 3000 ng/mL is not > 4420 ng/mL; HLA-DR 4000 molecules/monocyte < 5000 molecules/monocyte (rule set immunosep 1.0.0)',
    );
  });
});

describe('ferritin in any unit classifies identically', () => {
  const cases: Array<[number, string]> = [
    [4420, 'ng/mL'],
    [4420, 'ug/L'],
    [4.42, 'mg/L'],
    [9931.74, 'pmol/L'],
  ];
  test('exactly 4420 ng/mL in every unit is not MALS, with the same canonical value', () => {
    for (const [value, unit] of cases) {
      const result = classifyAt([sample('ferritin', value, unit), hlaDr(4999)], T0);
      assert.equal(result.class, 'immunoparalysis', `${value} ${unit}`);
      assert.equal(result.evidence.inputs[0]?.value, 4420);
      assert.deepEqual(result.evidence.inputs[0]?.reported, { value, unit });
    }
  });
  test('just above 4420 ng/mL in every unit is MALS', () => {
    for (const [value, unit] of [
      [4420.01, 'ng/mL'],
      [4420.01, 'ug/L'],
      [4.42001, 'mg/L'],
      [9931.77, 'pmol/L'],
      [10000, 'pmol/L'],
    ] as Array<[number, string]>) {
      assert.equal(classifyAt([sample('ferritin', value, unit)], T0).class, 'MALS', `${value} ${unit}`);
    }
  });
  test('property: a ferritin in ng/mL, ug/L and mg/L gives the same class and evidence value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000_000 }), fc.integer({ min: 0, max: 20_000 }), (centiNg, hla) => {
        const ngPerMl = centiNg / 100;
        const classes = [
          [ngPerMl, 'ng/mL'],
          [ngPerMl, 'ug/L'],
          [ngPerMl / 1000, 'mg/L'],
        ].map(([value, unit]) => classifyAt([sample('ferritin', value as number, unit as string), hlaDr(hla)], T0));
        for (const result of classes) {
          assert.equal(result.class, classes[0]?.class);
          assert.equal(result.evidence.inputs[0]?.value, ngPerMl);
        }
      }),
    );
  });
});

describe('missing, refused and stale inputs', () => {
  test('ferritin <= 4420 without HLA-DR is "not MALS, immunoparalysis unknown", never unclassified', () => {
    const result = indeterminate(classifyAt([ferritin(3000)], T0));
    assert.deepEqual(result.missing, ['hla_dr']);
    assert.deepEqual(result.possible, ['immunoparalysis', 'unclassified']);
    assert.match(result.summary, /not MALS \(ferritin 3000 ng\/mL is not > 4420 ng\/mL\); immunoparalysis unknown/);
  });

  test('missing ferritin: cannot classify, and what HLA-DR still allows is listed', () => {
    const none = indeterminate(classifyAt([], T0));
    assert.deepEqual(none.missing, ['ferritin', 'hla_dr']);
    assert.deepEqual(none.possible, ['MALS', 'immunoparalysis', 'unclassified']);
    assert.match(none.summary, /cannot classify: no ferritin measurement/);
    const lowHla = indeterminate(classifyAt([hlaDr(3000)], T0));
    assert.deepEqual(lowHla.missing, ['ferritin']);
    assert.deepEqual(lowHla.possible, ['MALS', 'immunoparalysis']);
    assert.deepEqual(indeterminate(classifyAt([hlaDr(9000)], T0)).possible, ['MALS', 'unclassified']);
  });

  test('HLA-DR in % is rejected under immunosep, with the reason, and not used', () => {
    const result = indeterminate(classifyAt([ferritin(3000), sample('hla_dr', 20, '%')], T0));
    assert.deepEqual(result.missing, ['hla_dr']);
    assert.equal(result.rejected.length, 1);
    assert.equal(result.rejected[0]?.reason, 'refused');
    assert.match(result.rejected[0]?.message ?? '', /not convertible to molecules per monocyte/);
  });

  test('an implausible newest sample is passed over for the previous valid one, and reported', () => {
    const result = classifyAt([ferritin(5000, hoursAfter(-10)), ferritin(-1, hoursAfter(-1))], T0);
    assert.equal(result.class, 'MALS');
    assert.equal(result.evidence.inputs[0]?.value, 5000);
    assert.equal(result.rejected[0]?.reason, 'implausible');
  });

  test('a sample exactly 48 h old is valid; older is stale and not used', () => {
    assert.equal(classifyAt([ferritin(3000, hoursAfter(-48)), hlaDr(4000, hoursAfter(-48))], T0).class, 'immunoparalysis');
    const stale = indeterminate(classifyAt([ferritin(3000), hlaDr(4000, hoursAfter(-48.5))], T0));
    assert.deepEqual(stale.missing, []);
    assert.deepEqual(stale.stale, [
      { concept: 'hla_dr', time: hoursAfter(-48.5), ageHours: 48.5, windowHours: 48, value: 4000, unit: '{molecules}/{cell}' },
    ]);
    assert.match(stale.summary, /48\.5 h old, beyond the 48 h validity window/);
    const staleMals = indeterminate(classifyAt([ferritin(9000, hoursAfter(-72))], T0));
    assert.deepEqual(staleMals.stale.map((s) => s.concept), ['ferritin']);
  });

  test('the newest valid sample of each input wins; samples after the evaluation time are ignored', () => {
    const measurements = [ferritin(9000, hoursAfter(-30)), ferritin(3000, hoursAfter(-2)), hlaDr(4000, hoursAfter(-40)), ferritin(20000, hoursAfter(1))];
    const result = classifyAt(measurements, T0);
    assert.equal(result.class, 'immunoparalysis');
    assert.equal(result.evidence.inputs[0]?.value, 3000);
    assert.equal(classifyAt(measurements, hoursAfter(1)).class, 'MALS');
  });

  test('measurements of two patients are refused loudly', () => {
    assert.throws(() => classifyAt([ferritin(3000), sample('hla_dr', 4000, 'AB/cell', T0, 'p2')], T0), /one patient/);
    assert.throws(() => classifyAt([ferritin(3000)], '2026-01-05 08:00'), /ISO 8601/);
  });
});

describe('reclassification over a timeline', () => {
  test('MALS, then immunoparalysis once ferritin falls, then indeterminate when HLA-DR goes stale', () => {
    const measurements = [ferritin(5000), hlaDr(4000), ferritin(3000, hoursAfter(24))];
    const timeline = classifyTimeline(measurements, [hoursAfter(60), T0, hoursAfter(24), hoursAfter(30)]);
    assert.deepEqual(
      timeline.map((e) => [e.at, e.classification.class, e.changed]),
      [
        [T0, 'MALS', false],
        [hoursAfter(24), 'immunoparalysis', true],
        [hoursAfter(30), 'immunoparalysis', false],
        [hoursAfter(60), 'indeterminate', true],
      ],
    );
    const last = timeline[3]?.classification;
    assert.deepEqual(last?.class === 'indeterminate' && last.stale.map((s) => s.concept), ['hla_dr']);
  });
});

describe('provide-2017 (% HLA-DR < 30)', () => {
  test('percent HLA-DR classifies immunoparalysis below 30 %', () => {
    assert.equal(classifyAt([ferritin(3000), sample('hla_dr_percent', 29.9, '%')], T0, PROVIDE_2017).class, 'immunoparalysis');
    assert.equal(classifyAt([ferritin(3000), sample('hla_dr_percent', 30, '%')], T0, PROVIDE_2017).class, 'unclassified');
    assert.equal(classifyAt([ferritin(4420.5)], T0, PROVIDE_2017).class, 'MALS');
  });
  test('molecules per monocyte are not a percentage', () => {
    const result = indeterminate(classifyAt([ferritin(3000), hlaDr(3000)], T0, PROVIDE_2017));
    assert.deepEqual(result.missing, ['hla_dr_percent']);
    assert.deepEqual(result.ruleSet, { id: 'provide-2017', version: '1.0.0' });
  });
});

describe('suPAR (>= 6 ng/mL)', () => {
  test('at and below the threshold, and missing', () => {
    const at6 = classifyAt([sample('suPAR', 6, 'ng/mL')], T0, SUPAR);
    assert.equal(at6.class, 'MALS');
    assert.equal(at6.evidence.comparisons[0]?.text, 'suPAR 6 ng/mL >= 6 ng/mL');
    assert.equal(classifyAt([sample('suPAR', 5.99, 'ng/mL')], T0, SUPAR).class, 'unclassified');
    assert.deepEqual(indeterminate(classifyAt([ferritin(9000)], T0, SUPAR)).missing, ['suPAR']);
  });
});
