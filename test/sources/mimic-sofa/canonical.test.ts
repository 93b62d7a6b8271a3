/**
 * Issue 10, third point: the same MIMIC-IV rows scored by mimic-code's conventions (i) read
 * directly into the collector (what read.ts does) and (ii) imported as canonical measurements
 * (src/sources/mimic/parse.ts) and fed back through from-measurements.ts give identical hourly
 * rows. The stays are the hand-checkable fixtures of conventions.test.ts (same builders, same
 * values, each expected score worked out there); here each is also read through the canonical
 * import, and a few scores are restated to show the comparison is not vacuous.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultConceptDictionary } from '../../../src/sources/concepts/dictionary.ts';
import { createParserState, finishParse, parseChunk } from '../../../src/sources/import-format.ts';
import { type MimicSofaStay, mimicCodeSofa } from '../../../src/sources/mimic/sofa/hourly.ts';
import { chart, gas, lab, stay, t, urine, vaso } from './fixtures.ts';
import { ITEM } from '../../../src/sources/mimic/sofa/tables.ts';
import { MIMIC_HEADERS } from '../../../src/sources/synthetic/export-mimic.ts';
import { MimicRows } from './mimic-rows.ts';

/** What an output row is, apart from the label of its stay. */
const rowsOf = (stays: readonly MimicSofaStay[]) =>
  stays.map((s) => ({ stayId: s.stayId, hours: s.hours.map((h) => ({ hr: h.hr, starttime: h.starttime, endtime: h.endtime, hourly: h.hourly, components: h.components, total: h.total, inputs: h.inputs })) }));

/** Scores the rows both ways, asserts every hour (inputs included) is identical, returns the stays. */
function bothWays(rows: MimicRows): MimicSofaStay[] {
  const direct = mimicCodeSofa(rows.direct());
  const canonical = rows.canonical();
  const viaCanonical = mimicCodeSofa(canonical.tables);
  assert.deepEqual(rowsOf(viaCanonical), rowsOf(direct));
  assert.ok(direct.length > 0 && direct.every((s) => s.hours.length > 0), 'every fixture stay has hours');
  for (const s of viaCanonical) assert.equal(canonical.stayLabel(s.stayId), String(s.stayId), 'MIMIC-IV stays keep their stay_id');
  return direct;
}

const hourOf = (s: MimicSofaStay, hr: number) => s.hours.find((h) => h.hr === hr)!;

