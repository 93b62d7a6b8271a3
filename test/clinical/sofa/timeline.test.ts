/**
 * SOFA over time: day and hourly windows, P/F pairing and ventilation, catecholamine dose rules,
 * urine output coverage, missing components and the evidence behind each score. Expected values
 * are worked out by hand in the comments.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  MIMIC_IV_PRESET,
  type OrganScore,
  SOFA_COMPONENTS,
  type SofaDay,
  type SofaMeasurement,
  type SofaParameters,
  VINCENT_1996_PRESET,
  scoreCns,
  scoreCoagulation,
  scoreLiver,
  scoreMap,
  scoreSofaDays,
  scoreSofaHours,
  sofaDays,
  sofaDaysByPatient,
} from '../../../src/clinical/sofa/index.ts';
import { T0, at, m } from './support.ts';

const PRESETS = [MIMIC_IV_PRESET, VINCENT_1996_PRESET] as const;

function days(parameters: SofaParameters, data: readonly SofaMeasurement[], options: { start?: string; days?: number; until?: string } = {}): SofaDay[] {
  const result = scoreSofaDays(data, { parameters, ...options });
  if (!result.ok) assert.fail(result.error.message);
  return result.value.days;
}

function day1(parameters: SofaParameters, data: readonly SofaMeasurement[], start = T0): SofaDay {
  const first = days(parameters, data, { start, days: 1 })[0];
  assert.ok(first);
  return first;
}

describe('day windows', () => {
  test('day k is [start + 24(k-1) h, start + 24k h) under every preset; missing components are listed and count 0', () => {
    const data = [m('platelets', 90, '10*3/uL', 0), m('platelets', 40, '10*3/uL', 24), m('gcs', 14, '{score}', 23.99)];
    for (const parameters of PRESETS) {
      const scored = days(parameters, data);
      // Day 1 [T0, T0+24h): platelets 90 -> 2, GCS 14 -> 1. Day 2 [T0+24h, T0+48h): platelets 40 -> 3.
      assert.deepEqual(scored.map((d) => [d.day, d.start, d.end, d.interval, d.components.coagulation, d.components.cns, d.total]), [
        [1, T0, at(24), '[start, end)', 2, 1, 3],
        [2, at(24), at(48), '[start, end)', 3, null, 3],
      ], parameters.id);
      assert.deepEqual(scored[0]?.missing, ['respiration', 'liver', 'cardiovascular', 'renal']);
      assert.deepEqual(scored[1]?.missing, ['respiration', 'liver', 'cardiovascular', 'cns', 'renal']);
      assert.deepEqual(Object.keys(scored[1]?.evidence ?? {}), ['coagulation'], 'evidence only for scored components');
    }
  });

  test('start moves the grid and leaves earlier values out; days and until bound the count', () => {
    const data = [m('platelets', 90, '10*3/uL', 0), m('platelets', 40, '10*3/uL', 30)];
    assert.deepEqual(days(MIMIC_IV_PRESET, data, { start: at(-12) }).map((d) => [d.start, d.components.coagulation]), [
      [at(-12), 2],
      [at(12), 3],
    ]);
    // Starting at T0 + 1 h: the 90 at T0 is before day 1.
    assert.deepEqual(days(MIMIC_IV_PRESET, data, { start: at(1) }).map((d) => d.components.coagulation), [null, 3]);
    assert.equal(days(MIMIC_IV_PRESET, data, { days: 5 }).length, 5);
    assert.equal(days(MIMIC_IV_PRESET, data, { until: at(24) }).length, 1, 'only days starting before until');
    assert.equal(days(MIMIC_IV_PRESET, data, { until: at(24.001) }).length, 2);
    const result = scoreSofaDays(data, { start: at(-12) });
    assert.ok(result.ok);
    assert.deepEqual([result.value.patientId, result.value.start, result.value.preset.id, result.value.thresholds.id], ['P', at(-12), 'mimic-iv', 'sofa-mimic-iv']);
  });

  test('the worst value decides and is named with its time, provenance and the comparison that fired', () => {
    const data = [m('gcs', 14, '{score}', 1), m('gcs', 8, '{score}', 5), m('gcs', 15, '{score}', 9), m('platelets', 40, '10*3/uL', 2), m('platelets', 30, '10*3/uL', 3)];
    const day = day1(VINCENT_1996_PRESET, data);
    assert.equal(day.components.cns, 3);
    const cns = day.evidence.cns;
    assert.ok(cns);
    assert.deepEqual([cns.value, cns.time, cns.comparison, cns.scale], [8, at(5), 'GCS 8 < 10: 3', 'cns.gcs']);
    assert.equal(cns.inputs[0]?.provenance?.source, 'test');
    // 40 and 30 both score 3: the lower count is the worst input.
    assert.equal(day.evidence.coagulation?.value, 30);
    assert.equal(day.evidence.coagulation?.comparison, 'platelets 30 x10^3/uL < 50 x10^3/uL: 3');
  });
});

describe('hourly rolling 24 h windows', () => {
  test('mimic-iv: row hr covers (end - 24 h, end], the grid starts at the first measurement rounded up to the hour', () => {
    // First measurement 08:30 -> hr 0 ends 09:00; the 40 at 08:30 is in rows 0..23 (row 23 ends
    // 08:00 next day: window (08:00, 08:00]); row 24 ends 09:00 next day and has left it.
    const data = [m('platelets', 40, '10*3/uL', 0.5), m('platelets', 120, '10*3/uL', 10)];
    const result = scoreSofaHours(data, { parameters: MIMIC_IV_PRESET, until: at(40) });
    assert.ok(result.ok);
    const { anchor, hours } = result.value;
    assert.equal(anchor, at(1));
    assert.equal(hours.length, 40, 'rows 0..39: the last ends at T0 + 40 h');
    assert.deepEqual([hours[0]?.hr, hours[0]?.hourStart, hours[0]?.start, hours[0]?.end, hours[0]?.interval], [0, T0, at(-23), at(1), '(start, end]']);
    assert.deepEqual(hours.slice(0, 10).map((h) => h.components.coagulation), [3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
    assert.equal(hours[23]?.components.coagulation, 3);
    assert.equal(hours[24]?.components.coagulation, 1, 'the 40 has left; the 120 at T0 + 10 h remains');
    assert.equal(hours[34]?.components.coagulation, null, 'row 34 ends T0 + 35 h: (T0 + 11 h, T0 + 35 h] holds nothing');
  });

  test('a value exactly on an hour end belongs to the hour it ends (mimic-iv) or to the next one (vincent1996)', () => {
    const data = [m('platelets', 40, '10*3/uL', 0)];
    const mimic = scoreSofaHours(data, { parameters: MIMIC_IV_PRESET, anchor: T0, until: at(26) });
    const vincent = scoreSofaHours(data, { parameters: VINCENT_1996_PRESET, anchor: T0, until: at(26) });
    assert.ok(mimic.ok && vincent.ok);
    const coag = (rows: typeof mimic.value.hours) => [0, 1, 23, 24, 25].map((hr) => rows[hr]?.components.coagulation);
    // mimic-iv (end - 24, end]: rows 0..23 hold T0; vincent1996 [end - 24, end): rows 1..24 hold T0.
    assert.deepEqual(coag(mimic.value.hours), [3, 3, 3, null, null]);
    assert.deepEqual(coag(vincent.value.hours), [null, 3, 3, 3, null]);
    assert.equal(vincent.value.hours[1]?.interval, '[start, end)');
  });
});

describe('respiration: P/F pairing and ventilation', () => {
  const vent = (hours: number, endHours?: number) => m('mechanical_ventilation', 1, '1', hours, endHours);

  test('PaO2 pairs with the FiO2 of the same time, else the latest within 4 h; none: no P/F (no room-air default)', () => {
    for (const parameters of PRESETS) {
      // 90 / 0.5 = 180 ventilated -> 3.
      assert.equal(day1(parameters, [m('fio2', 0.5, '1', 0), m('pao2', 90, 'mm[Hg]', 3.5), vent(0, 10)]).components.respiration, 3);
      assert.equal(day1(parameters, [m('fio2', 0.5, '1', 0), m('pao2', 90, 'mm[Hg]', 4), vent(0, 10)]).components.respiration, 3, '4 h is within');
      const stale = day1(parameters, [m('fio2', 0.5, '1', 0), m('pao2', 90, 'mm[Hg]', 4.01)]);
      assert.equal(stale.components.respiration, null);
      assert.ok(stale.missing.includes('respiration'));
      assert.equal(day1(parameters, [m('fio2', 0.5, '1', 0.5), m('pao2', 90, 'mm[Hg]', 0)]).components.respiration, null, 'an FiO2 after the gas is not used');
      // FiO2 0.3 at 0 and 0.6 at 2 with the gas at 2: 150 / 0.6 = 250 -> 2 (not 150 / 0.3 = 500 -> 0).
      const same = day1(parameters, [m('fio2', 0.3, '1', 0), m('fio2', 60, '%', 2), m('pao2', 150, 'mm[Hg]', 2)]);
      assert.equal(same.components.respiration, 2);
      assert.equal(same.evidence.respiration?.value, 250);
      assert.match(same.evidence.respiration?.derivation ?? '', /PaO2 150 mmHg \/ FiO2 0.6 of the same time = 250 mmHg; not on invasive ventilation/);
    }
  });

  test('a room-air default is a parameter (as ricu imputes 21 %)', () => {
    const roomAir: SofaParameters = { ...MIMIC_IV_PRESET, id: 'custom', respiration: { ...MIMIC_IV_PRESET.respiration, fio2: { lookbackHours: 4, lookaheadHours: 0, whenMissing: 0.21 } } };
    // 60 / 0.21 = 285.71 -> 2.
    const day = day1(roomAir, [m('pao2', 60, 'mm[Hg]', 1)]);
    assert.equal(day.components.respiration, 2);
    assert.match(day.evidence.respiration?.derivation ?? '', /FiO2 0.21 assumed/);
  });

  test('3-4 only while invasively ventilated: an interval covers [start, end], both edges included', () => {
    const gas = (hours: number) => [m('fio2', 1, '1', hours), m('pao2', 60, 'mm[Hg]', hours)];
    for (const parameters of PRESETS) {
      const score = (hours: number) => day1(parameters, [vent(2, 10), ...gas(hours)]).components.respiration;
      assert.deepEqual([1.99, 2, 5, 10, 10.01].map(score), [2, 4, 4, 4, 2], parameters.id);
    }
  });

  test('a charted status holds until the next status within 14 h; a 0 ends it; a last status covers only its instant', () => {
    const gas = (hours: number) => [m('fio2', 1, '1', hours), m('pao2', 60, 'mm[Hg]', hours)];
    const statuses = [vent(0), m('mechanical_ventilation', 1, '1', 4), m('mechanical_ventilation', 0, '1', 8), vent(12), vent(27)];
    const score = (hours: number) => day1(MIMIC_IV_PRESET, [...statuses, ...gas(hours)]).components.respiration;
    // 0 -> 4 -> 8 (0): ventilated [0, 8]; 12 -> next status 27 is 15 h later: only the instant 12.
    assert.deepEqual([3, 7.9, 8, 9, 12, 13].map(score), [4, 4, 4, 2, 4, 2]);
  });

  test('the worst gas scores, ventilated or not: unventilated 68 (capped 2) and ventilated 120 give 3, not 4', () => {
    // mimic-code's own example in sofa.sql.
    const data = [m('fio2', 1, '1', 1), m('pao2', 68, 'mm[Hg]', 1), vent(5, 8), m('fio2', 0.5, '1', 6), m('pao2', 60, 'mm[Hg]', 6)];
    for (const parameters of PRESETS) {
      const day = day1(parameters, data);
      assert.equal(day.components.respiration, 3);
      assert.equal(day.evidence.respiration?.value, 120);
      assert.equal(day.evidence.respiration?.inputs.length, 2, 'PaO2 and FiO2');
    }
  });
});

describe('cardiovascular: catecholamine dose rules', () => {
  const map75 = m('map', 75, 'mm[Hg]', 0);

  test('a 30-minute infusion counts under mimic-iv when it runs at an hour end, never under vincent1996 (>= 1 h)', () => {
    const spanning = [map75, m('norepinephrine', 0.05, 'ug/kg/min', 2.75, 3.25)];
    assert.equal(day1(MIMIC_IV_PRESET, spanning).components.cardiovascular, 3);
    assert.match(day1(MIMIC_IV_PRESET, spanning).evidence.cardiovascular?.derivation ?? '', /running at the end of the hour ending 2026-01-05T11:00:00Z/);
    assert.equal(day1(VINCENT_1996_PRESET, spanning).components.cardiovascular, 0);
    const within = [map75, m('norepinephrine', 0.05, 'ug/kg/min', 2.1, 2.6)];
    assert.equal(day1(MIMIC_IV_PRESET, within).components.cardiovascular, 0, 'not running at any hour end');
    // Ending exactly on the hour counts (start < end <= stop); starting on it does not.
    assert.equal(day1(MIMIC_IV_PRESET, [map75, m('norepinephrine', 0.05, 'ug/kg/min', 2.5, 3)]).components.cardiovascular, 3);
    assert.equal(day1(MIMIC_IV_PRESET, [map75, m('norepinephrine', 0.05, 'ug/kg/min', 3, 3.5)]).components.cardiovascular, 0);
  });

  test('vincent1996 scores the highest rate HELD for 1 h across charted rate changes', () => {
    const score = (...data: SofaMeasurement[]) => day1(VINCENT_1996_PRESET, [map75, ...data]).components.cardiovascular;
    // 0.2 for 30 min then 0.08 for 30 min: only 0.08 was given for an hour -> 3.
    assert.equal(score(m('norepinephrine', 0.2, 'ug/kg/min', 2, 2.5), m('norepinephrine', 0.08, 'ug/kg/min', 2.5, 3)), 3);
    // 0.2 for 36 min then 0.15 for 30 min: > 0.1 held for over an hour -> 4.
    assert.equal(score(m('norepinephrine', 0.2, 'ug/kg/min', 2, 2.6), m('norepinephrine', 0.15, 'ug/kg/min', 2.6, 3.1)), 4);
    // A gap breaks the run: 0.2 [2, 2.5) and [2.6, 3.1) is never 1 h.
    assert.equal(score(m('norepinephrine', 0.2, 'ug/kg/min', 2, 2.5), m('norepinephrine', 0.2, 'ug/kg/min', 2.6, 3.1)), 0);
    const day = day1(VINCENT_1996_PRESET, [map75, m('norepinephrine', 0.2, 'ug/kg/min', 2, 3.5), m('norepinephrine', 0.05, 'ug/kg/min', 3.5, 4)]);
    assert.equal(day.components.cardiovascular, 4);
    assert.match(day.evidence.cardiovascular?.derivation ?? '', /norepinephrine >= 0.2 ug\/kg\/min held from 2026-01-05T10:00:00Z to 2026-01-05T11:30:00Z/);
  });

  test('a rate held across midnight counts on the day it completes its hour', () => {
    // 0.3 from T0 + 23.5 h to T0 + 24.5 h: held 1 h at T0 + 24.5 h, in day 2.
    const data = [m('map', 75, 'mm[Hg]', 0), m('norepinephrine', 0.3, 'ug/kg/min', 23.5, 24.5)];
    assert.deepEqual(days(VINCENT_1996_PRESET, data).map((d) => d.components.cardiovascular), [0, 4]);
  });

  test('overlapping infusions of one drug add up under vincent1996; mimic-iv takes the highest (MAX)', () => {
    const data = [m('norepinephrine', 0.06, 'ug/kg/min', 0, 2), m('norepinephrine', 0.06, 'ug/kg/min', 0, 2)];
    assert.equal(day1(VINCENT_1996_PRESET, data).components.cardiovascular, 4, '0.12 > 0.1');
    assert.equal(day1(MIMIC_IV_PRESET, data).components.cardiovascular, 3);
  });

  test('rates charted without an end run until the next charting of the drug, at most 1 h', () => {
    for (const parameters of PRESETS) {
      // Dopamine 6 at 1 h and 2 h, 0 at 3 h: 6 ug/kg/min over [1, 3) -> 3.
      const data = [m('dopamine', 6, 'ug/kg/min', 1), m('dopamine', 6, 'ug/kg/min', 2), m('dopamine', 0, 'ug/kg/min', 3)];
      assert.equal(day1(parameters, data).components.cardiovascular, 3, parameters.id);
    }
    // A single charting runs [1, 2): exactly the 1 h vincent1996 needs.
    assert.equal(day1(VINCENT_1996_PRESET, [m('dopamine', 6, 'ug/kg/min', 1)]).components.cardiovascular, 3);
    // Charted every 30 min: each runs until the next, and the run lasts 1 h.
    assert.equal(day1(VINCENT_1996_PRESET, [m('dobutamine', 5, 'ug/kg/min', 1), m('dobutamine', 5, 'ug/kg/min', 1.5)]).components.cardiovascular, 2);
  });

  test('a charted epinephrine rate of 0 scores 3 under mimic-iv (its "rate <= 0.1"), 0 under vincent1996', () => {
    const data = [m('epinephrine', 0, 'ug/kg/min', 1, 3)];
    assert.equal(day1(MIMIC_IV_PRESET, data).components.cardiovascular, 3);
    assert.equal(day1(VINCENT_1996_PRESET, data).components.cardiovascular, 0);
  });

  test('the run rule (ricu-like: every rate of a run lasting >= 60 min) is a parameter', () => {
    const runs: SofaParameters = { ...VINCENT_1996_PRESET, id: 'custom', vasopressors: { ...VINCENT_1996_PRESET.vasopressors, dose: { kind: 'run', minimumMinutes: 60 } } };
    const data = [m('norepinephrine', 0.2, 'ug/kg/min', 2, 2.5), m('norepinephrine', 0.08, 'ug/kg/min', 2.5, 3)];
    assert.equal(day1(runs, data).components.cardiovascular, 4, 'the 0.2 is part of a 1 h run');
    assert.equal(day1(runs, [m('norepinephrine', 0.2, 'ug/kg/min', 2, 2.9)]).components.cardiovascular, null, 'a 54-min run does not count');
  });
});

describe('renal: urine output coverage', () => {
  /** Collections of `ml` over `hours` starting at each of `starts` (hours from T0). */
  const collections = (starts: number[], ml: number, hours = 6) => starts.map((h) => m('urine_output', ml, 'mL', h, h + hours));

  test('mimic-iv: at each charting, the chartings of the previous 23 h, scored when 22-30 h are covered, scaled to 24 h', () => {
    // Charted at 0, 6, 12, 18. At 18: chartings ending in [-5, 18] = 4 x 110 mL over 24 h = 440 -> 3.
    // At 12: 330 mL over 18 h: too little coverage, not scored.
    const day = day1(MIMIC_IV_PRESET, collections([-6, 0, 6, 12], 110));
    assert.equal(day.components.renal, 3);
    assert.equal(day.evidence.renal?.value, 440);
    assert.equal(day.evidence.renal?.time, at(18));
    assert.equal(day.evidence.renal?.inputs.length, 4);
    // 400 mL over 22 h -> 400 x 24 / 22 = 436.36 mL/day -> 3.
    const scaled = day1(MIMIC_IV_PRESET, [m('urine_output', 400, 'mL', -4, 18)]);
    assert.equal(scaled.components.renal, 3);
    assert.equal(scaled.evidence.renal?.value, 436.363636364);
    assert.match(scaled.evidence.renal?.derivation ?? '', /400 mL charted over 22 h, scaled to 24 h: 436.363636364 mL/);
    // 20 h of charting: not scored; the component is missing.
    const short = day1(MIMIC_IV_PRESET, [m('urine_output', 100, 'mL', -2, 18)]);
    assert.equal(short.components.renal, null);
    assert.ok(short.missing.includes('renal'));
    // Two identical 18 h rows: 36 h of charting, above 30: not scored.
    assert.equal(day1(MIMIC_IV_PRESET, [m('urine_output', 300, 'mL', 0, 18), m('urine_output', 300, 'mL', 0, 18)]).components.renal, null);
    // 30 h exactly: 600 mL x 24 / 30 = 480 -> 3.
    assert.equal(day1(MIMIC_IV_PRESET, [m('urine_output', 600, 'mL', -12, 18)]).components.renal, 3);
  });

  test('mimic-iv keeps the highest 24 h volume charted within an hour; the preset parameter can keep the worst', () => {
    // At 18.25: 100 mL over 24 h -> 4. At 18.75: 500 mL over 24.5 h = 489.8 mL/day -> 3.
    // Both are charted within the grid hour ending T0 + 19 h.
    const data = [m('urine_output', 100, 'mL', -5.75, 18.25), m('urine_output', 400, 'mL', 18.25, 18.75)];
    assert.equal(day1(MIMIC_IV_PRESET, data).components.renal, 3);
    const worst: SofaParameters = { ...MIMIC_IV_PRESET, id: 'custom', urineOutput: { ...MIMIC_IV_PRESET.urineOutput, withinHour: 'worst' } };
    assert.equal(day1(worst, data).components.renal, 4);
  });

  test('a 24 h volume charted exactly at the end of a day counts in that day (it describes the hours before)', () => {
    // Chartings end at 6, 12, 18, 24: at 24 (the end of day 1), 4 x 100 mL over 24 h = 400 -> 3.
    const data = collections([0, 6, 12, 18], 100);
    for (const parameters of PRESETS) assert.deepEqual(days(parameters, data).map((d) => d.components.renal), [3], parameters.id);
    // mimic-iv hourly: the row ending at T0 + 24 h holds it ((end - 24 h, end]), the next one too.
    const hourly = scoreSofaHours(data, { parameters: MIMIC_IV_PRESET, anchor: T0, until: at(30) });
    assert.ok(hourly.ok);
    assert.deepEqual([23, 24, 25].map((hr) => hourly.value.hours[hr]?.components.renal), [null, 3, 3]);
  });

  test('a volume charted without an interval covers the time since the previous urine charting', () => {
    // First measurement at -1 (a creatinine): the 0 h charting covers [-1, 0) ... the 23 h one [17, 23).
    const data = [m('creatinine', 1, 'mg/dL', -1), ...[0, 6, 12, 17, 23].map((h) => m('urine_output', 90, 'mL', h))];
    // At 23: chartings ending in [0, 23] = 5 x 90 = 450 mL over 24 h -> 3.
    const day = day1(MIMIC_IV_PRESET, data);
    assert.equal(day.components.renal, 3);
    assert.equal(day.evidence.renal?.value, 450);
  });

  test('vincent1996: the volume of the day itself, charted throughout the day, not scaled', () => {
    assert.equal(day1(VINCENT_1996_PRESET, collections([0, 6, 12, 18], 110)).components.renal, 3, '440 mL/day');
    assert.equal(day1(VINCENT_1996_PRESET, collections([0, 6, 12, 18], 47.5)).components.renal, 4, '190 mL/day');
    assert.equal(day1(VINCENT_1996_PRESET, collections([0, 6, 12, 18], 125)).components.renal, 0, '500 mL/day');
    // Charting covers only 18 h of the day: no daily volume, renal missing.
    const short = day1(VINCENT_1996_PRESET, collections([-6, 0, 6, 12], 110));
    assert.equal(short.components.renal, null);
    assert.ok(short.missing.includes('renal'));
  });

  test('vincent1996: an interval across midnight counts pro rata in each day', () => {
    // 400 mL over [0, 20) and 600 mL over [20, 26): day 1 gets 400 + 600 x 4/6 = 800 mL -> 0.
    const data = [m('urine_output', 400, 'mL', 0, 20), m('urine_output', 600, 'mL', 20, 26), m('urine_output', 100, 'mL', 26, 48)];
    const [first, second] = days(VINCENT_1996_PRESET, data);
    assert.equal(first?.components.renal, 0);
    assert.match(first?.evidence.renal?.derivation ?? '', /^800 mL charted over 24 h within/);
    // Day 2: 200 + 100 = 300 mL over 24 h -> 3.
    assert.equal(second?.components.renal, 3);
    assert.equal(second?.evidence.renal?.value, 300);
  });

  test('the worse of creatinine and urine output decides', () => {
    for (const parameters of PRESETS) {
      const adequate = day1(parameters, [...collections([-6, 0, 6, 12, 18], 150), m('creatinine', 2.1, 'mg/dL', 3)]);
      assert.equal(adequate.components.renal, 2, `${parameters.id}: 600 mL/day scores 0, creatinine 2`);
      assert.equal(adequate.evidence.renal?.scale, 'renal.creatinine.mg/dL');
      const oliguric = day1(parameters, [...collections([-6, 0, 6, 12, 18], 100), m('creatinine', 2.1, 'mg/dL', 3)]);
      assert.equal(oliguric.components.renal, 3, `${parameters.id}: 400 mL/day scores 3`);
    }
  });
});

