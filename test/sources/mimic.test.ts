import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConceptDictionary } from '../../src/sources/concepts/dictionary.ts';
import { type MimicTable, type ParseContext, createParserState, finishParse, parseChunk } from '../../src/sources/import-format.ts';
import { MIMIC_HEADERS } from '../../src/sources/synthetic/export-mimic.ts';

const dictionary = defaultConceptDictionary();
const header = (table: string): string => MIMIC_HEADERS[table as keyof typeof MIMIC_HEADERS];
const context = (table: string, extra: Partial<ParseContext> = {}): ParseContext => ({
  firstLineNumber: 2,
  header: header(table),
  fileName: `${table}.csv`,
  dictionary,
  ...extra,
});
/** A row in the published column order from the named values. */
function row(table: string, values: Record<string, string | number>): string {
  return header(table)
    .split(',')
    .map((c) => (values[c] === undefined ? '' : String(values[c])))
    .join(',');
}
const parse = (table: MimicTable, rows: string[], extra: Partial<ParseContext> = {}) => parseChunk(`mimic-iv:${table}`, rows, context(`${table.startsWith('lab') || ['patients', 'admissions', 'microbiologyevents', 'prescriptions'].includes(table) ? 'hosp' : 'icu'}/${table}`, extra));

describe('MIMIC-IV labevents', () => {
  const lab = (id: number, itemid: number, valuenum: string, valueuom: string, extra: Record<string, string | number> = {}) =>
    row('hosp/labevents', { labevent_id: id, subject_id: 10001, hadm_id: 20001, specimen_id: 5, itemid, charttime: '2180-07-23 14:00:00', value: valuenum, valuenum, valueuom, ...extra });

  it('maps itemids through the dictionary with the row unit and keeps the raw keys in context', () => {
    // A pO2 is PaO2 in an arterial specimen: the specimen-type row (52033) of its specimen_id says so.
    const result = parse('labevents', [lab(1, 50924, '5000', 'ng/mL'), lab(2, 51265, '99', 'K/uL'), lab(3, 50821, '60', 'mm Hg'), lab(4, 52033, '', '', { value: 'ART.' })]);
    assert.deepEqual(result.issues, []);
    assert.deepEqual(
      result.measurements.map((m) => [m.patientId, m.concept, m.value, m.unit, m.time, m.provenance.recordId]),
      [
        ['10001', 'ferritin', 5000, 'ng/mL', '2180-07-23T14:00:00.000Z', 'labevents/1'],
        ['10001', 'platelets', 99, '10*3/uL', '2180-07-23T14:00:00.000Z', 'labevents/2'],
        ['10001', 'pao2', 60, 'mm[Hg]', '2180-07-23T14:00:00.000Z', 'labevents/3'],
      ],
    );
    assert.deepEqual(result.measurements[2]?.context, {
      subject_id: '10001',
      hadm_id: '20001',
      specimen_id: '5',
      itemid: 50821,
      encounterId: 'hadm/20001',
      specimenId: '5',
      specimen: 'arterial',
    });
    assert.equal(result.measurements[0]?.provenance.source, 'mimic-iv');
  });

  it('skips text results and unmapped items, rejects a non-numeric valuenum with its line', () => {
    const result = parse('labevents', [lab(1, 50924, '', 'ng/mL', { value: '___' }), lab(2, 50000, '1', 'x'), lab(3, 50912, 'abc', 'mg/dL')]);
    assert.equal(result.records, 3);
    assert.equal(result.skipped, 2);
    assert.equal(result.rejected, 1);
    assert.deepEqual(result.issues.map((i) => i.location), [['line 4']]);
    assert.match(result.issues[0]!.diagnostics, /"abc" is not a number/);
  });

  it('reads quoted fields with commas, and reports a row with the wrong number of fields', () => {
    const quoted = lab(7, 50924, '4420', 'ng/mL', { comments: '"high, repeat"' });
    const short = '1,2,3';
    const result = parse('labevents', [quoted, short]);
    assert.equal(result.measurements.length, 1);
    assert.match(result.issues[0]!.diagnostics, /3 fields, the header 16/);
  });

  it('refuses a file that is not the table it is said to be', () => {
    const result = parseChunk('mimic-iv:labevents', ['a,b,c', '1,2,3'], { firstLineNumber: 1, fileName: 'x.csv', dictionary });
    assert.equal(result.rejected, 1);
    assert.match(result.issues[0]!.diagnostics, /not a MIMIC-IV labevents table: missing column/);
  });
});

