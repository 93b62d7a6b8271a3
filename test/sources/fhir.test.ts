import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConceptDictionary } from '../../src/sources/concepts/dictionary.ts';
import { parseFhirDocument, parseFhirLines } from '../../src/sources/fhir/parse.ts';
import { type ParseContext, createParserState } from '../../src/sources/import-format.ts';

const dictionary = defaultConceptDictionary();
const context = (extra: Partial<ParseContext> = {}): ParseContext => ({ firstLineNumber: 1, fileName: 'test.ndjson', dictionary, ...extra });
const ucum = (value: number, code: string) => ({ value, unit: code, system: 'http://unitsofmeasure.org', code });
const loinc = (code: string) => ({ coding: [{ system: 'http://loinc.org', code }] });
const lines = (...resources: unknown[]) => resources.map((r) => (typeof r === 'string' ? r : JSON.stringify(r)));

function observation(id: string, code: string, value: unknown, extra: Record<string, unknown> = {}) {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: loinc(code),
    subject: { reference: 'Patient/P1' },
    effectiveDateTime: '2026-01-05T10:00:00+02:00',
    valueQuantity: value,
    ...extra,
  };
}

describe('FHIR Observation', () => {
  it('normalises valueQuantity through the unit rules and keeps provenance and the reported unit', () => {
    const result = parseFhirLines(
      lines(observation('o1', '2276-4', ucum(4420, 'ug/L')), observation('o2', '2276-4', ucum(22470, 'pmol/L'))),
      context(),
    );
    assert.deepEqual(result.issues, []);
    assert.equal(result.records, 2);
    const [a, b] = result.measurements;
    assert.deepEqual(
      { patientId: a?.patientId, concept: a?.concept, value: a?.value, unit: a?.unit, time: a?.time, provenance: a?.provenance },
      { patientId: 'P1', concept: 'ferritin', value: 4420, unit: 'ng/mL', time: '2026-01-05T08:00:00.000Z', provenance: { source: 'fhir', recordId: 'Observation/o1' } },
    );
    assert.deepEqual(a?.reported, { value: 4420, unit: 'ug/L' });
    // pmol/L / 2.247 = ng/mL (CLINICAL.md section 7): 22470 pmol/L is 10000 ng/mL.
    assert.equal(b?.value, 10000);
  });

  it('reads components (the MAP of a blood-pressure panel) with their own record ids', () => {
    const panel = {
      ...observation('bp', '85354-9', undefined),
      component: [
        { code: loinc('8480-6'), valueQuantity: ucum(120, 'mm[Hg]') },
        { code: loinc('8478-0'), valueQuantity: ucum(65, 'mm[Hg]') },
      ],
    };
    const result = parseFhirLines(lines(panel), context());
    assert.deepEqual(result.issues, []);
    assert.equal(result.measurements.length, 1);
    assert.equal(result.measurements[0]?.concept, 'map');
    assert.equal(result.measurements[0]?.value, 65);
    assert.equal(result.measurements[0]?.provenance.recordId, 'Observation/bp#component[1]');
  });

  it('reports every bad line with its number and keeps the good ones', () => {
    const result = parseFhirLines(
      lines(
        observation('ok1', '777-3', ucum(150, '10*3/uL')),
        '{"resourceType": "Observation", broken',
        observation('nosubject', '777-3', ucum(150, '10*3/uL'), { subject: undefined }),
        observation('dateonly', '777-3', ucum(150, '10*3/uL'), { effectiveDateTime: '2026-01-05' }),
        observation('badunit', '777-3', ucum(150, 'furlong')),
        observation('bound', '777-3', { ...ucum(150, '10*3/uL'), comparator: '<' }),
        observation('text', '777-3', undefined, { valueString: 'clumped' }),
        observation('implausible', '2160-0', ucum(-1, 'mg/dL')),
        '',
        observation('ok2', '777-3', ucum(99, '10*9/L')),
      ),
      context({ firstLineNumber: 101 }),
    );
    assert.equal(result.records, 9); // the blank line is not a record
    assert.equal(result.rejected, 7);
    assert.deepEqual(
      result.measurements.map((m) => [m.provenance.recordId, m.value]),
      [
        ['Observation/ok1', 150],
        ['Observation/ok2', 99],
      ],
    );
    assert.deepEqual(
      result.issues.map((i) => [i.severity, i.location[0], i.code]),
      [
        ['error', 'line 102', 'structure'],
        ['error', 'line 103', 'required'],
        ['error', 'line 104', 'value'],
        ['error', 'line 105', 'code-invalid'],
        ['error', 'line 106', 'value'],
        ['error', 'line 107', 'value'],
        ['error', 'line 108', 'value'],
      ],
    );
    assert.match(result.issues[2]!.diagnostics, /no time of day/);
    assert.match(result.issues[3]!.diagnostics, /furlong/);
    assert.match(result.issues[6]!.diagnostics, /negative/);
    assert.ok(result.issues.every((i) => i.file === 'test.ndjson'));
  });

  it('counts codes outside the dictionary as skipped, not rejected, and lists them', () => {
    const result = parseFhirLines(lines(observation('rr', '9279-1', ucum(18, '/min')), { resourceType: 'Organization', id: 'x' }), context());
    assert.equal(result.skipped, 2);
    assert.equal(result.rejected, 0);
    assert.deepEqual([...result.unmapped.keys()].sort(), ['Observation|http://loinc.org|9279-1', 'resourceType|Organization']);
  });

  it('ignores entered-in-error observations with a warning', () => {
    const result = parseFhirLines(lines(observation('e', '777-3', ucum(150, '10*3/uL'), { status: 'entered-in-error' })), context());
    assert.equal(result.measurements.length, 0);
    assert.equal(result.issues[0]?.severity, 'warning');
  });
});

