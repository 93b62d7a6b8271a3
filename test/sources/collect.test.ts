import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Concept } from '../../src/clinical/types.ts';
import { CONCEPT_UNITS, normalize } from '../../src/clinical/units.ts';
import { ChunkCollector } from '../../src/sources/collect.ts';
import { defaultConceptDictionary } from '../../src/sources/concepts/dictionary.ts';

const concepts = Object.keys(CONCEPT_UNITS) as Concept[];
const units = ['', '1', '%', 'mg/dL', 'umol/L', 'ng/mL', 'ug/L', 'pmol/L', '10*3/uL', '10*9/L', 'K/uL', 'mm[Hg]', 'kPa', 'ug/kg/min', 'ug/min', 'mL', '{score}', '{molecules}/{cell}', 'kg', 'Cel', 'furlong'];

describe('ChunkCollector values', () => {
  it('stores exactly what normalize() gives, or reports its message (its canonical-unit shortcut included)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...concepts),
        fc.oneof(fc.constantFrom(...units), fc.constantFrom(...concepts.map((c) => CONCEPT_UNITS[c].canonicalUnit))),
        fc.oneof(fc.double({ min: -10, max: 2e6, noNaN: false }), fc.integer({ min: -5, max: 300 }), fc.constantFrom(0, 1, 0.21, 4420, 4420.5, 15, 3, 5000, Number.NaN, Infinity)),
        fc.option(fc.constantFrom(50, 80.5, 0, 1000), { nil: undefined }),
        (concept, unit, value, weight) => {
          const out = new ChunkCollector({ firstLineNumber: 1, fileName: 'f', dictionary: defaultConceptDictionary() }, 'test');
          out.begin(1);
          const options = weight === undefined ? {} : { bodyWeightKg: weight };
          const added = out.value('P', concept, value, unit, '2026-01-05T00:00:00.000Z', undefined, 'r', options);
          const expected = normalize(concept, value, unit, options);
          if (expected.ok) {
            assert.ok(added, `${concept} ${value} ${unit}`);
            assert.equal(added.value, expected.value.value);
            assert.equal(added.unit, expected.value.unit);
          } else {
            assert.equal(added, undefined);
            assert.equal(out.result.issues[0]?.diagnostics, expected.error.message);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('gives normalize()\'s results while its caches fill up and are emptied (infusion rates with many weights)', () => {
    const out = new ChunkCollector({ firstLineNumber: 1, fileName: 'f', dictionary: defaultConceptDictionary() }, 'test');
    // More distinct (rate, weight) pairs and plain values than either cache keeps, each seen twice
    // (before and after the cache that held it was emptied).
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < 12_000; i++) {
        out.begin(i + 1);
        const weight = 40 + (i % 97) / 2;
        const rate = { value: 0.001 + i / 2000, unit: i % 2 === 0 ? 'ug/min' : 'ug/kg/min' };
        const options = { bodyWeightKg: weight };
        const added = out.value('P', 'norepinephrine', rate.value, rate.unit, '2026-01-05T00:00:00.000Z', undefined, `r${i}`, options);
        const expected = normalize('norepinephrine', rate.value, rate.unit, options);
        assert.ok(expected.ok && added, `${rate.value} ${rate.unit} at ${weight} kg`);
        assert.equal(added.value, expected.value.value);
        assert.equal(added.unit, expected.value.unit);
        const creatinine = 0.3 + i / 100_000;
        const plain = out.value('P', 'creatinine', creatinine * 88.42, 'umol/L', '2026-01-05T00:00:00.000Z', undefined, `c${i}`);
        const plainExpected = normalize('creatinine', creatinine * 88.42, 'umol/L');
        assert.ok(plainExpected.ok && plain);
        assert.equal(plain.value, plainExpected.value.value);
      }
    }
  });
});