describe('MIMIC-IV chartevents', () => {
  const chart = (itemid: number, value: string, valuenum: string | number, time = '2180-07-23 14:00:00', stay = 30001) =>
    row('icu/chartevents', { subject_id: 10001, hadm_id: 20001, stay_id: stay, charttime: time, itemid, value, valuenum });

  it('reads FiO2 charted as percent or fraction, and refuses values that are neither', () => {
    const result = parse('chartevents', [chart(223835, '35', 35), chart(223835, '0.5', 0.5), chart(223835, '15', 15)]);
    assert.deepEqual(result.measurements.map((m) => m.value), [0.35, 0.5]);
    assert.equal(result.rejected, 1);
    assert.match(result.issues[0]!.diagnostics, /implausible/);
  });

  it('reads ventilation from the O2 delivery device and ventilator mode texts', () => {
    const result = parse('chartevents', [chart(226732, 'Endotracheal tube', ''), chart(226732, 'Nasal cannula', ''), chart(223849, 'CMV/ASSIST', ''), chart(226732, 'Tracheostomy tube', '')]);
    assert.deepEqual(result.measurements.filter((m) => m.concept !== 'mechanical_ventilation').map((m) => [m.concept, m.value]), [
      ['oxygen_device', 4],
      ['oxygen_device', 1],
      ['ventilator_mode', 4],
      ['oxygen_device', 5],
    ]);
    // The flag from the categories; a tracheostomy gives none (mimic-code keeps it apart).
    assert.deepEqual(result.measurements.filter((m) => m.concept === 'mechanical_ventilation').map((m) => m.value), [1, 0, 1]);
    assert.equal(result.skipped, 0);
  });

  it('sums the GCS components of one stay and time, across chunks with a shared state', () => {
    const state = createParserState();
    const first = parse('chartevents', [chart(220739, '3', 3), chart(223900, '4', 4)], { state });
    assert.deepEqual(first.measurements.map((m) => [m.concept, m.value]), [['gcs_eyes', 3], ['gcs_verbal', 4]], 'each response as charted');
    const second = parse('chartevents', [chart(223901, '5', 5)], { state, firstLineNumber: 4 });
    assert.deepEqual(second.measurements.map((m) => [m.concept, m.value, m.unit, m.provenance.recordId]), [
      ['gcs_motor', 5, '{score}', 'chartevents/30001/223901/2180-07-23 14:00:00'],
      ['gcs', 12, '{score}', 'chartevents/30001/gcs/2180-07-23 14:00:00'],
    ]);
  });

  it('flags an intubated verbal response (8T) and warns about incomplete groups at the end', () => {
    const state = createParserState();
    const result = parse('chartevents', [chart(223900, 'No Response-ETT', 0), chart(220739, '2', 2), chart(223901, '5', 5), chart(220739, '4', 4, '2180-07-23 18:00:00')], { state });
    const totals = result.measurements.filter((m) => m.concept === 'gcs');
    assert.deepEqual(totals.map((m) => [m.value, m.qualifiers]), [[8, { gcsVerbalIntubated: true }]]);
    assert.deepEqual(result.measurements.find((m) => m.concept === 'gcs_verbal')?.qualifiers, { gcsVerbalIntubated: true });
    const end = finishParse('mimic-iv:chartevents', context('icu/chartevents', { state }));
    assert.equal(end.measurements.length, 0);
    assert.deepEqual(end.issues.map((i) => [i.severity, i.code, i.location[0]]), [['warning', 'incomplete', 'line 5']]);
  });

  it('settles groups at the end of the chunk when there is no shared state', () => {
    const result = parse('chartevents', [chart(220739, '4', 4), chart(223900, '5', 5), chart(223901, '6', 6), chart(220739, '1', 1, '2180-07-23 15:00:00')]);
    assert.deepEqual(result.measurements.filter((m) => m.concept === 'gcs').map((m) => m.value), [15]);
    assert.equal(result.issues[0]?.code, 'incomplete');
  });

  it('refuses a GCS component outside its range', () => {
    const result = parse('chartevents', [chart(223901, '7', 7)]);
    assert.equal(result.rejected, 1);
    assert.match(result.issues[0]!.diagnostics, /GCS motor "7" is not a score from 1 to 6/);
  });
});

