import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CONCEPT_UNITS } from '../../src/clinical/units.ts';
import {
  DictionaryError,
  buildDictionary,
  builtInDictionaryData,
  defaultConceptDictionary,
  loadConceptDictionary,
  mergeDictionaries,
  validateDictionary,
} from '../../src/sources/concepts/dictionary.ts';

describe('concept dictionary', () => {
  it('the built-in dictionary is valid and names only engine concepts', () => {
    const data = builtInDictionaryData();
    assert.deepEqual(validateDictionary(data), []);
    for (const concept of Object.keys(data.concepts)) assert.ok(concept in CONCEPT_UNITS, concept);
  });

  it('looks codes up by system URI, MIMIC-IV item and drug name', () => {
    const d = defaultConceptDictionary();
    assert.equal(d.conceptForCode('http://loinc.org', '2276-4'), 'ferritin');
    assert.equal(d.conceptForCode('http://snomed.info/sct', '2276-4'), undefined);
    assert.deepEqual(d.medicationForCode('http://www.nlm.nih.gov/research/umls/rxnorm', '7512'), { kind: 'concept', concept: 'norepinephrine' });
    assert.deepEqual(d.medicationForCode('http://www.whocc.no/atc', 'J01DH02'), { kind: 'concept', concept: 'antibiotic' });
    assert.deepEqual(d.medicationForCode('http://snomed.info/sct', '385549000'), { kind: 'medication', id: 'anakinra' });
    assert.equal(d.mimicItem('labevents', 50912)?.concept, 'creatinine');
    assert.equal(d.mimicItem('chartevents', 50912), undefined);
    assert.deepEqual(d.mimicDrug('Meropenem 1g', 'IV'), { kind: 'concept', concept: 'antibiotic' });
    assert.equal(d.mimicDrug('Meropenem 1g', 'TP'), undefined);
  });

  it('refuses unknown concepts, codes claimed twice, duplicate items, unconvertible units and overlapping prefixes', () => {
    const data = builtInDictionaryData();
    const bad = mergeDictionaries(data, {
      concepts: {
        sodium: { display: 'Sodium', fhir: [] },
        creatinine: { fhir: [{ system: 'loinc', code: '2276-4' }], mimic: [{ table: 'labevents', itemid: 50924 }] },
        bilirubin: { mimic: [{ table: 'labevents', itemid: 1, unit: 'mmHg' }] },
        culture: { fhir: [{ system: 'nowhere', code: 'x' }] },
      },
      medications: { other: { display: 'x', medication: [{ system: 'atc', code: 'J', match: 'prefix' }] } },
    });
    const problems = validateDictionary(bad);
    const expect = [
      /concepts\.sodium: "sodium" is not a concept of the engine/,
      /concepts\.creatinine\.fhir\[1\]: loinc\|2276-4 is already mapped by concepts\.ferritin/,
      /concepts\.creatinine\.mimic\[1\]: labevents itemid 50924 is already mapped by concepts\.ferritin/,
      /concepts\.bilirubin\.mimic\[1\]: unit "mmHg" cannot be converted to bilirubin/,
      /concepts\.culture\.fhir\[\d\]: unknown code system "nowhere"/,
      /medications\.other: medication prefix http:\/\/www\.whocc\.no\/atc\|J\* overlaps concepts\.antibiotic's J01\*/,
    ];
    for (const pattern of expect) assert.ok(problems.some((p) => pattern.test(p)), `${pattern} in:\n${problems.join('\n')}`);
    assert.equal(buildDictionary(bad).ok, false);
  });

  it('merges a site file named by IMMUNOGUIDE_CONCEPTS_FILE over the built-in one, and reports a bad one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-dict-'));
    try {
      const site = path.join(dir, 'site.json');
      fs.writeFileSync(
        site,
        JSON.stringify({
          version: 'athens-1',
          codeSystems: { lab: 'https://athens.example/lab' },
          concepts: {
            hla_dr: { fhir: [{ system: 'lab', code: 'HLADR-Q' }], mimic: [{ table: 'labevents', itemid: 990001, unit: 'AB/cell' }] },
          },
        }),
      );
      const d = loadConceptDictionary({ IMMUNOGUIDE_CONCEPTS_FILE: site });
      assert.equal(d.conceptForCode('https://athens.example/lab', 'HLADR-Q'), 'hla_dr');
      assert.equal(d.conceptForCode('https://immunoguide.org/fhir/CodeSystem/concept', 'mhla-dr-molecules'), 'hla_dr'); // kept
      assert.equal(d.mimicItem('labevents', 990001)?.concept, 'hla_dr');
      assert.equal(d.data.version, '2026.1+athens-1');
      assert.notEqual(d.hash, defaultConceptDictionary().hash);

      fs.writeFileSync(site, JSON.stringify({ concepts: { ferritin: { fhir: [{ system: 'loinc', code: '777-3' }] } } }));
      assert.throws(() => loadConceptDictionary({ IMMUNOGUIDE_CONCEPTS_FILE: site }), (error: unknown) => {
        assert.ok(error instanceof DictionaryError);
        assert.match(error.message, /loinc\|777-3 is already mapped by concepts\.platelets|loinc\|777-3 is already mapped by concepts\.ferritin/);
        return true;
      });
      fs.writeFileSync(site, '{ not json');
      assert.throws(() => loadConceptDictionary({ IMMUNOGUIDE_CONCEPTS_FILE: site }), /IMMUNOGUIDE_CONCEPTS_FILE/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
