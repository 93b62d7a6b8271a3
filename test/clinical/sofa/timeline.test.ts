/** SOFA windows over time: day and hour grids, pairing, ventilation, vasopressor runs, urine coverage, missing data. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sofaDays, sofaHours } from '../../../src/clinical/sofa/index.ts';
import type { Concept, Measurement } from '../../../src/clinical/types.ts';
import { normalize } from '../../../src/clinical/units.ts';

const T0 = '2026-01-05T08:00:00.000Z';
const at = (hours: number): string => new Date(Date.parse(T0) + hours * 3_600_000).toISOString();
let seq = 0;
function m(concept: Concept, value: number, unit: string, hours: number, endHours?: number): Measurement {
  const normalized = normalize(concept, value, unit);
  if (!normalized.ok) throw new Error(normalized.error.message);
  return {
    patientId: 'P',
    concept,
    value: normalized.value.value,
    unit: normalized.value.unit,
    time: at(hours),
    ...(endHours !== undefined ? { endTime: at(endHours) } : {}),
    provenance: { source: 'test', recordId: String(++seq) },
    ...(normalized.value.unit !== unit ? { reported: { value, unit } } : {}),
  };
}

describe('day windows', () => {
  test('day k is [start + 24(k-1) h, start + 24k h) under vincent1996; missing components are listed and count 0', () => {
    const data = [m('platelets', 90, '10*3/uL', 0), m('platelets', 40, '10*3/uL', 24), m('gcs', 14, '{score}', 23.99)];
    const days = sofaDays(data, { preset: 'vincent1996' });
    assert.deepEqual(days.map((d) => [d.day, d.components.coagulation, d.components.cns, d.total]), [
      [1, 2, 1, 3],
      [2, 3, null, 3],
    ]);
    assert.deepEqual(days[1]!.missing, ['respiration', 'liver', 'cardiovascular', 'cns', 'renal']);
    assert.equal(days[0]!.start, T0);
    assert.equal(days[0]!.end, at(24));
  });

  test('day windows are [from, to) under every preset; mimic-iv hourly windows are (end - 24 h, end]', () => {
    const data = [m('platelets', 200, '10*3/uL', 0), m('platelets', 40, '10*3/uL', 24)];
    for (const preset of ['mimic-iv', 'vincent1996']) {
      assert.deepEqual(sofaDays(data, { preset, start: T0 }).map((d) => d.components.coagulation), [0, 3], preset);
    }
    const hours = sofaHours(data, { start: T0, hours: 24, preset: 'mimic-iv' });
    assert.equal(hours[23]!.components.coagulation, 3, 'the value at the hour end belongs to that hour');
    assert.equal(sofaHours(data, { start: T0, hours: 24, preset: 'vincent1996' })[23]!.components.coagulation, 0);
  });

  test('--start moves the grid', () => {
    const data = [m('platelets', 90, '10*3/uL', 0), m('platelets', 40, '10*3/uL', 30)];
    const days = sofaDays(data, { preset: 'vincent1996', start: at(-12) });
    assert.deepEqual(days.map((d) => [d.start, d.components.coagulation]), [
      [at(-12), 2],
      [at(12), 3],
    ]);
  });

  test('the worst value of the window decides and is named in the basis', () => {
    const days = sofaDays([m('gcs', 14, '{score}', 1), m('gcs', 8, '{score}', 5), m('gcs', 15, '{score}', 9)], { preset: 'vincent1996' });
    assert.equal(days[0]!.components.cns, 3);
    assert.equal(days[0]!.basis.cns![0]!.value, 8);
    assert.equal(days[0]!.basis.cns![0]!.time, at(5));
  });
});

describe('respiration', () => {
  test('PaO2 pairs with FiO2 charted up to 4 h earlier; none within 4 h gives no ratio (no room-air default)', () => {
    const paired = sofaDays([m('fio2', 0.5, '1', 0), m('pao2', 90, 'mm[Hg]', 3.5), m('mechanical_ventilation', 1, '1', 0)], { preset: 'mimic-iv', start: at(-1) });
    assert.equal(paired[0]!.components.respiration, 3, 'P/F 180 ventilated');
    const stale = sofaDays([m('fio2', 0.5, '1', 0), m('pao2', 90, 'mm[Hg]', 4.5)], { preset: 'mimic-iv', start: at(-1) });
    assert.equal(stale[0]!.components.respiration, null);
    assert.ok(stale[0]!.missing.includes('respiration'));
  });

  test('3-4 need ventilation; without it the score caps at 2', () => {
    const data = (vent: number) => [m('fio2', 0.8, '1', 0), m('pao2', 60, 'mm[Hg]', 0), m('mechanical_ventilation', vent, '1', 0)];
    assert.equal(sofaDays(data(1), { preset: 'vincent1996' })[0]!.components.respiration, 4);
    assert.equal(sofaDays(data(0), { preset: 'vincent1996' })[0]!.components.respiration, 2);
  });

  test('FiO2 in percent and PaO2 in kPa score as the table says (220 / 0.55 = 400 scores 0; 53.3 kPa / 1.0 scores 0)', () => {
    const percent = sofaDays([m('fio2', 55, '%', 0), m('pao2', 220, 'mm[Hg]', 0)], { preset: 'vincent1996' });
    assert.equal(percent[0]!.components.respiration, 0);
    const kPa = sofaDays([m('fio2', 1, '1', 0), m('pao2', 53.3, 'kPa', 0)], { preset: 'vincent1996' });
    assert.equal(kPa[0]!.components.respiration, 0);
    const kPaLow = sofaDays([m('fio2', 1, '1', 0), m('pao2', 53.2, 'kPa', 0)], { preset: 'vincent1996' });
    assert.equal(kPaLow[0]!.components.respiration, 1);
  });
});

describe('cardiovascular', () => {
  test('a 30-minute norepinephrine run counts under mimic-iv when it spans an hour end, never under vincent1996 (>= 1 h)', () => {
    const spanning = [m('map', 75, 'mm[Hg]', 0), m('norepinephrine', 0.05, 'ug/kg/min', 2.75, 3.25)];
    assert.equal(sofaDays(spanning, { preset: 'mimic-iv', start: T0 })[0]!.components.cardiovascular, 3);
    assert.equal(sofaDays(spanning, { preset: 'vincent1996', start: T0 })[0]!.components.cardiovascular, 0);
    const within = [m('map', 75, 'mm[Hg]', 0), m('norepinephrine', 0.05, 'ug/kg/min', 2.1, 2.6)];
    assert.equal(sofaDays(within, { preset: 'mimic-iv', start: T0 })[0]!.components.cardiovascular, 0, 'not running at any hour end');
  });

  test('contiguous charted rates form one run: two 30-minute rates make a 1 h run under vincent1996', () => {
    const data = [m('map', 65, 'mm[Hg]', 0), m('norepinephrine', 0.2, 'ug/kg/min', 2, 2.5), m('norepinephrine', 0.08, 'ug/kg/min', 2.5, 3)];
    const day = sofaDays(data, { preset: 'vincent1996', start: T0 })[0]!;
    assert.equal(day.components.cardiovascular, 4);
  });

  test('point rates hold until the next charting (at most 1 h)', () => {
    const data = [m('dopamine', 6, 'ug/kg/min', 1), m('dopamine', 6, 'ug/kg/min', 2), m('dopamine', 0, 'ug/kg/min', 3)];
    assert.equal(sofaDays(data, { preset: 'vincent1996', start: T0 })[0]!.components.cardiovascular, 3);
    const single = [m('dopamine', 6, 'ug/kg/min', 1)];
    assert.equal(sofaDays(single, { preset: 'vincent1996', start: T0 })[0]!.components.cardiovascular, 3, 'held 1 h = the minimum');
  });
});

describe('renal', () => {
  // A collection is charted at its end: the window holds the collections that end in it.
  const collections = (starts: number[], ml: number, hours = 6) => starts.map((h) => m('urine_output', ml, 'mL', h, h + hours));

  test('urine output over 24 h of charting: 440 mL/day scores 3, 190 mL/day scores 4', () => {
    const day = sofaDays(collections([-6, 0, 6, 12], 110), { preset: 'vincent1996', start: T0, days: 1 })[0]!;
    assert.equal(day.components.renal, 3);
    assert.equal(day.basis.renal![0]!.value, 440);
    const anuric = sofaDays(collections([-6, 0, 6, 12], 47.5), { preset: 'vincent1996', start: T0, days: 1 })[0]!;
    assert.equal(anuric.components.renal, 4);
  });

  test('fewer than 22 h of charting: no urine output value (never scaled up from a few hours)', () => {
    const day = sofaDays(collections([-6, 0, 6], 20), { preset: 'vincent1996', start: T0, days: 1 })[0]!;
    assert.equal(day.components.renal, null);
    assert.ok(day.missing.includes('renal'));
  });

  test('22 h of charting is scaled to 24 h (400 mL over 22 h = 436 mL/day: 3)', () => {
    const day = sofaDays([m('urine_output', 400, 'mL', -4, 18)], { preset: 'vincent1996', start: T0, days: 1 })[0]!;
    assert.equal(day.components.renal, 3);
    assert.equal(Math.round(day.basis.renal![0]!.value), 436);
  });

  test('the worse of creatinine and urine output decides', () => {
    const data = [...collections([-6, 0, 6, 12], 150), m('creatinine', 2.1, 'mg/dL', 3)];
    assert.equal(sofaDays(data, { preset: 'vincent1996', start: T0, days: 1 })[0]!.components.renal, 2, '600 mL/day scores 0, creatinine 2');
    const worse = [...collections([-6, 0, 6, 12], 100), m('creatinine', 2.1, 'mg/dL', 3)];
    assert.equal(sofaDays(worse, { preset: 'vincent1996', start: T0, days: 1 })[0]!.components.renal, 3);
  });

  test('creatinine and bilirubin reported in umol/L score against the printed SI column', () => {
    const data = [m('creatinine', 110, 'umol/L', 1), m('bilirubin', 20, 'umol/L', 1)];
    const day = sofaDays(data, { preset: 'vincent1996' })[0]!;
    assert.equal(day.components.renal, 1, '110 umol/L is 1.244 mg/dL: 1 either way');
    assert.equal(day.components.liver, 1, '20 umol/L = 1.17 mg/dL would be 0; the printed SI band says 1');
    assert.equal(day.basis.liver![0]!.unit, 'umol/L');
  });
});

describe('hourly rolling windows', () => {
  test('hour h scores the 24 h ending at start + (h + 1) h', () => {
    const data = [m('platelets', 40, '10*3/uL', 0.5), m('platelets', 120, '10*3/uL', 10)];
    const hours = sofaHours(data, { start: T0, hours: 36, preset: 'mimic-iv' });
    assert.equal(hours.length, 36);
    assert.equal(hours[0]!.components.coagulation, 3);
    assert.equal(hours[23]!.components.coagulation, 3, 'the 40 is still inside (end - 24 h, end]');
    assert.equal(hours[24]!.components.coagulation, 1, 'the 40 left the window');
    assert.equal(hours[0]!.end, at(1));
    assert.equal(hours[35]!.hr, 35);
  });
});