describe('MIMIC-IV inputevents, outputevents, cultures and drugs', () => {
  it('reads vasopressor rates per kg, converts total rates with patientweight, skips boluses', () => {
    const input = (rate: string, rateuom: string, weight = '80', orderid = 1) =>
      row('icu/inputevents', {
        subject_id: 10001,
        hadm_id: 20001,
        stay_id: 30001,
        starttime: '2180-07-23 14:00:00',
        endtime: '2180-07-23 16:30:00',
        itemid: 221906,
        amount: 1,
        amountuom: 'mg',
        rate,
        rateuom,
        orderid,
        linkorderid: orderid,
        patientweight: weight,
      });
    const result = parse('inputevents', [input('0.12', 'mcg/kg/min'), input('8', 'mcg/min', '80', 2), input('', '', '80', 3)]);
    assert.deepEqual(result.issues, []);
    assert.deepEqual(
      result.measurements.map((m) => [m.concept, m.value, m.unit, m.time, m.endTime]),
      [
        ['norepinephrine', 0.12, 'ug/kg/min', '2180-07-23T14:00:00.000Z', '2180-07-23T16:30:00.000Z'],
        ['norepinephrine', 0.1, 'ug/kg/min', '2180-07-23T14:00:00.000Z', '2180-07-23T16:30:00.000Z'],
      ],
    );
    assert.equal(result.skipped, 1);
  });

  it('gives each urine volume the interval since the previous charting, the first from the ICU admission', () => {
    const state = createParserState();
    parse('icustays', [row('icu/icustays', { subject_id: 10001, hadm_id: 20001, stay_id: 30001, intime: '2180-07-23 10:00:00', outtime: '2180-07-25 10:00:00' })], { state });
    const out = (time: string, itemid = 226559, value = 100) =>
      row('icu/outputevents', { subject_id: 10001, hadm_id: 20001, stay_id: 30001, charttime: time, itemid, value, valueuom: 'ml' });
    const result = parse('outputevents', [out('2180-07-23 12:00:00'), out('2180-07-23 15:00:00'), out('2180-07-23 15:00:00', 226560, 50), out('2180-07-23 13:00:00')], { state });
    assert.deepEqual(
      result.measurements.map((m) => [m.value, m.time, m.endTime]),
      [
        [100, '2180-07-23T10:00:00.000Z', '2180-07-23T12:00:00.000Z'],
        [100, '2180-07-23T12:00:00.000Z', '2180-07-23T15:00:00.000Z'],
        [50, '2180-07-23T12:00:00.000Z', '2180-07-23T15:00:00.000Z'],
        [100, '2180-07-23T13:00:00.000Z', undefined],
      ],
    );
    assert.deepEqual(result.issues.map((i) => [i.severity, i.location[0]]), [['warning', 'line 5']]);
  });

  it('reads one culture per specimen and antibiotics from prescriptions by name and systemic route', () => {
    const micro = (id: number, specimen: number) =>
      row('hosp/microbiologyevents', { microevent_id: id, subject_id: 10001, hadm_id: 20001, micro_specimen_id: specimen, chartdate: '2180-07-23 00:00:00', charttime: '2180-07-23 09:15:00', spec_type_desc: 'BLOOD CULTURE' });
    const cultures = parse('microbiologyevents', [micro(1, 77), micro(2, 77), micro(3, 78)]);
    assert.deepEqual(cultures.measurements.map((m) => [m.concept, m.provenance.recordId, m.time]), [
      ['culture', 'microbiologyevents/77', '2180-07-23T09:15:00.000Z'],
      ['culture', 'microbiologyevents/78', '2180-07-23T09:15:00.000Z'],
    ]);
    const rx = (id: number, drug: string, route: string) =>
      row('hosp/prescriptions', { subject_id: 10001, hadm_id: 20001, pharmacy_id: id, starttime: '2180-07-23 10:00:00', drug, route });
    const drugs = parse('prescriptions', [rx(1, 'Piperacillin-Tazobactam', 'IV'), rx(2, 'Bacitracin Ointment', 'TP'), rx(3, 'Vancomycin Ophth', 'OU'), rx(4, 'Anakinra', 'SC')]);
    assert.deepEqual(drugs.measurements.map((m) => [m.concept, m.value, m.time]), [['antibiotic', 1, '2180-07-23T10:00:00.000Z']]);
    assert.deepEqual(drugs.administrations.map((a) => a.medication), ['anakinra']);
    assert.equal(drugs.skipped, 2);
  });

  it('reads sex from patients and the death time from admissions', () => {
    const patients = parse('patients', [row('hosp/patients', { subject_id: 10001, gender: 'F', anchor_age: 70, anchor_year: 2180, anchor_year_group: '2017 - 2019' })]);
    const admissions = parse('admissions', [
      row('hosp/admissions', { subject_id: 10001, hadm_id: 20001, admittime: '2180-07-22 10:00:00', dischtime: '2180-07-30 10:00:00', deathtime: '2180-07-30 09:00:00' }),
    ]);
    assert.deepEqual(patients.patients, [{ id: '10001', sex: 'female' }]);
    assert.deepEqual(admissions.patients, [{ id: '10001', deceasedAt: '2180-07-30T09:00:00.000Z' }]);
    assert.equal(admissions.stays[0]?.kind, 'hospital');
  });
});