describe('mimic-code hourly SOFA: MIMIC-IV tables read directly = imported as canonical measurements', () => {
  test('hour grid (first and last heart rate), a stay without heart rate has no rows', () => {
    const rows = new MimicRows();
    stay(rows, 1);
    rows.addIcuStay({ subjectId: 2, hadmId: 200, stayId: 2000, intime: t('01 09:00:00'), outtime: t('02 09:00:00') });
    stay(rows, 3, { firstHeartRate: '01 08:00:00', lastHeartRate: '01 20:59:00' });
    const stays = bothWays(rows);
    assert.deepEqual(
      stays.map((s) => [s.stayId, s.hours.length]),
      [
        [1000, 51],
        [3000, 13],
      ],
    );
  });

  test('labs: by hospital admission (other admissions and labs without one ignored), bilirubin 12 and creatinine 5 score 4', () => {
    const rows = new MimicRows();
    stay(rows, 1);
    lab(rows, 1, ITEM.platelets, '01 00:00:00', 95);
    lab(rows, 1, ITEM.platelets, '01 12:00:00', 10, { hadm: 101 });
    lab(rows, 1, ITEM.platelets, '01 12:00:00', 10, { hadm: null });
    lab(rows, 1, ITEM.bilirubinTotal, '02 10:00:00', 12.0);
    lab(rows, 1, ITEM.creatinine, '02 10:00:00', 5.0);
    lab(rows, 1, ITEM.creatinine, '02 11:00:00', 151);
    const s = bothWays(rows)[0]!;
    assert.equal(hourOf(s, 13).components.coagulation, 2);
    assert.equal(hourOf(s, 24).components.liver, 4);
    assert.equal(hourOf(s, 24).components.renal, 4);
  });

  test('blood gases: arterial only (the type row before or after the pO2), FiO2 from the gas or charted within 4 h, by patient', () => {
    const rows = new MimicRows();
    stay(rows, 1);
    gas(rows, 1, '01 10:30:00', 220, 0.55);
    gas(rows, 1, '01 11:30:00', 40, 100, 'VEN.');
    gas(rows, 1, '01 11:40:00', 41, 100, 'MIX.', undefined, false);
    chart(rows, 1, ITEM.fio2Chart, '01 08:31:00', null, 60);
    gas(rows, 1, '01 12:30:00', 60, null, 'ART.', undefined, false);
    chart(rows, 1, ITEM.fio2Chart, '01 15:29:00', null, 40);
    gas(rows, 1, '01 19:30:00', 50, null);
    gas(rows, 1, '02 08:30:00', 75, 50, 'ART.', 999);
    const s = bothWays(rows)[0]!;
    assert.equal(hourOf(s, 1).inputs.pao2fio2ratioNovent, 400);
    assert.equal(hourOf(s, 2).hourly.respiration, null, 'venous and mixed venous gases ignored');
    assert.equal(hourOf(s, 3).inputs.pao2fio2ratioNovent, 100);
    assert.equal(hourOf(s, 23).inputs.pao2fio2ratioNovent, 150);
  });

  test('ventilation: invasive episodes from modes, devices only with an O2 flow, single chartings dropped', () => {
    const rows = new MimicRows();
    stay(rows, 1);
    chart(rows, 1, ITEM.ventilatorMode, '01 10:10:00', 'CMV/ASSIST', null);
    chart(rows, 1, ITEM.ventilatorMode, '01 14:10:00', 'CMV/ASSIST', null);
    chart(rows, 1, ITEM.o2Device, '01 16:00:00', 'Nasal cannula', null);
    chart(rows, 1, 223834, '01 16:00:00', null, 2);
    chart(rows, 1, ITEM.o2Device, '01 18:00:00', 'Nasal cannula', null);
    chart(rows, 1, 223834, '01 18:00:00', null, 2);
    gas(rows, 1, '01 15:30:00', 60, 100);
    gas(rows, 1, '01 16:30:00', 60, 100);
    chart(rows, 1, ITEM.ventilatorMode, '02 06:00:00', 'SIMV', null);
    gas(rows, 1, '02 06:00:00', 150, 100);
    chart(rows, 1, ITEM.o2Device, '02 20:00:00', 'Endotracheal tube', null);
    chart(rows, 1, ITEM.o2Device, '02 22:00:00', 'Endotracheal tube', null);
    gas(rows, 1, '02 21:00:00', 90, 100);
    // Hamilton modes and a tracheostomy (which is not invasive ventilation for mimic-code).
    chart(rows, 1, ITEM.ventilatorModeHamilton, '03 00:00:00', 'ASV', null);
    chart(rows, 1, ITEM.ventilatorModeHamilton, '03 04:00:00', 'ASV', null);
    gas(rows, 1, '03 02:00:00', 60, 100);
    chart(rows, 1, ITEM.o2Device, '03 06:00:00', 'Tracheostomy tube', null, '03 06:05:00');
    chart(rows, 1, ITEM.ventilatorMode, '03 06:00:00', 'CMV', null);
    chart(rows, 1, 223834, '03 06:00:00', null, 5);
    chart(rows, 1, ITEM.o2Device, '03 09:00:00', 'Trach mask ', null, '03 09:05:00');
    chart(rows, 1, ITEM.ventilatorMode, '03 09:00:00', 'CMV', null);
    chart(rows, 1, 223834, '03 09:00:00', null, 5);
    gas(rows, 1, '03 07:00:00', 60, 100);
    const s = bothWays(rows)[0]!;
    assert.equal(hourOf(s, 6).hourly.respiration, 4);
    assert.equal(hourOf(s, 7).hourly.respiration, 2);
    assert.equal(hourOf(s, 20).hourly.respiration, 2);
    assert.equal(hourOf(s, 35).hourly.respiration, 2);
    // 03 02:00 is the end of row 40, 03 07:00 of row 45 (row hr ends at 01 10:00 + hr h).
    assert.equal(hourOf(s, 40).hourly.respiration, 4, 'Hamilton ASV is invasive');
    assert.equal(hourOf(s, 45).hourly.respiration, 2, 'a tracheostomy charted with an invasive mode is a tracheostomy');
  });

  test('vasopressors at the hour end; mg/kg/min norepinephrine; vasopressin and phenylephrine ignored', () => {
    const rows = new MimicRows();
    stay(rows, 1);
    vaso(rows, 1, ITEM.norepinephrine, '01 10:30:00', '01 11:00:00', 0.05);
    vaso(rows, 1, ITEM.norepinephrine, '01 12:10:00', '01 12:50:00', 0.5);
    vaso(rows, 1, ITEM.dobutamine, '01 13:00:00', '01 15:00:00', 5);
    vaso(rows, 1, 222315, '01 16:00:00', '01 20:00:00', 2.4);
    vaso(rows, 1, 221749, '01 16:00:00', '01 20:00:00', 1);
    vaso(rows, 1, ITEM.epinephrine, '02 10:00:00', '02 11:00:00', 0.11);
    vaso(rows, 1, ITEM.norepinephrine, '02 12:30:00', '02 13:00:00', 0.0002, 'mg/kg/min');
    vaso(rows, 1, ITEM.dopamine, '02 14:30:00', '02 15:00:00', 5);
    const s = bothWays(rows)[0]!;
    assert.equal(hourOf(s, 1).hourly.cardiovascular, 3);
    assert.equal(hourOf(s, 4).hourly.cardiovascular, 2);
    assert.equal(hourOf(s, 27).inputs.rateNorepinephrine, 0.2);
  });

  test('MAP (averaged at one time, 300 dropped) and GCS (ETT gives 15, responses carried 6 h)', () => {
    const rows = new MimicRows();
    stay(rows, 1);
    chart(rows, 1, 220052, '01 10:15:00', null, 68);
    chart(rows, 1, 220181, '01 10:15:00', null, 74);
    chart(rows, 1, 220181, '01 11:15:00', null, 69.9);
    chart(rows, 1, 220181, '01 11:20:00', null, 300);
    chart(rows, 1, ITEM.gcsVerbal, '01 10:30:00', 'No Response-ETT', null);
    chart(rows, 1, ITEM.gcsMotor, '01 10:30:00', null, 1);
    chart(rows, 1, ITEM.gcsEyes, '01 10:30:00', null, 1);
    chart(rows, 1, ITEM.gcsMotor, '01 12:30:00', null, 5);
    chart(rows, 1, ITEM.gcsEyes, '01 19:30:00', null, 2);
    chart(rows, 1, ITEM.gcsVerbal, '01 20:30:00', null, 3);
    const s = bothWays(rows)[0]!;
    assert.equal(hourOf(s, 1).inputs.meanbpMin, 71);
    assert.equal(hourOf(s, 2).hourly.cardiovascular, 1);
    assert.deepEqual([1, 3, 10, 11].map((hr) => hourOf(s, hr).inputs.gcsMin), [15, 15, 13, 11]);
  });

  test('urine: 23 h look-back scaled within 22-30 h; irrigant in counts negative', () => {
    const rows = new MimicRows();
    stay(rows, 1, { firstHeartRate: '01 09:00:00' });
    for (let k = 1; k <= 40; k++) {
      const at = new Date(t('01 09:00:00') + k * 3_600_000).toISOString().slice(8, 19).replace('T', ' ');
      urine(rows, 1, at, 20);
    }
    stay(rows, 2, { firstHeartRate: '01 09:00:00' });
    urine(rows, 2, '02 07:00:00', 1000, 227489);
    urine(rows, 2, '02 07:00:00', 800, ITEM.urineIrrigantIn);
    const [s1, s2] = bothWays(rows);
    assert.equal(hourOf(s1!, 22).inputs.uo24hr, 480);
    assert.equal(hourOf(s2!, 22).inputs.uo24hr, (200 / 22) * 24);
  });

  test('P/F in float64 arithmetic too (the bench compares against PostgreSQL that way)', () => {
    const rows = new MimicRows();
    stay(rows, 1);
    gas(rows, 1, '01 10:30:00', 220, 0.55);
    gas(rows, 1, '01 14:30:00', 180, 60);
    const options = { pfArithmetic: 'float64' as const };
    const direct = mimicCodeSofa(rows.direct(), options);
    const canonical = mimicCodeSofa(rows.canonical().tables, options);
    assert.deepEqual(rowsOf(canonical), rowsOf(direct));
    assert.equal(hourOf(direct[0]!, 1).hourly.respiration, 1, '220 / 55.00000000000001 % < 400');
  });
});