describe('FHIR MedicationAdministration', () => {
  const norepinephrine = { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7512' }] };
  const admin = (id: string, rate: unknown, extra: Record<string, unknown> = {}) => ({
    resourceType: 'MedicationAdministration',
    id,
    status: 'completed',
    medicationCodeableConcept: norepinephrine,
    subject: { reference: 'Patient/P1' },
    effectivePeriod: { start: '2026-01-05T10:00:00Z', end: '2026-01-05T16:00:00Z' },
    dosage: { rateQuantity: rate },
    ...extra,
  });

  it('keeps a per-kg rate as an interval in ug/kg/min', () => {
    const result = parseFhirLines(lines(admin('a1', ucum(0.12, 'ug/kg/min'))), context());
    assert.deepEqual(result.issues, []);
    const m = result.measurements[0];
    assert.deepEqual([m?.concept, m?.value, m?.unit, m?.time, m?.endTime], ['norepinephrine', 0.12, 'ug/kg/min', '2026-01-05T10:00:00.000Z', '2026-01-05T16:00:00.000Z']);
  });

  it('divides a total rate by the weight of a contained weight Observation', () => {
    const withWeight = admin('a2', ucum(8, 'ug/min'), {
      contained: [{ resourceType: 'Observation', id: 'w', status: 'final', code: loinc('29463-7'), valueQuantity: ucum(80, 'kg') }],
      supportingInformation: [{ reference: '#w' }],
    });
    const result = parseFhirLines(lines(withWeight), context());
    assert.deepEqual(result.issues, []);
    assert.equal(result.measurements[0]?.value, 0.1);
  });

  it('uses the latest weight read earlier in the import (shared parser state), never a guess', () => {
    const state = createParserState();
    const weight = observation('w1', '29463-7', ucum(50, 'kg'), { effectiveDateTime: '2026-01-05T08:00:00Z' });
    const first = parseFhirLines(lines(weight), context({ state }));
    assert.equal(first.measurements[0]?.concept, 'weight');
    const second = parseFhirLines(lines(admin('a3', ucum(5, 'ug/min'))), context({ state }));
    assert.equal(second.measurements[0]?.value, 0.1);
    const withoutState = parseFhirLines(lines(admin('a4', ucum(5, 'ug/min'))), context());
    assert.equal(withoutState.measurements.length, 0);
    assert.match(withoutState.issues[0]!.diagnostics, /body weight/);
  });

  it('picks, of several charted weights, the latest at or before the administration (first read on a tie)', () => {
    const state = createParserState();
    const weight = (id: string, kg: number, at: string) => observation(id, '29463-7', ucum(kg, 'kg'), { effectiveDateTime: at });
    // Read out of time order, with two weights charted at the same instant and one in another time zone.
    const weights = [
      weight('w1', 80, '2026-01-05T08:00:00Z'),
      weight('w2', 100, '2026-01-05T12:00:00.001Z'),
      weight('w3', 50, '2026-01-05T06:00:00Z'),
      weight('w4', 40, '2026-01-05T13:00:00+02:00'), // 11:00 UTC
      weight('w5', 200, '2026-01-05T11:00:00Z'),
    ];
    assert.equal(parseFhirLines(lines(...weights), context({ state })).measurements.length, 5);
    const rateAt = (id: string, start: string): number | undefined => {
      const result = parseFhirLines(lines(admin(id, ucum(10, 'ug/min'), { effectivePeriod: { start, end: '2026-01-05T23:00:00Z' } })), context({ state }));
      return result.measurements[0]?.value;
    };
    assert.equal(rateAt('b1', '2026-01-05T07:00:00Z'), 10 / 50);
    assert.equal(rateAt('b2', '2026-01-05T08:00:00Z'), 10 / 80, 'a weight charted at the start counts');
    assert.equal(rateAt('b3', '2026-01-05T12:00:00Z'), 10 / 40, 'one millisecond before the next weight; first read of two at 11:00');
    assert.equal(rateAt('b4', '2026-01-05T12:00:00.001Z'), 10 / 100);
    assert.equal(rateAt('b5', '2026-01-05T05:59:59.999Z'), undefined, 'before any weight: refused');
  });

  it('resolves Medication and Device resources read earlier in the import (shared state)', () => {
    const state = createParserState();
    const medication = { resourceType: 'Medication', id: 'm1', code: norepinephrine };
    const device = { resourceType: 'Device', id: 'd1', type: { coding: [{ system: 'http://snomed.info/sct', code: '706172005' }] } };
    const first = parseFhirLines(lines(medication, device), context({ state }));
    assert.equal(first.skipped, 2);
    const byReference = { ...admin('a5', ucum(0.05, 'ug/kg/min')), medicationCodeableConcept: undefined, medicationReference: { reference: 'Medication/m1' } };
    const use = { resourceType: 'DeviceUseStatement', id: 'u1', status: 'completed', subject: { reference: 'Patient/P1' }, device: { reference: 'Device/d1' }, timingDateTime: '2026-01-05T12:00:00Z' };
    const second = parseFhirLines(lines(byReference, use), context({ state, firstLineNumber: 3 }));
    assert.deepEqual(second.issues, []);
    assert.deepEqual(second.measurements.map((m) => [m.concept, m.value]), [
      ['norepinephrine', 0.05],
      ['mechanical_ventilation', 1],
    ]);
  });

  it('reads antibiotics by ATC prefix as an event and study drugs as administrations', () => {
    const abx = {
      resourceType: 'MedicationAdministration',
      id: 'abx',
      status: 'completed',
      medicationCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'J01CR05' }] },
      subject: { reference: 'Patient/P1' },
      effectiveDateTime: '2026-01-05T09:00:00Z',
    };
    const anakinra = {
      ...abx,
      id: 'ana',
      medicationCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '385549000' }] },
      dosage: { dose: ucum(200, 'mg') },
    };
    const result = parseFhirLines(lines(abx, anakinra), context());
    assert.deepEqual(result.issues, []);
    assert.deepEqual(result.measurements.map((m) => [m.concept, m.value, m.time]), [['antibiotic', 1, '2026-01-05T09:00:00.000Z']]);
    assert.deepEqual(result.administrations, [
      { patientId: 'P1', medication: 'anakinra', time: '2026-01-05T09:00:00.000Z', dose: { value: 200, unit: 'mg' }, recordId: 'MedicationAdministration/ana' },
    ]);
  });
});

