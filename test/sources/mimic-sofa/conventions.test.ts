/**
 * mimic-code's hourly SOFA conventions (CLINICAL.md section 6, preset `mimic-iv`), one small
 * hand-checkable stay per convention. Each expected score is worked out in the comment next to
 * it from mimic-code's SQL (mimic-iv/concepts/score/sofa.sql and the concepts it reads).
 *
 * Every stay starts with a heart rate at 09:30 on 2150-01-01, so hour row 0 ends at 10:00
 * (the first heart rate rounded up to the clock hour) and row hr covers
 * (09:00 + hr h, 10:00 + hr h]; the 24 h value of row hr is the worst of rows hr-23..hr.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ComponentName, type MimicSofaHour, type MimicSofaStay, mimicCodeSofa } from '../../../src/sources/mimic/sofa/hourly.ts';
import { ITEM, MimicSofaTables } from '../../../src/sources/mimic/sofa/tables.ts';
import { parseMimicTime } from '../../../src/sources/mimic/sofa/read.ts';
import { chart, gas, lab, stay, t, urine, vaso } from './fixtures.ts';

function score(tables: MimicSofaTables, stayId: number): MimicSofaStay {
  const found = mimicCodeSofa(tables, { stayIds: new Set([stayId]) })[0];
  assert.ok(found, `stay ${stayId} scored`);
  return found;
}

function hour(s: MimicSofaStay, hr: number): MimicSofaHour {
  const found = s.hours.find((h) => h.hr === hr);
  assert.ok(found, `hour ${hr} of stay ${s.stayId}`);
  return found;
}

/** The 24 h component over hours `from`..`to`, one value per hour. */
function series(s: MimicSofaStay, component: ComponentName, from: number, to: number): number[] {
  const out: number[] = [];
  for (let hr = from; hr <= to; hr++) out.push(hour(s, hr).components[component]);
  return out;
}

