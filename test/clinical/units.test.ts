import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  CONCEPT_UNITS,
  type NormalizedValue,
  type UnitError,
  convertFromCanonical,
  isAcceptedUnit,
  normalize,
} from '../../src/clinical/units.ts';
import type { Concept, Result } from '../../src/clinical/types.ts';

function value(result: Result<NormalizedValue, UnitError>): NormalizedValue {
  if (!result.ok) assert.fail(`expected a value, got ${result.error.kind}: ${result.error.message}`);
  return result.value;
}

function error(result: Result<NormalizedValue, UnitError>): UnitError {
  if (result.ok) assert.fail(`expected an error, got ${result.value.value} ${result.value.unit}`);
  return result.error;
}

/** Canonical value of a conversion, checked against a hand-computed expectation. */
function converts(concept: Concept, reported: number, unit: string, expected: number): void {
  const normalized = value(normalize(concept, reported, unit));
  assert.equal(normalized.value, expected, `${concept} ${reported} ${unit}`);
  assert.equal(normalized.unit, CONCEPT_UNITS[concept].canonicalUnit);
  assert.deepEqual(normalized.reported, { value: reported, unit });
}

describe('ferritin (ng/mL == ug/L; pmol/L / 2.247 = ng/mL)', () => {
  test('ng/mL is canonical and ug/L is the same unit', () => {
    converts('ferritin', 4420, 'ng/mL', 4420);
    converts('ferritin', 4420, 'ug/L', 4420);
    converts('ferritin', 4420.4, 'µg/L', 4420.4);
  });
  test('mg/L is 1000 ng/mL', () => {
    converts('ferritin', 4.5, 'mg/L', 4500);
    converts('ferritin', 4.42, 'mg/L', 4420);
  });
  test('pmol/L divided by 2.247', () => {
    converts('ferritin', 2247, 'pmol/L', 1000);
    converts('ferritin', 2.247, 'pmol/L', 1);
    // 10000 / 2.247 = 4450.378282153983..., kept to 12 significant digits.
    converts('ferritin', 10000, 'pmol/L', 4450.37828215);
    converts('ferritin', 9931.74, 'pmol/L', 4420);
  });
  test('implausible ferritin: negative, above 10^6 ng/mL (also after conversion)', () => {
    converts('ferritin', 1e6, 'ng/mL', 1e6);
    const negative = error(normalize('ferritin', -3, 'ng/mL'));
    assert.equal(negative.kind, 'implausible');
    assert.match(negative.message, /ferritin -3 ng\/mL .*negative/);
    const huge = error(normalize('ferritin', 1000000.5, 'ng/mL'));
    assert.equal(huge.kind, 'implausible');
    assert.match(huge.message, /1000000\.5 ng\/mL is implausible: above the upper limit of 1000000 ng\/mL/);
    const hugeInMg = error(normalize('ferritin', 2000, 'mg/L'));
    assert.match(hugeInMg.message, /ferritin 2000 mg\/L \(= 2000000 ng\/mL\) is implausible/);
  });
});

describe('bilirubin (1 mg/dL = 17.1 umol/L) and creatinine (1 mg/dL = 88.4 umol/L)', () => {
  test('bilirubin umol/L -> mg/dL at the SOFA band edges', () => {
    converts('bilirubin', 17.1, 'umol/L', 1);
    converts('bilirubin', 20.52, 'umol/L', 1.2);
    converts('bilirubin', 34.2, 'umol/L', 2);
    converts('bilirubin', 102.6, 'umol/L', 6);
    converts('bilirubin', 205.2, 'µmol/L', 12);
    converts('bilirubin', 1.2, 'mg/dL', 1.2);
  });
  test('creatinine umol/L -> mg/dL at the SOFA band edges', () => {
    converts('creatinine', 88.4, 'umol/L', 1);
    converts('creatinine', 106.08, 'umol/L', 1.2);
    converts('creatinine', 309.4, 'umol/L', 3.5);
    converts('creatinine', 442, 'umol/L', 5);
    converts('creatinine', 0.442, 'mmol/L', 5);
  });
});

describe('pressures (1 kPa = 7.50062 mmHg)', () => {
  test('kPa uses the factor the spec states', () => {
    converts('pao2', 8, 'kPa', 60.00496);
    converts('pao2', 40, 'kPa', 300.0248);
    converts('pao2', 53.3, 'kPa', 399.783046);
    converts('map', 8, 'kPa', 60.00496);
  });
  test('mmHg spellings', () => {
    converts('pao2', 80, 'mm[Hg]', 80);
    converts('pao2', 80, 'mmHg', 80);
    converts('map', 65, 'mm Hg', 65);
  });
  test('PaO2 outside the physiological range is implausible', () => {
    assert.equal(error(normalize('pao2', 1, 'kPa')).kind, 'implausible');
    assert.equal(error(normalize('pao2', 900, 'mmHg')).kind, 'implausible');
  });
});