describe('what the canonical import carries for these conventions', () => {
  test('context: admission and stay as StayRecord ids, the specimen, the storetime of a device; GCS responses; the flag from the categories', () => {
    const rows = new MimicRows();
    stay(rows, 1);
    gas(rows, 1, '01 10:30:00', 80, 50, 'ART.', undefined, false);
    gas(rows, 1, '01 11:30:00', 40, 50, 'VEN.');
    chart(rows, 1, ITEM.o2Device, '01 16:00:00', 'Tracheostomy tube', null, '01 16:02:00');
    chart(rows, 1, ITEM.o2Device, '01 17:00:00', 'Endotracheal tube', null);
    chart(rows, 1, ITEM.gcsVerbal, '01 10:30:00', 'No Response-ETT', null);
    const { measurements, stays } = rows.importCanonical();
    assert.deepEqual(stays.map((s) => [s.id, s.kind, s.admissionId]), [['stay/1000', 'icu', 'hadm/100']]);
    const pao2 = measurements.filter((m) => m.concept === 'pao2');
    assert.deepEqual(pao2.map((m) => m.value), [80], 'the venous pO2 is not PaO2');
    assert.deepEqual([pao2[0]!.context?.encounterId, pao2[0]!.context?.specimen], ['hadm/100', 'arterial']);
    const fio2 = measurements.filter((m) => m.concept === 'fio2').map((m) => m.context?.specimenId);
    assert.equal(fio2.length, 2);
    assert.equal(fio2[0], pao2[0]!.context?.specimenId, 'a gas FiO2 keeps its specimen, so it pairs with the pO2');
    const devices = measurements.filter((m) => m.concept === 'oxygen_device' || m.concept === 'mechanical_ventilation');
    assert.deepEqual(
      devices.map((m) => [m.concept, m.value, m.context?.stayId, m.context?.recordedAt]),
      [
        ['oxygen_device', 5, 'stay/1000', '2150-01-01T16:02:00.000Z'],
        ['oxygen_device', 4, 'stay/1000', undefined],
        ['mechanical_ventilation', 1, 'stay/1000', undefined],
      ],
    );
    const verbal = measurements.find((m) => m.concept === 'gcs_verbal')!;
    assert.deepEqual([verbal.value, verbal.qualifiers], [1, { gcsVerbalIntubated: true }]);
    assert.equal(measurements.filter((m) => m.concept === 'heart_rate').length, 2);
  });

  test('a pO2 whose specimen type is in a later chunk waits for it; one without a type row is not PaO2', () => {
    const rows = new MimicRows();
    stay(rows, 1);
    lab(rows, 1, ITEM.bgPo2, '01 10:30:00', 80, { specimenId: 'late' });
    lab(rows, 1, ITEM.bgPo2, '01 10:35:00', 81, { specimenId: 'never' });
    lab(rows, 1, ITEM.platelets, '01 10:40:00', 120);
    lab(rows, 1, ITEM.bgSpecimen, '01 10:30:00', null, { value: 'ART.', specimenId: 'late' });
    // Each row its own chunk, one shared state (as `immunoguide import` reads a table, and
    // re-reads its committed chunks on resume): the pO2 comes out with the chunk of its type row.
    const state = createParserState();
    const dictionary = defaultConceptDictionary();
    const header = MIMIC_HEADERS['hosp/labevents'];
    const perChunk = rows.lines.labevents.map((line, i) =>
      parseChunk('mimic-iv:labevents', [line], { firstLineNumber: i + 2, header, fileName: 'labevents.csv', dictionary, state }),
    );
    const end = finishParse('mimic-iv:labevents', { firstLineNumber: 1, header, fileName: 'labevents.csv', dictionary, state });
    assert.deepEqual(
      perChunk.map((r) => r.measurements.map((m) => `${m.concept} ${m.value}`)),
      [[], [], ['platelets 120'], ['pao2 80']],
    );
    assert.deepEqual(perChunk[3]!.measurements[0]!.context?.specimen, 'arterial');
    assert.deepEqual([...end.unmapped], [['labevents|50821|specimen not charted', 1]]);
    const { measurements: whole } = rows.importCanonical();
    assert.deepEqual(
      whole.filter((m) => m.concept === 'pao2').map((m) => [m.value, m.provenance.recordId]),
      [[80, 'labevents/1']],
    );
  });
});