describe('mimic-code hourly SOFA conventions (preset mimic-iv)', () => {
  test('hour grid: anchored on the first heart rate rounded up, hr 0..clock hours to the last heart rate, (end - 1 h, end]', () => {
    const tables = new MimicSofaTables();
    const id = stay(tables, 1);
    // A stay without any heart rate has no rows at all (icustay_times gives it no intime_hr).
    tables.addIcuStay({ subjectId: 2, hadmId: 200, stayId: 2000, intime: t('01 09:00:00'), outtime: t('02 09:00:00') });
    const all = mimicCodeSofa(tables);
    assert.deepEqual(
      all.map((s) => s.stayId),
      [id],
    );
    const s = all[0]!;
    // First HR 09:30 -> hour 0 ends 10:00; last HR 03 11:45: clock hours 01 09:00 -> 03 11:00 = 50.
    assert.equal(s.hours.length, 51);
    assert.deepEqual([s.hours[0]!.hr, s.hours[50]!.hr], [0, 50]);
    assert.equal(hour(s, 0).starttime, t('01 09:00:00'));
    assert.equal(hour(s, 0).endtime, t('01 10:00:00'));
    assert.equal(hour(s, 50).endtime, t('03 12:00:00'));
    // A heart rate exactly on the hour is not rounded up.
    const exact = new MimicSofaTables();
    stay(exact, 3, { firstHeartRate: '01 08:00:00', lastHeartRate: '01 20:59:00' });
    const e = score(exact, 3000);
    assert.equal(hour(e, 0).endtime, t('01 08:00:00'));
    assert.equal(e.hours.length, 13, '08:00 -> 20:00 is 12 clock hours: rows 0..12');
  });

  test('labs: linked by hospital admission, counted from 24 h before the first row, worst of 24 rows', () => {
    const tables = new MimicSofaTables();
    const id = stay(tables, 1);
    // Platelets 95 at 01 00:00 sit in row hr -10 ((23:00, 00:00]); rows hr 0..13 see it (2), hr 14 not.
    lab(tables, 1, ITEM.platelets, '01 00:00:00', 95);
    // Another admission of the same patient, and a lab without admission: never linked to the stay.
    lab(tables, 1, ITEM.platelets, '01 12:00:00', 10, { hadm: 101 });
    lab(tables, 1, ITEM.platelets, '01 12:00:00', 10, { hadm: null });
    // A lab exactly at an hour's end belongs to that hour: 02 10:00 is the end of hr 24.
    lab(tables, 1, ITEM.bilirubinTotal, '02 10:00:00', 12.0); // >= 12.0 scores 4 (the printed table says > 12)
    lab(tables, 1, ITEM.creatinine, '02 10:00:00', 5.0); // >= 5.0 scores 4
    lab(tables, 1, ITEM.creatinine, '02 11:00:00', 151); // above 150 mg/dL: dropped by chemistry.sql
    const s = score(tables, id);
    assert.deepEqual(series(s, 'coagulation', 0, 15), [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0]);
    assert.equal(hour(s, 0).hourly.coagulation, null, 'the platelets belong to row -10, not row 0');
    assert.deepEqual(series(s, 'liver', 23, 25), [0, 4, 4]);
    assert.deepEqual(series(s, 'liver', 47, 48), [4, 0]);
    assert.deepEqual(series(s, 'renal', 23, 25), [0, 4, 4]);
    assert.equal(hour(s, 25).inputs.creatinineMax, null, 'creatinine 151 is out of chemistry.sql range');
  });

  test('blood gases: by patient, arterial only, FiO2 from the gas else the latest chart FiO2 within 4 h, no room-air default', () => {
    const tables = new MimicSofaTables();
    const id = stay(tables, 1);
    // 220 / 0.55: FiO2 given as a fraction is x100 (55.00000000000001 in doubles): still P/F 400 -> 0.
    gas(tables, 1, '01 10:30:00', 220, 0.55); // row 1
    // A venous gas is ignored whatever its values.
    gas(tables, 1, '01 11:30:00', 40, 100, 'VEN.'); // row 2
    // No FiO2 in the gas: chart FiO2 60 % 3 h 59 min before -> P/F 60 / 0.6 = 100 -> 3, capped at 2 without ventilation.
    chart(tables, 1, ITEM.fio2Chart, '01 08:31:00', null, 60);
    gas(tables, 1, '01 12:30:00', 60, null); // row 3
    // Chart FiO2 4 h 01 min before only: no FiO2, no ratio (never 21 % assumed).
    chart(tables, 1, ITEM.fio2Chart, '01 15:29:00', null, 40);
    gas(tables, 1, '01 19:30:00', 50, null); // row 10
    // Gas of another admission of the same patient still counts (gases link by patient): P/F 150 -> 2 capped.
    gas(tables, 1, '02 08:30:00', 75, 50, 'ART.', 999); // row 23
    const s = score(tables, id);
    assert.equal(hour(s, 1).inputs.pao2fio2ratioNovent, 400);
    assert.equal(hour(s, 1).hourly.respiration, 0);
    assert.equal(hour(s, 2).hourly.respiration, null, 'venous gas ignored');
    assert.equal(hour(s, 3).inputs.pao2fio2ratioNovent, 100);
    assert.equal(hour(s, 3).hourly.respiration, 2, 'P/F 100 without invasive ventilation scores at most 2');
    assert.equal(hour(s, 10).hourly.respiration, null, 'no FiO2 within 4 h: not scored');
    assert.equal(hour(s, 23).inputs.pao2fio2ratioNovent, 150);
    assert.deepEqual(series(s, 'respiration', 0, 3), [0, 0, 0, 2]);
  });

  test('ventilation: only invasive ventilation episodes unlock respiration 3-4; episodes need two chartings within 14 clock hours', () => {
    const tables = new MimicSofaTables();
    const id = stay(tables, 1);
    // Episode 1: CMV/ASSIST at 01 10:10 and 01 14:10 -> [10:10, 14:10 (next charting)]; the next charting (Nasal
    // cannula with an O2 flow) at 01 16:00 ends it there: invasive until 16:00.
    chart(tables, 1, ITEM.ventilatorMode, '01 10:10:00', 'CMV/ASSIST', null);
    chart(tables, 1, ITEM.ventilatorMode, '01 14:10:00', 'CMV/ASSIST', null);
    chart(tables, 1, ITEM.o2Device, '01 16:00:00', 'Nasal cannula', null);
    chart(tables, 1, 223834, '01 16:00:00', null, 2); // O2 flow 2 L/min at the same time
    chart(tables, 1, ITEM.o2Device, '01 18:00:00', 'Nasal cannula', null);
    chart(tables, 1, 223834, '01 18:00:00', null, 2);
    gas(tables, 1, '01 15:30:00', 60, 100); // P/F 60 under ventilation -> 4 (row 6)
    gas(tables, 1, '01 16:30:00', 60, 100); // after the episode -> capped 2 (row 7)
    // A single charting is no episode: SIMV once at 02 06:00 -> gas at 02 06:00 not ventilated.
    chart(tables, 1, ITEM.ventilatorMode, '02 06:00:00', 'SIMV', null);
    gas(tables, 1, '02 06:00:00', 150, 100); // row 20: P/F 150 -> 3, but not ventilated -> 2
    // An endotracheal tube charted without an O2 flow at that time is not seen by oxygen_delivery.sql.
    chart(tables, 1, ITEM.o2Device, '02 20:00:00', 'Endotracheal tube', null);
    chart(tables, 1, ITEM.o2Device, '02 22:00:00', 'Endotracheal tube', null);
    gas(tables, 1, '02 21:00:00', 90, 100); // row 35: not ventilated -> 2
    const s = score(tables, id);
    assert.equal(hour(s, 6).inputs.pao2fio2ratioVent, 60);
    assert.equal(hour(s, 6).hourly.respiration, 4);
    assert.equal(hour(s, 7).inputs.pao2fio2ratioNovent, 60);
    assert.equal(hour(s, 7).hourly.respiration, 2);
    assert.equal(hour(s, 20).hourly.respiration, 2);
    assert.equal(hour(s, 35).hourly.respiration, 2);
  });

  test('vasopressors: the rate running at the hour end, no minimum duration; dobutamine 2; vasopressin and phenylephrine ignored', () => {
    const tables = new MimicSofaTables();
    const id = stay(tables, 1);
    vaso(tables, 1, ITEM.norepinephrine, '01 10:30:00', '01 11:00:00', 0.05); // ends exactly at row 1's end -> 3
    vaso(tables, 1, ITEM.norepinephrine, '01 12:10:00', '01 12:50:00', 0.5); // no hour end inside: never counted
    vaso(tables, 1, ITEM.dobutamine, '01 13:00:00', '01 15:00:00', 5); // ends of rows 4 and 5 -> 2 (starttime < end)
    vaso(tables, 1, 222315, '01 16:00:00', '01 20:00:00', 2.4); // vasopressin: ignored
    vaso(tables, 1, 221749, '01 16:00:00', '01 20:00:00', 1); // phenylephrine: ignored
    vaso(tables, 1, ITEM.epinephrine, '02 10:00:00', '02 11:00:00', 0.11); // row 25 -> 4
    vaso(tables, 1, ITEM.norepinephrine, '02 12:30:00', '02 13:00:00', 0.0002, 'mg/kg/min'); // x1000 = 0.2 -> 4 (row 27)
    vaso(tables, 1, ITEM.dopamine, '02 14:30:00', '02 15:00:00', 5); // 5 is not > 5 -> 2 (row 29)
    const s = score(tables, id);
    assert.equal(hour(s, 1).hourly.cardiovascular, 3);
    assert.equal(hour(s, 2).hourly.cardiovascular, null, 'the 12:10-12:50 infusion covers no hour end');
    assert.equal(hour(s, 3).hourly.cardiovascular, null);
    assert.equal(hour(s, 4).hourly.cardiovascular, 2, 'dobutamine is running at 14:00');
    assert.equal(hour(s, 3).inputs.rateDobutamine, null, 'an infusion starting at 13:00 is not running at 13:00 (starttime < end)');
    assert.equal(hour(s, 5).hourly.cardiovascular, 2);
    assert.equal(hour(s, 7).hourly.cardiovascular, null, 'vasopressin and phenylephrine do not count');
    assert.equal(hour(s, 25).hourly.cardiovascular, 4);
    assert.equal(hour(s, 27).inputs.rateNorepinephrine, 0.2);
    assert.equal(hour(s, 29).hourly.cardiovascular, 2);
    // The 24 h value carries the 3 of row 1 through row 24.
    assert.deepEqual(series(s, 'cardiovascular', 0, 2), [0, 3, 3]);
    assert.equal(hour(s, 24).components.cardiovascular, 3);
  });

  test('MAP: the lowest per hour of the average of the MAP items charted at one time', () => {
    const tables = new MimicSofaTables();
    const id = stay(tables, 1);
    chart(tables, 1, 220052, '01 10:15:00', null, 68); // arterial 68 and non-invasive 74 at one time: mean 71 -> 0
    chart(tables, 1, 220181, '01 10:15:00', null, 74);
    chart(tables, 1, 220181, '01 11:15:00', null, 69.9); // -> 1
    chart(tables, 1, 220181, '01 11:20:00', null, 300); // out of range (>= 300): ignored
    const s = score(tables, id);
    assert.equal(hour(s, 1).inputs.meanbpMin, 71);
    assert.equal(hour(s, 1).hourly.cardiovascular, 0);
    assert.equal(hour(s, 2).hourly.cardiovascular, 1);
  });

  test('GCS: verbal charted as intubated gives 15; components carried forward from the previous charting within 6 h', () => {
    const tables = new MimicSofaTables();
    const id = stay(tables, 1);
    chart(tables, 1, ITEM.gcsVerbal, '01 10:30:00', 'No Response-ETT', null); // 15 (row 1)
    chart(tables, 1, ITEM.gcsMotor, '01 10:30:00', null, 1);
    chart(tables, 1, ITEM.gcsEyes, '01 10:30:00', null, 1);
    chart(tables, 1, ITEM.gcsMotor, '01 12:30:00', null, 5); // verbal missing, previous intubated: 15 (row 3)
    chart(tables, 1, ITEM.gcsEyes, '01 19:30:00', null, 2); // previous 7 h ago: nothing carried, 6 + 5 + 2 = 13 -> 1 (row 10)
    chart(tables, 1, ITEM.gcsVerbal, '01 20:30:00', null, 3); // eyes 2 carried, motor imputed 6: 6 + 3 + 2 = 11 -> 2 (row 11)
    const s = score(tables, id);
    assert.equal(hour(s, 1).inputs.gcsMin, 15);
    assert.equal(hour(s, 1).hourly.cns, 0);
    assert.equal(hour(s, 3).inputs.gcsMin, 15);
    assert.equal(hour(s, 10).inputs.gcsMin, 13);
    assert.equal(hour(s, 11).inputs.gcsMin, 11);
    assert.deepEqual(series(s, 'cns', 9, 12), [0, 1, 2, 2]);
  });

  test('urine output: 23 h look-back at each charting, scaled to 24 h only when 22-30 h are covered', () => {
    const tables = new MimicSofaTables();
    const id = stay(tables, 1, { firstHeartRate: '01 09:00:00' });
    // 20 mL every hour from 01 10:00: the first charting covers 60 min since the first heart rate.
    for (let k = 1; k <= 40; k++) {
      const at = new Date(t('01 09:00:00') + k * 3_600_000).toISOString().slice(8, 19).replace('T', ' ');
      urine(tables, 1, at, 20);
    }
    const s = score(tables, id);
    // Charting k covers min(k, 24) hours (23 h look-back window holds 24 chartings).
    // k = 21 (row 21): 21 h covered -> not scaled, no score; k = 22: 440 mL / 22 h x 24 = 480 -> 3.
    assert.equal(hour(s, 21).inputs.uo24hr, null);
    assert.equal(hour(s, 21).hourly.renal, null);
    assert.equal(hour(s, 22).inputs.uo24hr, 480);
    assert.equal(hour(s, 22).hourly.renal, 3);
    assert.equal(hour(s, 30).inputs.uo24hr, 480);
  });

  test('urine output: GU irrigant in counts negative; a 30.5 h coverage is not scored', () => {
    const tables = new MimicSofaTables();
    const id = stay(tables, 1, { firstHeartRate: '01 09:00:00' });
    // One charting after 22 h: 1000 mL out, 800 mL irrigant in -> 200 mL over 22 h -> 218.18 mL/24 h -> 3.
    urine(tables, 1, '02 07:00:00', 1000, 227489);
    urine(tables, 1, '02 07:00:00', 800, ITEM.urineIrrigantIn);
    const s = score(tables, id);
    assert.equal(hour(s, 22).inputs.uo24hr, (200 / 22) * 24);
    assert.equal(hour(s, 22).hourly.renal, 3);
    const late = new MimicSofaTables();
    const id2 = stay(late, 1, { firstHeartRate: '01 09:00:00' });
    urine(late, 1, '02 15:30:00', 100); // 30.5 h since the first heart rate: outside 22-30 h
    assert.equal(hour(score(late, id2), 31).inputs.uo24hr, null);
  });

  test('missing components are null per hour and 0 in the 24 h sum', () => {
    const tables = new MimicSofaTables();
    const id = stay(tables, 1);
    lab(tables, 1, ITEM.platelets, '01 10:30:00', 40); // 3
    const s = score(tables, id);
    const h = hour(s, 1);
    assert.deepEqual(h.hourly, { respiration: null, coagulation: 3, liver: null, cardiovascular: null, cns: null, renal: null });
    assert.deepEqual(h.components, { respiration: 0, coagulation: 3, liver: 0, cardiovascular: 0, cns: 0, renal: 0 });
    assert.equal(h.total, 3);
  });
});

