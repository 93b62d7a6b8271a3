import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkCrfChange, checkDeviation, checkUnblinding, checkWithdrawal } from '../../src/trial/records.ts';
import { type ScreeningEntry, screeningDispositions, summariseScreening } from '../../src/trial/screening.ts';

const entry = (patientId: string, siteId: string, at: string, outcome: ScreeningEntry['outcome'], reasons: string[] = []): ScreeningEntry => ({
  trialId: 'immunosep',
  patientId,
  siteId,
  at: `2026-01-${at}T08:00:00.000Z`,
  outcome,
  reasons,
});

const log: ScreeningEntry[] = [
  entry('P1', 'athens', '01', 'unclassified'),
  entry('P1', 'athens', '03', 'randomised'), // re-screened, then randomised
  entry('P2', 'athens', '01', 'not-eligible', ['exclusion-neutropenia', 'exclusion-dnr']),
  entry('P3', 'lyon', '02', 'not-eligible', ['exclusion-neutropenia']),
  entry('P4', 'lyon', '02', 'unclassified'),
  entry('P5', 'lyon', '02', 'screened'),
  entry('P6', 'lyon', '02', 'randomised'),
  entry('P6', 'lyon', '09', 'withdrawn', ['consent-withdrawn']),
  entry('P7', 'athens', '05', 'screened'),
  entry('P7', 'athens', '04', 'not-eligible', ['inclusion-consent']), // earlier entry: the later 'screened' wins
];

test('each patient counts once, at the furthest stage reached', () => {
  const dispositions = screeningDispositions(log);
  assert.deepEqual(
    [...dispositions.values()].map((e) => [e.patientId, e.outcome]).sort(),
    [
      ['P1', 'randomised'],
      ['P2', 'not-eligible'],
      ['P3', 'not-eligible'],
      ['P4', 'unclassified'],
      ['P5', 'screened'],
      ['P6', 'withdrawn'],
      ['P7', 'screened'],
    ],
  );
});

test('the CONSORT screening summary, hand-counted', () => {
  assert.deepEqual(summariseScreening(log), {
    assessed: 7,
    excluded: {
      notEligible: 2,
      notEligibleByReason: { 'exclusion-dnr': 1, 'exclusion-neutropenia': 2 },
      unclassified: 1,
      notRandomised: 2,
    },
    randomised: 2,
    withdrawn: 1,
    bySite: { athens: { assessed: 3, randomised: 1 }, lyon: { assessed: 4, randomised: 1 } },
  });
  assert.deepEqual(summariseScreening([]).assessed, 0);
});

test('records: reasons are required and kinds are checked', () => {
  assert.equal(checkUnblinding({ reason: 'short' }).ok, false);
  assert.deepEqual(checkUnblinding({ reason: '  anaphylaxis, need to know the drug  ' }), { ok: true, value: { reason: 'anaphylaxis, need to know the drug' } });
  assert.equal(checkWithdrawal({ kind: 'bored' as 'other', reason: 'patient asked to stop' }).ok, false);
  assert.equal(checkWithdrawal({ kind: 'consent-withdrawn', reason: 'patient asked to stop' }).ok, true);
  assert.equal(checkDeviation({ patientId: null, siteId: 'athens', category: 'visit', severity: 'major', description: 'day 3 visit missed' }).ok, true);
  assert.equal(checkDeviation({ patientId: null, siteId: 'athens', category: 'visit', severity: 'huge' as 'major', description: 'day 3 visit missed' }).ok, false);
  const change = { patientId: 'P1', form: 'baseline', field: 'weightKg', oldValue: 70, newValue: 72, reason: 'transcription error corrected' };
  assert.equal(checkCrfChange(change).ok, true);
  assert.equal(checkCrfChange({ ...change, newValue: 70 }).ok, false, 'no-op change');
  assert.equal(checkCrfChange({ ...change, reason: 'typo' }).ok, false);
  assert.equal(checkCrfChange({ ...change, oldValue: undefined as unknown as null }).ok, false);
});