describe('FiO2 (fraction 0.21-1.0; percent 21-100 recognised)', () => {
  test('fraction and percent', () => {
    converts('fio2', 0.4, '1', 0.4);
    converts('fio2', 0.4, '', 0.4);
    converts('fio2', 40, '%', 0.4);
    converts('fio2', 21, '%', 0.21);
    converts('fio2', 100, '%', 1);
    converts('fio2', 1, '', 1);
  });
  test('a unitless value above 1 and up to 100 is a percent, and says so', () => {
    const forty = value(normalize('fio2', 40, ''));
    assert.equal(forty.value, 0.4);
    assert.match(forty.interpretation ?? '', /read as 40 %/);
    assert.equal(value(normalize('fio2', 100, '1')).value, 1);
    assert.equal(value(normalize('fio2', 0.5, '')).interpretation, undefined);
    // An explicit fraction is taken at its word.
    assert.equal(error(normalize('fio2', 40, '{fraction}')).kind, 'implausible');
  });
  test('implausible FiO2: above 1.0 after normalisation, below 0.21, negative', () => {
    const above = error(normalize('fio2', 100.5, ''));
    assert.equal(above.kind, 'implausible');
    assert.match(above.message, /FiO2 100\.5 \(no unit\) is implausible: above the upper limit of 1/);
    assert.match(error(normalize('fio2', 0.2, '')).message, /below the lower limit of 0\.21/);
    assert.match(error(normalize('fio2', 0.5, '%')).message, /FiO2 0\.5 % \(= 0\.005\) is implausible/);
    assert.match(error(normalize('fio2', -0.5, '')).message, /negative/);
  });
  test('an oxygen flow is not an FiO2', () => {
    assert.equal(error(normalize('fio2', 5, 'L/min')).kind, 'not-convertible');
  });
});

describe('cell counts (10^3/uL == 10^9/L; /mm3 == /uL)', () => {
  test('platelets', () => {
    converts('platelets', 150, '10*3/uL', 150);
    converts('platelets', 150, '10*9/L', 150);
    converts('platelets', 150, '10^9/L', 150);
    converts('platelets', 150, 'G/L', 150);
    converts('platelets', 150, 'K/uL', 150);
    converts('platelets', 150000, '/uL', 150);
    converts('platelets', 20000, 'cells/mm3', 20);
  });
  test('neutrophils, given per mm3 as in the exclusion criterion', () => {
    converts('neutrophils', 1500, '/mm3', 1.5);
    converts('neutrophils', 1.5, '10*9/L', 1.5);
  });
});

describe('catecholamine rates (ug/kg/min)', () => {
  test('per-kg rates in other time or mass units', () => {
    converts('norepinephrine', 6, 'ug/kg/h', 0.1);
    converts('norepinephrine', 6, 'mcg/kg/hr', 0.1);
    converts('dopamine', 0.005, 'mg/kg/min', 5);
    converts('epinephrine', 100, 'ng/kg/min', 0.1);
  });
  test('a total rate needs the body weight and is never assumed', () => {
    const missing = error(normalize('norepinephrine', 7, 'ug/min'));
    assert.equal(missing.kind, 'not-convertible');
    assert.match(missing.message, /needs the body weight/);
    assert.equal(value(normalize('norepinephrine', 7, 'ug/min', { bodyWeightKg: 70 })).value, 0.1);
    assert.equal(value(normalize('dobutamine', 0.42, 'mg/h', { bodyWeightKg: 70 })).value, 0.1);
    assert.equal(error(normalize('norepinephrine', 7, 'ug/min', { bodyWeightKg: -70 })).kind, 'implausible');
  });
});

