import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_ENDPOINT_DEFINITION,
  ENDPOINT_DEFINITIONS,
  type EndpointDefinition,
  type PatientOutcomeInput,
  type PatientEndpoints,
  deriveEndpoints,
  endpointDeriver,
  reversalInputFromAssessment,
  scoredSofaSeries,
  studyDayOf,
  validateEndpointDefinition,
} from '../../src/clinical/endpoints.ts';
import type { ReversalAssessment } from '../../src/clinical/immune/reversal.ts';

const SAP = ENDPOINT_DEFINITIONS['immunosep-sap'] as EndpointDefinition;
const PAPER = ENDPOINT_DEFINITIONS['immunosep-paper'] as EndpointDefinition;

/** SOFA by day from a list starting at `first` (null = missing). */
function series(first: number, totals: Array<number | null>): PatientOutcomeInput['sofa'] {
  return totals.map((total, i) => ({ day: first + i, total }));
}

function patient(overrides: Partial<PatientOutcomeInput>): PatientOutcomeInput {
  return { sofa: [], deathDay: null, lastAliveDay: 90, reversal: null, infectionResolved: null, ...overrides };
}

function derive(input: PatientOutcomeInput, d: EndpointDefinition = SAP): PatientEndpoints {
  const result = deriveEndpoints(input, d);
  assert.ok(result.ok, `expected endpoints, got ${JSON.stringify(!result.ok && result.error)}`);
  return result.value;
}

test('the SAP definition is the default, versioned, and both shipped definitions validate', () => {
  assert.equal(DEFAULT_ENDPOINT_DEFINITION.id, 'immunosep-sap');
  assert.equal(SAP.version, '1.0.0');
  assert.equal(SAP.responder.operator, '>');
  assert.equal(SAP.responder.thresholdPoints, 1.4);
  assert.equal(PAPER.responder.operator, '>=');
  assert.deepEqual(SAP.primaryWindow, { firstDay: 2, lastDay: 9 });
  assert.deepEqual(SAP.secondaryWindow, { firstDay: 2, lastDay: 15 });
  for (const d of Object.values(ENDPOINT_DEFINITIONS)) assert.ok(validateEndpointDefinition(d).ok, d.id);
  const bad = validateEndpointDefinition({ ...SAP, responder: { ...SAP.responder, operator: '<' as never }, primaryWindow: { firstDay: 1, lastDay: 9 } });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.error.map((p) => p.path).sort(), ['primaryWindow', 'responder.operator']);
});