describe('FHIR ventilation, conditions and reports', () => {
  it('reads invasive ventilation from Procedure (interval; not-done = 0) and DeviceUseStatement', () => {
    const procedure = {
      resourceType: 'Procedure',
      id: 'v1',
      status: 'completed',
      code: { coding: [{ system: 'http://snomed.info/sct', code: '1258985005' }] },
      subject: { reference: 'Patient/P1' },
      performedPeriod: { start: '2026-01-05T00:00:00Z', end: '2026-01-07T12:00:00Z' },
    };
    const notDone = { ...procedure, id: 'v2', status: 'not-done', performedPeriod: undefined, performedDateTime: '2026-01-08T00:00:00Z' };
    const device = {
      resourceType: 'DeviceUseStatement',
      id: 'd1',
      status: 'active',
      subject: { reference: 'Patient/P1' },
      device: { reference: '#vent' },
      contained: [{ resourceType: 'Device', id: 'vent', type: { coding: [{ system: 'http://snomed.info/sct', code: '706172005' }] } }],
      timingPeriod: { start: '2026-01-09T00:00:00Z' },
    };
    const result = parseFhirLines(lines(procedure, notDone, device), context());
    assert.deepEqual(result.issues, []);
    assert.deepEqual(
      result.measurements.map((m) => [m.concept, m.value, m.time, m.endTime]),
      [
        ['mechanical_ventilation', 1, '2026-01-05T00:00:00.000Z', '2026-01-07T12:00:00.000Z'],
        ['mechanical_ventilation', 0, '2026-01-08T00:00:00.000Z', undefined],
        ['mechanical_ventilation', 1, '2026-01-09T00:00:00.000Z', undefined],
      ],
    );
  });

  it('reads mHLA-DR from a DiagnosticReport with contained results timed by the specimen collection', () => {
    const report = {
      resourceType: 'DiagnosticReport',
      id: 'r1',
      status: 'final',
      code: { text: 'Immune monitoring panel' },
      subject: { reference: 'Patient/P1' },
      specimen: [{ reference: '#s' }],
      result: [{ reference: '#hla' }, { reference: '#fer' }],
      contained: [
        { resourceType: 'Specimen', id: 's', collection: { collectedDateTime: '2026-01-05T06:30:00Z' } },
        {
          resourceType: 'Observation',
          id: 'hla',
          status: 'final',
          code: { coding: [{ system: 'https://immunoguide.org/fhir/CodeSystem/concept', code: 'mhla-dr-molecules' }] },
          valueQuantity: { value: 4999, unit: 'AB/cell' },
        },
        { resourceType: 'Observation', id: 'fer', status: 'final', code: loinc('2276-4'), valueQuantity: ucum(4420, 'ng/mL') },
      ],
    };
    const result = parseFhirLines(lines(report), context());
    assert.deepEqual(result.issues, []);
    assert.deepEqual(
      result.measurements.map((m) => [m.concept, m.value, m.unit, m.time, m.provenance.recordId]),
      [
        ['hla_dr', 4999, '{molecules}/{cell}', '2026-01-05T06:30:00.000Z', 'Observation/r1#hla'],
        ['ferritin', 4420, 'ng/mL', '2026-01-05T06:30:00.000Z', 'Observation/r1#fer'],
      ],
    );
  });

  it('reads a culture report as a culture drawn, and mapped conditions as findings', () => {
    const culture = {
      resourceType: 'DiagnosticReport',
      id: 'c1',
      status: 'preliminary',
      code: loinc('600-7'),
      subject: { reference: 'Patient/P1' },
      effectiveDateTime: '2026-01-04T22:00:00Z',
    };
    const hepatomegaly = {
      resourceType: 'Condition',
      id: 'h1',
      code: { coding: [{ system: 'http://snomed.info/sct', code: '80515008' }] },
      subject: { reference: 'Patient/P1' },
      onsetDateTime: '2026-01-05T00:00:00Z',
    };
    const pneumonia = { ...hepatomegaly, id: 'pn', code: { coding: [{ system: 'http://snomed.info/sct', code: '233604007' }] } };
    const result = parseFhirLines(lines(culture, hepatomegaly, pneumonia), context());
    assert.deepEqual(result.issues, []);
    assert.deepEqual(result.measurements.map((m) => [m.concept, m.value]), [['culture', 1], ['hepatomegaly', 1]]);
    assert.equal(result.conditions[0]?.codings[0]?.code, '233604007');
  });
});