describe('other concepts', () => {
  test('lactate, urine output, temperature, haemoglobin, triglycerides, fibrinogen, AST', () => {
    converts('lactate', 18.016, 'mg/dL', 2);
    converts('urine_output', 0.5, 'L', 500);
    converts('temperature', 101.3, '[degF]', 38.5);
    converts('temperature', 38.4, '°C', 38.4);
    converts('triglycerides', 177.14, 'mg/dL', 2);
    converts('fibrinogen', 250, 'mg/dL', 2.5);
    converts('ast', 30, 'IU/L', 30);
    converts('ast', 0.5, 'ukat/L', 30);
    // 10 g/dL = 100 g/L; / 16114.5 g/mol = 6.205591237705 mmol/L.
    const hbMmol = convertFromCanonical('hemoglobin', 10, 'mmol/L');
    assert.ok(hbMmol.ok && Math.abs(hbMmol.value - 6.20559123771) < 1e-9);
  });
  test('GCS and 1/0 flags are whole numbers in range', () => {
    converts('gcs', 14, '', 14);
    converts('gcs', 3, '{score}', 3);
    assert.equal(error(normalize('gcs', 14.5, '{score}')).kind, 'implausible');
    assert.equal(error(normalize('gcs', 2, '')).kind, 'implausible');
    converts('mechanical_ventilation', 1, '', 1);
    converts('mechanical_ventilation', 0, '1', 0);
    assert.match(error(normalize('mechanical_ventilation', 2, '')).message, /a flag is 1 \(yes\) or 0 \(no\)/);
  });
  test('UCUM is case-sensitive: "ML" is the megalitre, caught as implausible urine output', () => {
    assert.equal(error(normalize('urine_output', 500, 'ML')).kind, 'implausible');
  });
  test('NaN and infinities are refused', () => {
    assert.equal(error(normalize('ferritin', Number.NaN, 'ng/mL')).kind, 'implausible');
    assert.equal(error(normalize('platelets', Number.POSITIVE_INFINITY, '10*3/uL')).kind, 'implausible');
  });
});

describe('HLA-DR', () => {
  test('molecules per monocyte under its aliases', () => {
    for (const unit of ['{molecules}/{cell}', 'molecules/cell', 'molecules/monocyte', 'AB/cell', 'ABC/cell', '{AB}/{cell}']) {
      converts('hla_dr', 4999, unit, 4999);
    }
  });
  test('% positive monocytes is refused with the reason, and accepted as hla_dr_percent', () => {
    const refused = error(normalize('hla_dr', 20, '%'));
    assert.equal(refused.kind, 'refused');
    assert.equal(refused.value, 20);
    assert.equal(refused.unit, '%');
    assert.match(refused.message, /HLA-DR 20 %/);
    assert.match(refused.message, /not convertible to molecules per monocyte/);
    assert.match(refused.message, /Quantibrite/);
    assert.match(refused.message, /hla_dr_percent/);
    converts('hla_dr_percent', 20, '%', 20);
    assert.equal(error(normalize('hla_dr_percent', 120, '%')).kind, 'implausible');
  });
  test('UCUM would turn any dimensionless unit into molecules/cell: only the listed units are accepted', () => {
    assert.equal(error(normalize('hla_dr', 20, '1')).kind, 'not-convertible');
    assert.equal(error(normalize('hla_dr', 20, '10*3')).kind, 'not-convertible');
    assert.equal(error(normalize('hla_dr', 20, 'copies/cell')).kind, 'unknown-unit');
    assert.equal(isAcceptedUnit('hla_dr', '%'), false);
    assert.equal(isAcceptedUnit('hla_dr', 'AB/cell'), true);
  });
});

describe('units that are not convertible are errors, never guesses', () => {
  test('unknown units', () => {
    const unknown = error(normalize('ferritin', 300, 'nanograms'));
    assert.equal(unknown.kind, 'unknown-unit');
    assert.match(unknown.message, /ferritin 300 nanograms: "nanograms" is not a valid UCUM unit/);
    // UCUM itself would substitute "G" for "Gauss" and "mg" for "milligram": we refuse.
    assert.equal(error(normalize('ferritin', 300, 'milligram/L')).kind, 'unknown-unit');
    assert.equal(error(normalize('ferritin', 300, 'MG/DL')).kind, 'unknown-unit');
    assert.equal(error(normalize('ferritin', 300, '')).kind, 'unknown-unit');
  });
  test('units of another kind', () => {
    const wrongDimension = error(normalize('ferritin', 300, 'mg'));
    assert.equal(wrongDimension.kind, 'not-convertible');
    assert.match(wrongDimension.message, /ferritin 300 mg: "mg" cannot be converted to "ng\/mL"/);
    assert.equal(error(normalize('platelets', 150, 'mg/dL')).kind, 'not-convertible');
    assert.equal(error(normalize('pao2', 80, '%')).kind, 'not-convertible');
  });
  test('a molar unit without a molecular weight in the data is not convertible', () => {
    assert.equal(error(normalize('suPAR', 6, 'nmol/L')).kind, 'not-convertible');
  });
});

describe('the unit table', () => {
  const concepts = Object.keys(CONCEPT_UNITS) as Concept[];
  test('every canonical unit is accepted, as the identity, at both plausibility limits', () => {
    for (const concept of concepts) {
      const { canonicalUnit, plausible } = CONCEPT_UNITS[concept];
      for (const limit of [plausible.min, plausible.max]) {
        converts(concept, limit, canonicalUnit, limit);
      }
      const step = plausible.integer ? 1 : Math.max(1e-6, plausible.max * 1e-9);
      assert.equal(error(normalize(concept, plausible.max + step, canonicalUnit)).kind, 'implausible', concept);
      if (plausible.min > 0) {
        assert.equal(error(normalize(concept, plausible.min - step, canonicalUnit)).kind, 'implausible', concept);
      }
    }
  });
  test('every concept has a source and a reason for its plausibility limits', () => {
    for (const concept of concepts) {
      assert.ok(CONCEPT_UNITS[concept].source.length > 0, concept);
      assert.ok(CONCEPT_UNITS[concept].plausible.rationale.length > 0, concept);
    }
  });
});

