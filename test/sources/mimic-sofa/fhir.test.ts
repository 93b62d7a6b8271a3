/**
 * Issue 10, third point: "a patient imported from FHIR scores the same as from MIMIC-IV tables
 * when the data are the same". One ICU stay (same-data.ts, its expected scores worked out there)
 * as MIMIC-IV rows read directly, as the MIMIC-IV tables imported as canonical measurements, as
 * FHIR R4 resources and as the measurement CSV: the hourly rows of mimic-code's conventions are
 * identical.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultConceptDictionary } from '../../../src/sources/concepts/dictionary.ts';
import { parseFhirLines } from '../../../src/sources/fhir/parse.ts';
import { createParserState, parseChunk } from '../../../src/sources/import-format.ts';
import { mimicSofaTablesFromMeasurements } from '../../../src/sources/mimic/sofa/from-measurements.ts';
import { type MimicSofaStay, mimicCodeSofa } from '../../../src/sources/mimic/sofa/hourly.ts';
import { SAME_STAY, sameDataCsv, sameDataFhir, sameDataMimic } from './same-data.ts';

const rowsOf = (stays: readonly MimicSofaStay[], label: (id: number) => string = String) =>
  stays.map((s) => ({ stay: label(s.stayId), hours: s.hours.map((h) => ({ hr: h.hr, starttime: h.starttime, hourly: h.hourly, components: h.components, total: h.total, inputs: h.inputs })) }));

function fromFhir() {
  const dictionary = defaultConceptDictionary();
  const parsed = parseFhirLines(sameDataFhir().map((r) => JSON.stringify(r)), { firstLineNumber: 1, fileName: 'stay.ndjson', dictionary, state: createParserState() });
  return { parsed, built: mimicSofaTablesFromMeasurements({ measurements: parsed.measurements, stays: parsed.stays }) };
}

describe('one ICU stay from MIMIC-IV tables, FHIR and the measurement CSV: identical mimic-code hourly rows', () => {
  const direct = mimicCodeSofa(sameDataMimic().direct());

  test('the expected scores of the MIMIC-IV rows (worked out in same-data.ts)', () => {
    const s = direct[0]!;
    assert.equal(s.stayId, SAME_STAY);
    const hour = (hr: number) => s.hours.find((h) => h.hr === hr)!;
    assert.deepEqual(hour(1).hourly, { respiration: 4, coagulation: null, liver: null, cardiovascular: 3, cns: null, renal: null });
    assert.equal(hour(1).inputs.pao2fio2ratioVent, 60);
    assert.equal(hour(2).hourly.respiration, null, 'the venous gas is not scored');
    assert.equal(hour(2).hourly.coagulation, 2);
    assert.deepEqual([hour(3).inputs.gcsMin, hour(3).hourly.cns, hour(3).hourly.cardiovascular], [15, 0, 1]);
    assert.deepEqual([hour(4).inputs.rateDopamine, hour(5).inputs.rateDopamine, hour(4).hourly.cardiovascular], [5.1, 5.1, 3]);
    assert.deepEqual([hour(7).inputs.gcsMin, hour(7).hourly.cns], [12, 2]);
    assert.equal(hour(4).inputs.creatinineMax, null, 'the creatinine of another admission');
    assert.equal(hour(23).hourly.renal, 4);
    assert.deepEqual(hour(23).components, { respiration: 4, coagulation: 2, liver: 0, cardiovascular: 3, cns: 2, renal: 4 });
  });

  test('MIMIC-IV tables through the canonical import', () => {
    const canonical = sameDataMimic().canonical();
    assert.deepEqual(rowsOf(mimicCodeSofa(canonical.tables), canonical.stayLabel), rowsOf(direct));
  });

  test('FHIR: Encounters (ICU partOf hospital), Specimen types, a GCS panel with an intubated verbal response, a ventilation Procedure, MedicationAdministrations', () => {
    const { parsed, built } = fromFhir();
    assert.deepEqual(parsed.issues, []);
    assert.deepEqual(rowsOf(mimicCodeSofa(built.tables), built.stayLabel), rowsOf(direct));
    assert.deepEqual([...built.unlinked], []);
    // What carried the conventions: the venous pO2 is not PaO2; the 8T total is flagged like MIMIC-IV's.
    assert.deepEqual(parsed.measurements.filter((m) => m.concept === 'pao2').map((m) => m.value), [60]);
    const total = parsed.measurements.find((m) => m.concept === 'gcs' && m.value === 3)!;
    assert.deepEqual(total.qualifiers, { gcsVerbalIntubated: true });
    assert.deepEqual(parsed.stays.find((s) => s.kind === 'icu'), { id: 'Encounter/1000', patientId: '1', kind: 'icu', admissionId: 'Encounter/100', start: '2150-01-01T09:20:00.000Z', end: '2150-01-03T12:00:00.000Z' });
  });

  test('FHIR without the links the conventions need scores differently (the comparison is not vacuous)', () => {
    // The platelets without their encounter: labs link by admission, so they count for no stay.
    const resources = sameDataFhir().map((r) => (r.id === 'plt1' ? { ...r, encounter: undefined } : r));
    const parsed = parseFhirLines(resources.map((r) => JSON.stringify(r)), { firstLineNumber: 1, fileName: 'stay.ndjson', dictionary: defaultConceptDictionary(), state: createParserState() });
    const built = mimicSofaTablesFromMeasurements({ measurements: parsed.measurements, stays: parsed.stays });
    const hours = mimicCodeSofa(built.tables)[0]!.hours;
    assert.equal(hours.find((h) => h.hr === 2)!.hourly.coagulation, null);
    assert.deepEqual([...built.unlinked], [['platelets', 1]]);
  });

  test('the measurement CSV: the patient is the stay', () => {
    const parsed = parseChunk('csv', sameDataCsv(), { firstLineNumber: 1, fileName: 'stay.csv', dictionary: defaultConceptDictionary() });
    assert.deepEqual(parsed.issues, []);
    const built = mimicSofaTablesFromMeasurements({ measurements: parsed.measurements, stays: [] });
    assert.deepEqual(built.implicitStays, ['1000']);
    assert.deepEqual(rowsOf(mimicCodeSofa(built.tables), built.stayLabel), rowsOf(direct));
  });
});