describe('CNS: GCS with the verbal response charted as intubated', () => {
  const intubated: SofaMeasurement = { ...m('gcs', 8, '{score}', 1), qualifiers: { gcsVerbalIntubated: true } };
  test('mimic-iv scores it as GCS 15; vincent1996 as charted', () => {
    const mimic = day1(MIMIC_IV_PRESET, [intubated]);
    assert.equal(mimic.components.cns, 0);
    assert.match(mimic.evidence.cns?.derivation ?? '', /charted total 8.*scored as GCS 15/);
    assert.equal(day1(VINCENT_1996_PRESET, [intubated]).components.cns, 3);
  });
});

describe('inputs the engine refuses', () => {
  test('values not in the canonical unit, times without a zone, several patients: error values', () => {
    const raw: SofaMeasurement = { patientId: 'P', concept: 'bilirubin', value: 20, unit: 'umol/L', time: T0 };
    const notCanonical = scoreSofaDays([raw]);
    assert.equal(notCanonical.ok ? null : notCanonical.error.kind, 'not-canonical-unit');
    const noZone = scoreSofaDays([{ ...m('gcs', 15, '{score}', 0), time: '2026-01-05T08:00:00' }]);
    assert.equal(noZone.ok ? null : noZone.error.kind, 'invalid-time');
    const mixed = scoreSofaDays([m('gcs', 15, '{score}', 0), m('gcs', 15, '{score}', 0, undefined, 'Q')]);
    assert.equal(mixed.ok ? null : mixed.error.kind, 'mixed-patients');
    const badParameters = scoreSofaDays([m('gcs', 15, '{score}', 0)], { parameters: { ...MIMIC_IV_PRESET, urineOutput: { ...MIMIC_IV_PRESET.urineOutput, coverageHours: { min: 30, max: 22 } } } });
    assert.equal(badParameters.ok ? null : badParameters.error.kind, 'invalid-parameters');
    assert.throws(() => sofaDays([m('gcs', 15, '{score}', 0)], { preset: 'apache' }), /unknown SOFA preset "apache"/);
  });

  test('no measurements: no days; several patients: one timeline each, in order of appearance', () => {
    const empty = scoreSofaDays([]);
    assert.ok(empty.ok);
    assert.deepEqual(empty.value.days, []);
    const both = sofaDaysByPatient([m('gcs', 9, '{score}', 0, undefined, 'B'), m('gcs', 14, '{score}', 30, undefined, 'A'), m('gcs', 3, '{score}', 1, undefined, 'B')]);
    assert.ok(both.ok);
    assert.deepEqual(both.value.map((p) => [p.patientId, p.days.map((d) => d.components.cns)]), [
      ['B', [4]],
      ['A', [1]],
    ]);
  });
});