test('P/F arithmetic: decimal by default (220 / 0.55 = 400 -> 0); float64 reproduces PostgreSQL (399.99... -> 1) for diffing', () => {
  const tables = new MimicSofaTables();
  const id = stay(tables, 1);
  gas(tables, 1, '01 10:30:00', 220, 0.55);
  const decimal = mimicCodeSofa(tables, { stayIds: new Set([id]) })[0]!;
  const float64 = mimicCodeSofa(tables, { stayIds: new Set([id]), pfArithmetic: 'float64' })[0]!;
  assert.equal(hour(decimal, 1).inputs.pao2fio2ratioNovent, 400);
  assert.equal(hour(decimal, 1).hourly.respiration, 0);
  assert.equal(hour(float64, 1).inputs.pao2fio2ratioNovent, 22000 / (0.55 * 100));
  assert.ok(hour(float64, 1).inputs.pao2fio2ratioNovent! < 400);
  assert.equal(hour(float64, 1).hourly.respiration, 1);
});

test('MIMIC-IV timestamps: the fast reader and the ISO writer agree with Date for any instant', async () => {
  const fc = (await import('fast-check')).default;
  const { naiveIso } = await import('../../../src/sources/mimic/sofa/hourly.ts');
  fc.assert(
    fc.property(fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2300, 11, 31, 23, 59, 59) }), (raw) => {
      const ms = Math.floor(raw / 1000) * 1000;
      const iso = new Date(ms).toISOString().slice(0, 19);
      assert.equal(naiveIso(ms), iso);
      assert.equal(parseMimicTime(iso.replace('T', ' ')), ms);
      assert.equal(parseMimicTime(iso), ms);
    }),
    { numRuns: 2000 },
  );
  for (const bad of ['2150-02-30 10:00:00', '2150-13-01 10:00:00', '2150-01-01 24:00:00', '2150-01-01', 'yesterday', '2150-01-01 10:00:0x']) {
    assert.equal(parseMimicTime(bad), null, bad);
  }
  assert.equal(parseMimicTime('2150-01-01 10:00'), Date.UTC(2150, 0, 1, 10, 0));
});