test('complete data: mean of days 2-9 and the change from day 1 (hand-computed)', () => {
  // day 1 = 11; days 2-9 = 10 10 9 9 9 9 9 10: sum 75, mean 9.375, change 1.625 > 1.4.
  const e = derive(patient({ sofa: series(1, [11, 10, 10, 9, 9, 9, 9, 9, 10]) }));
  assert.equal(e.primary.mean, 9.375);
  assert.equal(e.primary.change, 1.625);
  assert.equal(e.primary.responder, true);
  assert.deepEqual(e.primary.observedDays, [2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(e.primary.locfDays, []);
  assert.deepEqual(e.primary.deathImputedDays, []);
  assert.equal(e.primary.comparison?.text, '11 - 9.375 = 1.625 > 1.4');
  assert.match(e.primary.explanation, /responder \(observed on day\(s\) 2, 3, 4, 5, 6, 7, 8, 9; definition immunosep-sap 1\.0\.0\)/);
  // Days 10-15 not recorded: carried forward from day 9 (10) for the secondary window.
  // Sum 75 + 6 * 10 = 135 over 14 days = 9.642857..., change 1.357... <= 1.4: non-responder.
  assert.equal(e.secondary.mean, 135 / 14);
  assert.equal(e.secondary.responder, false);
  assert.deepEqual(e.secondary.locfDays, [10, 11, 12, 13, 14, 15]);
  assert.equal(e.secondary.comparison?.text, '11 - 9.64285714286 = 1.35714285714 <= 1.4');
  // The texts are part of the JSON form, like any other field.
  const json = JSON.parse(JSON.stringify(e)) as PatientEndpoints;
  assert.equal(json.primary.explanation, e.primary.explanation);
  assert.equal(json.primary.comparison?.text, '11 - 9.375 = 1.625 > 1.4');
  assert.deepEqual(json.primary.locfDays, []);
  assert.equal(json.mortality[0]?.explanation, 'alive on day 28 (last known alive on day 90)');
});

test('missing days inside the window take the last observed value (LOCF), named in the explanation', () => {
  // day 1 = 10, day 2 missing -> 10 (from day 1), day 3 = 8, day 4 missing -> 8 (from day 3),
  // days 5-9 = 8: sum 10 + 8 + 8 + 40 = 66, mean 8.25, change 1.75.
  const e = derive(patient({ sofa: series(1, [10, null, 8, null, 8, 8, 8, 8, 8]) }));
  assert.equal(e.primary.mean, 8.25);
  assert.equal(e.primary.responder, true);
  assert.deepEqual(e.primary.locfDays, [2, 4]);
  assert.deepEqual(
    e.primary.days.filter((d) => d.source === 'locf'),
    [
      { day: 2, value: 10, source: 'locf', fromDay: 1 },
      { day: 4, value: 8, source: 'locf', fromDay: 3 },
    ],
  );
  assert.match(e.primary.explanation, /last observation carried forward on day\(s\) 2 \(from day 1\), 4 \(from day 3\)/);
});

test('day 2 missing and nothing else recorded: everything carried from day 1, change 0, non-responder', () => {
  const e = derive(patient({ sofa: series(1, [9]) }));
  assert.equal(e.primary.mean, 9);
  assert.equal(e.primary.change, 0);
  assert.equal(e.primary.responder, false);
  assert.deepEqual(e.primary.observedDays, []);
  assert.deepEqual(e.primary.locfDays, [2, 3, 4, 5, 6, 7, 8, 9]);
});

test('day 1 missing: the mean is still computed, the responder status is not evaluable', () => {
  const e = derive(patient({ sofa: series(1, [null, 8, 8, 8, 8, 8, 8, 8, 8]) }));
  assert.equal(e.primary.mean, 8);
  assert.equal(e.primary.baseline.value, null);
  assert.equal(e.primary.change, null);
  assert.equal(e.primary.responder, null);
  assert.equal(e.primary.comparison, null);
  assert.match(e.primary.explanation, /day-1 SOFA missing: responder status not evaluable/);
});

test('day 1 and day 2 missing: day 2 cannot be filled (a day-0 screening value is never carried), nothing is evaluable', () => {
  const e = derive(patient({ sofa: [{ day: 0, total: 12 }, ...series(1, [null, null, 7, 7, 7, 7, 7, 7, 7])] }));
  assert.deepEqual(e.primary.unfilledDays, [2]);
  assert.equal(e.primary.mean, null);
  assert.equal(e.primary.responder, null);
  assert.match(e.primary.explanation, /not fillable \(no earlier observation\) on day\(s\) 2/);
});

test('death: days after the day of death score 24, the day of death keeps its value or is carried forward', () => {
  // day 1 = 12, day 2 = 12, day 3 = 14, death on day 4 with no SOFA -> 14 (LOCF from day 3),
  // days 5-9 = 24: sum 12 + 14 + 14 + 120 = 160, mean 20, change -8.
  const e = derive(patient({ sofa: series(1, [12, 12, 14]), deathDay: 4, lastAliveDay: null }));
  assert.equal(e.primary.mean, 20);
  assert.equal(e.primary.change, -8);
  assert.equal(e.primary.responder, false);
  assert.deepEqual(e.primary.locfDays, [4]);
  assert.deepEqual(e.primary.deathImputedDays, [5, 6, 7, 8, 9]);
  assert.match(e.primary.explanation, /scored 24 after death on day\(s\) 5, 6, 7, 8, 9/);
  // Secondary: 12 + 14 + 14 + 11 * 24 = 304 over 14 days.
  assert.equal(e.secondary.mean, 304 / 14);
  // Day of death recorded: kept.
  const recorded = derive(patient({ sofa: series(1, [12, 12, 14, 18]), deathDay: 4, lastAliveDay: null }));
  assert.equal(recorded.primary.days.find((d) => d.day === 4)?.value, 18);
  // Variant definition: the (unrecorded) day of death scores 24 too.
  const strict = derive(patient({ sofa: series(1, [12, 12, 14]), deathDay: 4, lastAliveDay: null }), { ...SAP, deathDay: 'death-score' });
  assert.deepEqual(strict.primary.deathImputedDays, [4, 5, 6, 7, 8, 9]);
  assert.equal(strict.primary.mean, (12 + 14 + 6 * 24) / 8);
});

test('death on day 1 (before the window): every window day is 24 and the patient is a non-responder', () => {
  const e = derive(patient({ sofa: series(1, [15]), deathDay: 1, lastAliveDay: null }));
  assert.equal(e.primary.mean, 24);
  assert.equal(e.primary.change, -9);
  assert.equal(e.primary.responder, false);
  assert.deepEqual(e.primary.deathImputedDays, [2, 3, 4, 5, 6, 7, 8, 9]);
  // Died on day 1 without a day-1 SOFA: the mean is 24 but the change is not evaluable.
  const noBaseline = derive(patient({ sofa: [], deathDay: 1, lastAliveDay: null }));
  assert.equal(noBaseline.primary.mean, 24);
  assert.equal(noBaseline.primary.responder, null);
});

test('> and >= differ only for a threshold that is a multiple of 1/8; at 1.4 they agree', () => {
  // day 1 = 10; days 2-9 = 9 9 9 9 8 8 8 8: mean 8.5, change exactly 1.5.
  const sofa = series(1, [10, 9, 9, 9, 9, 8, 8, 8, 8]);
  const at15 = (d: EndpointDefinition) => ({ ...d, responder: { ...d.responder, thresholdPoints: 1.5 } });
  assert.equal(derive(patient({ sofa }), at15(SAP)).primary.responder, false);
  assert.equal(derive(patient({ sofa }), at15(SAP)).primary.comparison?.text, '10 - 8.5 = 1.5 <= 1.5');
  assert.equal(derive(patient({ sofa }), at15(PAPER)).primary.responder, true);
  assert.equal(derive(patient({ sofa }), at15(PAPER)).primary.comparison?.text, '10 - 8.5 = 1.5 >= 1.5');
  // 1.375 (change 11/8) against 1.4: both non-responders; 1.5 against 1.4: both responders.
  assert.equal(derive(patient({ sofa })).primary.responder, true);
  assert.equal(derive(patient({ sofa }), PAPER).primary.responder, true);
  const below = series(1, [10, 9, 9, 9, 9, 9, 8, 8, 8]); // sum 69, change 1.375
  assert.equal(derive(patient({ sofa: below })).primary.responder, false);
  assert.equal(derive(patient({ sofa: below }), PAPER).primary.responder, false);
  // A decimal threshold that is a multiple of 1/8 in decimal (1.125 = 9/8) decides exactly.
  const nine = series(1, [10, 9, 9, 9, 9, 9, 9, 9, 8]); // sum 71, change 9/8
  const at1125 = (d: EndpointDefinition) => ({ ...d, responder: { ...d.responder, thresholdPoints: 1.125 } });
  assert.equal(derive(patient({ sofa: nine }), at1125(SAP)).primary.responder, false);
  assert.equal(derive(patient({ sofa: nine }), at1125(PAPER)).primary.responder, true);
});

test('mortality at 28 and 90 days and time to death (censored at 90)', () => {
  const died28 = derive(patient({ deathDay: 28, lastAliveDay: null }));
  assert.deepEqual(
    died28.mortality.map((m) => [m.day, m.died]),
    [
      [28, true],
      [90, true],
    ],
  );
  assert.deepEqual({ time: died28.survival.time, event: died28.survival.event }, { time: 28, event: true });
  const died29 = derive(patient({ deathDay: 29, lastAliveDay: null }));
  assert.deepEqual(
    died29.mortality.map((m) => m.died),
    [false, true],
  );
  const died120 = derive(patient({ deathDay: 120, lastAliveDay: null }));
  assert.deepEqual(
    died120.mortality.map((m) => m.died),
    [false, false],
  );
  assert.deepEqual({ time: died120.survival.time, event: died120.survival.event }, { time: 90, event: false });
  const lost = derive(patient({ deathDay: null, lastAliveDay: 20 }));
  assert.deepEqual(
    lost.mortality.map((m) => m.died),
    [null, null],
  );
  assert.match(lost.mortality[0]?.explanation ?? '', /lost to follow-up/);
  assert.deepEqual({ time: lost.survival.time, event: lost.survival.event }, { time: 20, event: false });
  const lostAfter28 = derive(patient({ deathDay: null, lastAliveDay: 60 }));
  assert.deepEqual(
    lostAfter28.mortality.map((m) => m.died),
    [false, null],
  );
  const followedLong = derive(patient({ deathDay: null, lastAliveDay: 100 }));
  assert.deepEqual({ time: followedLong.survival.time, event: followedLong.survival.event }, { time: 90, event: false });
});

test('reversal by day 15 and time to reversal', () => {
  const yes = derive(patient({ reversal: { reversed: 'yes', firstReversalAt: 5 } }));
  assert.equal(yes.reversal.reversed, true);
  assert.deepEqual({ time: yes.reversal.timeToReversal?.time, event: yes.reversal.timeToReversal?.event }, { time: 5, event: true });
  const late = derive(patient({ reversal: { reversed: 'yes', firstReversalAt: 20 } }));
  assert.equal(late.reversal.reversed, false);
  assert.deepEqual({ time: late.reversal.timeToReversal?.time, event: late.reversal.timeToReversal?.event }, { time: 15, event: false });
  const onDay15 = derive(patient({ reversal: { reversed: 'yes', firstReversalAt: 15 } }));
  assert.equal(onDay15.reversal.reversed, true);
  const no = derive(patient({ reversal: { reversed: 'no', firstReversalAt: null } }));
  assert.equal(no.reversal.reversed, false);
  assert.equal(no.reversal.timeToReversal?.time, 15);
  const noDied = derive(patient({ reversal: { reversed: 'no', firstReversalAt: null }, deathDay: 6, lastAliveDay: null }));
  assert.equal(noDied.reversal.timeToReversal?.time, 6, 'death ends follow-up for reversal');
  const unknown = derive(patient({ reversal: { reversed: 'unknown', firstReversalAt: null, assessedThroughDay: 4 } }));
  assert.equal(unknown.reversal.reversed, null);
  assert.deepEqual({ time: unknown.reversal.timeToReversal?.time, event: unknown.reversal.timeToReversal?.event }, { time: 4, event: false });
  const none = derive(patient({ reversal: null }));
  assert.equal(none.reversal.reversed, null);
  assert.equal(none.reversal.timeToReversal, null);
});

test('infection resolution by day 15 is passed through with its explanation', () => {
  assert.equal(derive(patient({ infectionResolved: true })).infectionResolution.resolved, true);
  assert.equal(derive(patient({ infectionResolved: false })).infectionResolution.explanation, 'index infection not resolved by day 15');
  assert.equal(derive(patient({ infectionResolved: null })).infectionResolution.resolved, null);
});

test('inconsistent inputs are error values naming every problem', () => {
  const result = deriveEndpoints(
    patient({
      sofa: [
        { day: 1, total: 25 },
        { day: 2, total: 3.5 },
        { day: 2, total: 4 },
        { day: 2.5, total: 4 },
        { day: 9, total: 10 },
      ],
      deathDay: 5,
      lastAliveDay: null,
      reversal: { reversed: 'yes', firstReversalAt: null },
    }),
  );
  assert.ok(!result.ok);
  const messages = result.error.map((p) => `${p.field}: ${p.message}`);
  assert.ok(messages.some((m) => m.startsWith('sofa[0].total') && m.includes('0-24')));
  assert.ok(messages.some((m) => m.startsWith('sofa[1].total')));
  assert.ok(messages.some((m) => m.includes('day 2 appears more than once')));
  assert.ok(messages.some((m) => m.startsWith('sofa[3].day')));
  assert.ok(messages.some((m) => m.includes('recorded on day 9, after death on day 5')));
  assert.ok(messages.some((m) => m.startsWith('reversal.firstReversalAt')));
  const noFollowUp = deriveEndpoints(patient({ deathDay: null, lastAliveDay: null }));
  assert.ok(!noFollowUp.ok && noFollowUp.error[0]?.field === 'lastAliveDay');
  const reversalAfterDeath = deriveEndpoints(patient({ deathDay: 3, lastAliveDay: null, reversal: { reversed: 'yes', firstReversalAt: 4 } }));
  assert.ok(!reversalAfterDeath.ok);
});

test('scoredSofaSeries gives the endpoint-scored daily values for trajectories', () => {
  const s = scoredSofaSeries(series(1, [10, null, 8]), 3, { firstDay: 1, lastDay: 5 });
  assert.deepEqual(
    s.map((v) => v && [v.day, v.value, v.source]),
    [
      [1, 10, 'observed'],
      [2, 10, 'locf'],
      [3, 8, 'observed'],
      [4, 24, 'death'],
      [5, 24, 'death'],
    ],
  );
  assert.deepEqual(scoredSofaSeries([], null, { firstDay: 1, lastDay: 2 }), [null, null]);
  // A range starting after day 1 still carries day-1 values forward; days before day 1 only
  // show what was observed on them.
  assert.deepEqual(scoredSofaSeries(series(1, [10]), null, { firstDay: 3, lastDay: 3 }), [{ day: 3, value: 10, source: 'locf', fromDay: 1 }]);
  assert.deepEqual(
    scoredSofaSeries([{ day: 0, total: 12 }], null, { firstDay: 0, lastDay: 1 }),
    [{ day: 0, value: 12, source: 'observed' }, null],
  );
});

test('study days and a reversal assessment mapped onto them', () => {
  const start = Date.parse('2026-01-05T08:00:00Z');
  assert.equal(studyDayOf(start, start), 1);
  assert.equal(studyDayOf(start + 86_400_000 - 1, start), 1);
  assert.equal(studyDayOf(start + 86_400_000, start), 2);
  const base = { ruleSet: { id: 'immunosep', version: '1' }, baselineClass: 'MALS' as const, summary: '' };
  const yes = reversalInputFromAssessment(
    { ...base, status: 'yes', evaluatedAt: '2026-01-19T08:00:00Z', firstReversalAt: '2026-01-09T10:00:00Z', hoursFromBaseline: 98, evidence: [] as never } as ReversalAssessment,
    '2026-01-05T08:00:00Z',
  );
  assert.deepEqual(yes, { ok: true, value: { reversed: 'yes', firstReversalAt: 5, assessedThroughDay: 15 } });
  const unknown = reversalInputFromAssessment(
    { ...base, status: 'unknown', evaluatedAt: '2026-01-19T08:00:00Z', evidence: null, missing: [], stale: [] } as ReversalAssessment,
    '2026-01-05T08:00:00Z',
  );
  assert.deepEqual(unknown, { ok: true, value: { reversed: 'unknown', firstReversalAt: null, assessedThroughDay: null } });
  assert.ok(!reversalInputFromAssessment({ ...base, status: 'no', evaluatedAt: 'x', evidence: [] as never } as ReversalAssessment, '2026-01-05T08:00:00Z').ok);
});

// Properties over random daily series with random deaths and gaps.
const arbitraryPatient = fc
  .record({
    totals: fc.array(fc.option(fc.integer({ min: 0, max: 24 }), { nil: null }), { minLength: 0, maxLength: 16 }),
    deathDay: fc.option(fc.integer({ min: 1, max: 20 }), { nil: null }),
  })
  .map(({ totals, deathDay }) => {
    const sofa = series(1, totals).filter((s) => deathDay === null || s.day <= deathDay);
    return patient({ sofa, deathDay, lastAliveDay: deathDay === null ? 90 : null });
  });

test('properties: means within 0-24, filled values are earlier observations, ">=" responders include ">" responders', () => {
  fc.assert(
    fc.property(arbitraryPatient, (input) => {
      const sap = derive(input, SAP);
      const paper = derive(input, PAPER);
      for (const w of [sap.primary, sap.secondary]) {
        assert.equal(w.days.length + w.unfilledDays.length, w.window.lastDay - w.window.firstDay + 1);
        if (w.mean !== null) assert.ok(w.mean >= 0 && w.mean <= 24);
        for (const v of w.days) {
          if (v.source === 'locf') {
            assert.ok(v.fromDay !== undefined && v.fromDay < v.day && v.fromDay >= 1);
            assert.equal(input.sofa.find((s) => s.day === v.fromDay)?.total, v.value);
          }
          if (v.source === 'death') assert.ok(input.deathDay !== null && v.day > input.deathDay);
        }
      }
      if (sap.primary.responder === true) assert.equal(paper.primary.responder, true);
      // With whole-number totals the change is a multiple of 1/8 and never equals 1.4.
      assert.equal(sap.primary.responder, paper.primary.responder);
      assert.equal(sap.secondary.responder, paper.secondary.responder);
    }),
    { numRuns: 500, seed: 42 },
  );
});

const arbitraryFullPatient = fc
  .record({
    totals: fc.array(fc.option(fc.integer({ min: 0, max: 24 }), { nil: null }), { minLength: 0, maxLength: 18 }),
    deathDay: fc.option(fc.integer({ min: 1, max: 120 }), { nil: null }),
    lastAliveDay: fc.integer({ min: 1, max: 120 }),
    reversal: fc.option(
      fc.record({ reversed: fc.constantFrom('yes' as const, 'no' as const, 'unknown' as const), day: fc.integer({ min: 1, max: 30 }), through: fc.option(fc.integer({ min: 1, max: 20 }), { nil: null }) }),
      { nil: null },
    ),
    infectionResolved: fc.option(fc.boolean(), { nil: null }),
    deathScoreOnDeathDay: fc.boolean(),
  })
  .map(({ totals, deathDay, lastAliveDay, reversal, infectionResolved, deathScoreOnDeathDay }) => ({
    definition: deathScoreOnDeathDay ? { ...SAP, deathDay: 'death-score' as const } : SAP,
    input: patient({
      sofa: series(1, totals).filter((s) => deathDay === null || s.day <= deathDay),
      deathDay,
      lastAliveDay: deathDay === null ? lastAliveDay : null,
      reversal:
        reversal === null
          ? null
          : {
              reversed: reversal.reversed,
              firstReversalAt: reversal.reversed === 'yes' ? Math.min(reversal.day, deathDay ?? reversal.day) : null,
              assessedThroughDay: reversal.through,
            },
      infectionResolved,
    }),
  }));

test('property: the numbers-only summary agrees with the explained derivation on every endpoint', () => {
  fc.assert(
    fc.property(arbitraryFullPatient, ({ definition, input }) => {
      const deriver = endpointDeriver(definition);
      const full = deriver.derive(input);
      const summary = deriver.summarise(input);
      assert.equal(full.ok, summary.ok);
      if (!full.ok || !summary.ok) return;
      const e = full.value;
      const s = summary.value;
      assert.equal(s.baselineSofa, e.primary.baseline.value);
      assert.equal(s.primaryResponder, e.primary.responder);
      assert.equal(s.secondaryResponder, e.secondary.responder);
      assert.deepEqual(s.died, e.mortality.map((m) => m.died));
      assert.deepEqual(s.survival, { time: e.survival.time, event: e.survival.event });
      assert.equal(s.reversed, e.reversal.reversed);
      const t = e.reversal.timeToReversal;
      assert.deepEqual(s.timeToReversal, t === null ? null : { time: t.time, event: t.event });
      assert.equal(s.infectionResolved, e.infectionResolution.resolved);
      // The scored days are what scoredSofaSeries gives for the same range.
      const range = { firstDay: s.scoredDays.firstDay, lastDay: s.scoredDays.firstDay + s.scoredDays.values.length - 1 };
      assert.deepEqual(
        s.scoredDays.values,
        scoredSofaSeries(input.sofa, input.deathDay, range, definition).map((v) => (v === null ? -1 : v.value)),
      );
      // And the same deriver gives the same answer twice (its scan arrays are reused).
      assert.deepEqual(JSON.stringify(deriver.derive(input)), JSON.stringify(full));
    }),
    { numRuns: 1000, seed: 2026 },
  );
});