describe('FHIR Patient and Bundles', () => {
  it('reads demographics and the site tag', () => {
    const patient = {
      resourceType: 'Patient',
      id: 'P1',
      meta: { tag: [{ system: 'https://immunoguide.org/fhir/CodeSystem/site', code: 'athens' }] },
      gender: 'female',
      birthDate: '1950-03-04',
      deceasedDateTime: '2026-01-20T03:00:00Z',
    };
    const result = parseFhirLines(lines(patient), context());
    assert.deepEqual(result.patients, [{ id: 'P1', siteId: 'athens', sex: 'female', birthDate: '1950-03-04', deceasedAt: '2026-01-20T03:00:00.000Z' }]);
    assert.equal(result.skipped, 0);
  });

  it('reads a transaction Bundle: urn:uuid references, one record per entry, DELETE refused', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:11111111-2222', resource: { resourceType: 'Patient', gender: 'male' }, request: { method: 'POST', url: 'Patient' } },
        {
          fullUrl: 'urn:uuid:aaaa',
          resource: { ...observation('x', '777-3', ucum(80, '10*3/uL')), id: undefined, subject: { reference: 'urn:uuid:11111111-2222' } },
          request: { method: 'POST', url: 'Observation' },
        },
        { request: { method: 'DELETE', url: 'Observation/old' } },
        { resource: { resourceType: 'Observation', code: loinc('777-3') } },
      ],
    };
    const result = parseFhirDocument(JSON.stringify(bundle), context({ fileName: 'bundle.json' }));
    assert.equal(result.records, 4);
    assert.deepEqual(result.patients.map((p) => p.id), ['11111111-2222']);
    assert.deepEqual(result.measurements.map((m) => [m.patientId, m.value, m.provenance.recordId]), [['11111111-2222', 80, 'Observation/aaaa']]);
    assert.deepEqual(
      result.issues.map((i) => [i.severity, i.location[0]]),
      [
        ['warning', 'Bundle.entry[2]'],
        ['error', 'Bundle.entry[3]'],
      ],
    );
  });

  it('reads searchset and collection Bundles the same way', () => {
    for (const type of ['searchset', 'collection', 'batch']) {
      const bundle = { resourceType: 'Bundle', type, entry: [{ resource: observation('s', '1975-2', ucum(34.2, 'umol/L')), search: { mode: 'match' } }] };
      const result = parseFhirDocument(JSON.stringify(bundle), context());
      assert.equal(result.measurements[0]?.value, 2, type); // 34.2 umol/L / 17.1 = 2 mg/dL
    }
  });
});
