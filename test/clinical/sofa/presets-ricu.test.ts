/**
 * The `ricu` preset against `mimic-iv` where their conventions differ (CLINICAL.md section 6):
 * FiO2 matched within 2 h with 21 % imputed, catecholamines counted only in runs >= 60 min and
 * above 0, urine over >= 12 h scaled to 24 h. Expected values worked out in the comments.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIMIC_IV_PRESET, RICU_PRESET, SOFA_PRESETS, type SofaDay, type SofaMeasurement, type SofaParameters, checkSofaParameters, scoreSofaDays } from '../../../src/clinical/sofa/index.ts';
import { T0, m } from './support.ts';

function day1(parameters: SofaParameters, data: readonly SofaMeasurement[]): SofaDay {
  const result = scoreSofaDays(data, { parameters, start: T0, days: 1 });
  if (!result.ok) assert.fail(result.error.message);
  const day = result.value.days[0];
  assert.ok(day);
  return day;
}

test('ricu is a preset with valid parameters and its own threshold table', () => {
  assert.equal(SOFA_PRESETS.ricu, RICU_PRESET);
  assert.deepEqual(checkSofaParameters(RICU_PRESET), []);
  assert.equal(RICU_PRESET.thresholds.id, 'sofa-ricu');
});

test('a gas without FiO2: ricu assumes 21 %, mimic-iv leaves respiration missing', () => {
  const gas = [m('pao2', 80, 'mm[Hg]', 1)];
  // 80 / 0.21 = 380.95 -> 1.
  assert.equal(day1(RICU_PRESET, gas).components.respiration, 1);
  assert.equal(day1(MIMIC_IV_PRESET, gas).components.respiration, null);
});

test('FiO2 charted 1.5 h AFTER the gas: matched by ricu (within 2 h either way), not by mimic-iv (4 h before only)', () => {
  const data = [m('pao2', 150, 'mm[Hg]', 1), m('fio2', 50, '%', 2.5)];
  // ricu: 150 / 0.5 = 300 -> 1; mimic-iv: no FiO2 before the gas -> missing.
  assert.equal(day1(RICU_PRESET, data).components.respiration, 1);
  assert.equal(day1(MIMIC_IV_PRESET, data).components.respiration, null);
});

test('a 30-minute norepinephrine run at an hour end: 3 under mimic-iv, nothing under ricu (runs >= 60 min)', () => {
  const data = [m('map', 75, 'mm[Hg]', 0), m('norepinephrine', 0.05, 'ug/kg/min', 2.75, 3.25)];
  assert.equal(day1(MIMIC_IV_PRESET, data).components.cardiovascular, 3);
  assert.equal(day1(RICU_PRESET, data).components.cardiovascular, 0);
  // A 2 h run counts under both.
  const long = [m('map', 75, 'mm[Hg]', 0), m('norepinephrine', 0.05, 'ug/kg/min', 2, 4)];
  assert.equal(day1(RICU_PRESET, long).components.cardiovascular, 3);
  assert.equal(day1(MIMIC_IV_PRESET, long).components.cardiovascular, 3);
});

test('a norepinephrine rate of 0 running for hours: 3 under mimic-iv (rate <= 0.1), 0 under ricu (rate > 0 needed)', () => {
  const data = [m('map', 75, 'mm[Hg]', 0), m('norepinephrine', 0, 'ug/kg/min', 2, 5)];
  assert.equal(day1(MIMIC_IV_PRESET, data).components.cardiovascular, 3);
  assert.equal(day1(RICU_PRESET, data).components.cardiovascular, 0);
});