/** Alternative units per concept for the property tests. */
const ALTERNATIVES: ReadonlyArray<[Concept, string]> = [
  ['ferritin', 'ug/L'],
  ['ferritin', 'mg/L'],
  ['ferritin', 'pmol/L'],
  ['ferritin', 'nmol/L'],
  ['bilirubin', 'umol/L'],
  ['creatinine', 'umol/L'],
  ['creatinine', 'mmol/L'],
  ['pao2', 'kPa'],
  ['pao2', 'Pa'],
  ['map', 'kPa'],
  ['fio2', '%'],
  ['fio2', ''],
  ['platelets', '10*9/L'],
  ['platelets', '/uL'],
  ['neutrophils', '/mm3'],
  ['norepinephrine', 'ug/kg/h'],
  ['dopamine', 'mg/kg/h'],
  ['urine_output', 'L'],
  ['lactate', 'mg/dL'],
  ['temperature', '[degF]'],
  ['hemoglobin', 'mmol/L'],
  ['triglycerides', 'mg/dL'],
  ['fibrinogen', 'mg/dL'],
  ['weight', '[lb_av]'],
];

/**
 * Plausible canonical values. Below 1e-6 canonical units (clinically meaningless) binary
 * subnormals would make "relative error" a statement about floating point, not about units.
 */
function plausibleValue(concept: Concept): fc.Arbitrary<number> {
  const { min, max } = CONCEPT_UNITS[concept].plausible;
  // Stay a hair inside the limits: the two 12-digit roundings of a round trip may move a value
  // exactly on a limit by 1e-12 relative, outside it.
  return fc.double({ min: Math.max(min, 1e-6) * (1 + 1e-9), max: max * (1 - 1e-9), noNaN: true });
}

describe('properties', () => {
  for (const [concept, unit] of ALTERNATIVES) {
    test(`${concept}: canonical -> ${unit || '(unitless)'} -> canonical round-trips within 1e-9`, () => {
      fc.assert(
        fc.property(plausibleValue(concept), (canonical) => {
          const other = convertFromCanonical(concept, canonical, unit);
          assert.ok(other.ok);
          const back = value(normalize(concept, other.value, unit)).value;
          assert.ok(
            Math.abs(back - canonical) <= 1e-9 * Math.abs(canonical),
            `${canonical} -> ${other.value} ${unit} -> ${back}`,
          );
        }),
      );
    });
    test(`${concept}: conversion from ${unit || '(unitless)'} is monotone`, () => {
      fc.assert(
        fc.property(plausibleValue(concept), plausibleValue(concept), (a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const lowOther = convertFromCanonical(concept, low, unit);
          const highOther = convertFromCanonical(concept, high, unit);
          assert.ok(lowOther.ok && highOther.ok);
          assert.ok(lowOther.value <= highOther.value);
          const lowBack = value(normalize(concept, lowOther.value, unit)).value;
          const highBack = value(normalize(concept, highOther.value, unit)).value;
          assert.ok(lowBack <= highBack, `${low} <= ${high} but ${lowBack} > ${highBack}`);
        }),
      );
    });
  }
});

describe('resolved unit spellings are remembered per concept (bounded)', () => {
  test('a spelling resolves the same way before and after the memory is refilled past its bound', () => {
    const first = value(normalize('bilirubin', 17.1, ' umol/L '));
    const mcgFirst = value(normalize('norepinephrine', 0.1, 'mcg/kg/min'));
    // More distinct spellings than the memory holds (each rejected: unknown units), for both concepts.
    for (let i = 0; i < 1500; i++) {
      assert.equal(error(normalize('bilirubin', 1, `x${i}/L`)).kind, 'unknown-unit');
      assert.equal(error(normalize('norepinephrine', 0.1, `y${i}/kg/min`)).kind, 'unknown-unit');
    }
    assert.deepEqual(value(normalize('bilirubin', 17.1, ' umol/L ')), first);
    assert.equal(first.value, 1);
    assert.deepEqual(value(normalize('norepinephrine', 0.1, 'mcg/kg/min')), mcgFirst);
    // The same spelling means different things for different concepts' aliases: kept apart.
    assert.equal(value(normalize('fio2', 40, '')).value, 0.4);
    assert.equal(error(normalize('platelets', 40, '')).kind, 'unknown-unit');
  });
});