describe('properties of the timeline', () => {
  const LABS = [
    { concept: 'platelets', unit: '10*3/uL', value: fc.integer({ min: 0, max: 300 }) },
    { concept: 'bilirubin', unit: 'mg/dL', value: fc.integer({ min: 0, max: 200 }).map((v) => v / 10) },
    { concept: 'gcs', unit: '{score}', value: fc.integer({ min: 3, max: 15 }) },
    { concept: 'map', unit: 'mm[Hg]', value: fc.integer({ min: 30, max: 110 }) },
  ] as const;
  const lab = fc.oneof(
    ...LABS.map((l) =>
      fc.record({ index: fc.constant(LABS.indexOf(l)), value: l.value, minutes: fc.integer({ min: 0, max: 72 * 60 }) }),
    ),
  );
  const toMeasurement = (x: { index: number; value: number; minutes: number }): SofaMeasurement => {
    const spec = LABS[x.index] as (typeof LABS)[number];
    return m(spec.concept, x.value, spec.unit, x.minutes / 60);
  };

  test('sliding windows agree with scoring every window from scratch (days and both hourly closures)', () => {
    fc.assert(
      fc.property(fc.array(lab, { minLength: 1, maxLength: 40 }), fc.constantFrom(...PRESETS), (labs, parameters) => {
        const data = labs.map(toMeasurement);
        const t = parameters.thresholds;
        const brute = (lo: number, hi: number, startInclusive: boolean) => {
          const inside = data.filter((d) => {
            const ms = Date.parse(d.time);
            return startInclusive ? ms >= lo && ms < hi : ms > lo && ms <= hi;
          });
          const worst = (concept: string, fn: (v: number) => OrganScore) => {
            const scores = inside.filter((d) => d.concept === concept).map((d) => fn(d.value));
            return scores.length === 0 ? null : Math.max(...scores);
          };
          const unwrap = (r: { ok: boolean; value?: { score: OrganScore } }) => (r.ok && r.value ? r.value.score : assert.fail('unit'));
          return {
            coagulation: worst('platelets', (v) => unwrap(scoreCoagulation({ value: v, unit: '10*3/uL' }, t))),
            liver: worst('bilirubin', (v) => unwrap(scoreLiver({ value: v, unit: 'mg/dL' }, t))),
            cns: worst('gcs', (v) => scoreCns(v, t).score),
            cardiovascular: worst('map', (v) => scoreMap(v, t).score),
          };
        };
        const pick = (w: SofaDay | { components: SofaDay['components'] }) => ({
          coagulation: w.components.coagulation,
          liver: w.components.liver,
          cns: w.components.cns,
          cardiovascular: w.components.cardiovascular,
        });
        for (const d of days(parameters, data)) assert.deepEqual(pick(d), brute(Date.parse(d.start), Date.parse(d.end), true));
        const hourly = scoreSofaHours(data, { parameters });
        assert.ok(hourly.ok);
        const startInclusive = parameters.hourly.closure === 'start-inclusive';
        for (const h of hourly.value.hours) assert.deepEqual(pick(h), brute(Date.parse(h.start), Date.parse(h.end), startInclusive));
        return true;
      }),
      { numRuns: 60 },
    );
  });

  test('adding a measurement never lowers a component (worst value), and the total is the sum of the non-null components', () => {
    const infusion = fc.record({
      drug: fc.constantFrom('norepinephrine', 'epinephrine', 'dopamine', 'dobutamine' as const),
      rate: fc.integer({ min: 1, max: 200 }).map((v) => v / 100),
      start: fc.integer({ min: 0, max: 70 * 4 }),
      quarters: fc.integer({ min: 1, max: 12 }),
    });
    const toInfusion = (x: { drug: 'norepinephrine' | 'epinephrine' | 'dopamine' | 'dobutamine'; rate: number; start: number; quarters: number }) =>
      m(x.drug, x.rate, 'ug/kg/min', x.start / 4, (x.start + x.quarters) / 4);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(lab.map(toMeasurement), infusion.map(toInfusion)), { minLength: 1, maxLength: 30 }),
        fc.oneof(lab.map(toMeasurement), infusion.map(toInfusion)),
        fc.constantFrom(...PRESETS),
        (base, extra, parameters) => {
          const start = T0;
          const before = days(parameters, base, { start, days: 4 });
          const after = days(parameters, [...base, extra], { start, days: 4 });
          before.forEach((d, i) => {
            const later = after[i] as SofaDay;
            for (const c of SOFA_COMPONENTS) {
              const a = d.components[c];
              const b = later.components[c];
              if (a !== null) assert.ok(b !== null && b >= a, `${parameters.id} day ${d.day} ${c}: ${a} -> ${b}`);
            }
            for (const w of [d, later]) {
              assert.equal(w.total, SOFA_COMPONENTS.reduce((sum, c) => sum + (w.components[c] ?? 0), 0));
              assert.deepEqual(w.missing, SOFA_COMPONENTS.filter((c) => w.components[c] === null));
              for (const c of SOFA_COMPONENTS) assert.equal(w.evidence[c]?.score ?? null, w.components[c]);
            }
          });
          return true;
        },
      ),
      { numRuns: 80 },
    );
  });
});

test('a two-week stay charted hourly scores all its hourly rows in one pass', () => {
  const data: SofaMeasurement[] = [];
  for (let h = 0; h < 14 * 24; h++) {
    data.push(m('map', 60 + (h % 20), 'mm[Hg]', h), m('gcs', 3 + (h % 13), '{score}', h), m('urine_output', 20 + (h % 30), 'mL', h, h + 1));
    if (h % 4 === 0) data.push(m('platelets', 40 + h, '10*3/uL', h), m('fio2', 0.5, '1', h), m('pao2', 80 + (h % 50), 'mm[Hg]', h), m('mechanical_ventilation', 1, '1', h, h + 4));
    if (h % 2 === 0) data.push(m('norepinephrine', ((h % 7) + 1) / 20, 'ug/kg/min', h, h + 2));
  }
  for (const parameters of PRESETS) {
    const result = scoreSofaHours(data, { parameters });
    assert.ok(result.ok);
    assert.ok(result.value.hours.length >= 14 * 24, parameters.id);
    const last = result.value.hours.at(-1);
    assert.ok(last && last.total >= 0 && last.total <= 24);
  }
});
