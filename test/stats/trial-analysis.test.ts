import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENDPOINT_DEFINITIONS } from '../../src/clinical/endpoints.ts';
import { compareProportions } from '../../src/stats/analysis.ts';
import { simulateTrialDataset } from '../../src/stats/simulate-trial.ts';
import { analyseTrial, analyseTrialBlinded } from '../../src/stats/trial-analysis.ts';
import { blindTrialDataset, parseTrialDataset, trialDatasetJson } from '../../src/stats/trial-data.ts';
import { wilsonInterval } from '../../src/stats/proportions.ts';
import { smallTrial, swappedArms } from './trial-fixtures.ts';

function analysed() {
  const r = analyseTrial(smallTrial());
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  return r.value;
}

test('trial.json round trip: the written JSON parses back to the same dataset', () => {
  const data = smallTrial();
  const parsed = parseTrialDataset(JSON.parse(JSON.stringify(trialDatasetJson(data))));
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value, data);
  // A shipped definition may be named by id.
  const byId = parseTrialDataset({ ...(trialDatasetJson(data) as object), trial: { ...data.trial, endpointDefinition: 'immunosep-paper' } });
  assert.ok(byId.ok && byId.value.endpointDefinition === ENDPOINT_DEFINITIONS['immunosep-paper']);
});

test('invalid datasets list every problem with its path', () => {
  const json = trialDatasetJson(smallTrial()) as { patients: Array<Record<string, unknown>>; trial: Record<string, unknown> } & Record<string, unknown>;
  const broken = {
    ...json,
    format: 'other',
    trial: { ...json.trial, endpointDefinition: 'no-such-definition', armLabels: { active: 'x' } },
    patients: [{ ...json.patients[0], arm: 'both' }, { ...json.patients[1], id: json.patients[0]?.id }, { ...json.patients[2], sofa: 'many' }],
  };
  const r = parseTrialDataset(broken);
  assert.ok(!r.ok);
  const paths = r.error.map((p) => p.path);
  for (const path of ['format', 'trial.endpointDefinition', 'trial.armLabels.placebo', 'patients[0].arm', 'patients[1].id', 'patients[2].sofa']) {
    assert.ok(paths.includes(path), `expected a problem at ${path}, got ${paths.join(', ')}`);
  }
  assert.ok(!parseTrialDataset([]).ok);
});

test('populations and the primary endpoint per arm (hand-checked)', () => {
  const a = analysed();
  assert.deepEqual(a.population.randomised, { active: 4, placebo: 4 });
  assert.deepEqual(a.population.analysed, { active: 4, placebo: 3 });
  assert.deepEqual(a.population.byStratum.MALS.analysed, { active: 2, placebo: 2 });
  const primary = a.binary.find((b) => b.id === 'responder-primary');
  assert.ok(primary?.primary);
  assert.deepEqual(primary?.active, { events: 3, n: 4, notEvaluable: 0 });
  assert.deepEqual(primary?.placebo, { events: 1, n: 3, notEvaluable: 0 });
  const direct = compareProportions({ events: 3, n: 4 }, { events: 1, n: 3 });
  assert.ok(direct.ok);
  assert.deepEqual(primary?.comparison, direct.value);
});

test('secondary endpoints: mortality, reversal, infection resolution (hand-checked)', () => {
  const a = analysed();
  const get = (id: string) => a.binary.find((b) => b.id === id);
  // Day 28: only B1 (placebo, day 5). Day 90: also C2 (active, day 40).
  assert.deepEqual([get('mortality-28')?.active.events, get('mortality-28')?.placebo.events], [0, 1]);
  assert.deepEqual([get('mortality-90')?.active.events, get('mortality-90')?.placebo.events], [1, 1]);
  assert.deepEqual([get('reversal')?.active, get('reversal')?.placebo], [
    { events: 2, n: 4, notEvaluable: 0 },
    { events: 0, n: 3, notEvaluable: 0 },
  ]);
  assert.deepEqual([get('infection-resolution')?.active.events, get('infection-resolution')?.placebo.events], [4, 2]);
  // Survival: the hazard ratio is active vs placebo (reference placebo), both arms one death.
  assert.equal(a.survival.comparison?.reference, 'placebo');
  assert.equal(a.survival.comparison?.comparison, 'active');
  assert.equal(a.survival.curves.active.events, 1);
  assert.equal(a.survival.curves.placebo.n, 3);
  assert.deepEqual(
    a.survival.curves.placebo.atRisk.map((r) => r.atRisk),
    [3, 2, 2, 2, 2, 2, 2],
  );
  // Time to reversal: active reverses on days 5 and 8, placebo never: no finite hazard ratio.
  assert.equal(a.reversalTime.comparison?.cox.hazardRatio, null);
  assert.ok(a.reversalTime.comparison?.logRank.p !== undefined);
});

test('subgroups per stratum partition the overall counts', () => {
  const a = analysed();
  const primary = a.subgroups.filter((s) => s.endpoint === 'responder-primary');
  assert.deepEqual(
    primary.map((s) => [s.subgroup, s.active.events, s.active.n, s.placebo.events, s.placebo.n]),
    [
      ['all', 3, 4, 1, 3],
      ['MALS', 1, 2, 1, 2],
      ['immunoparalysis', 2, 2, 0, 1],
    ],
  );
  for (const e of a.binary) {
    const [all, mals, ip] = a.subgroups.filter((s) => s.endpoint === e.id);
    assert.equal(all?.active.events, (mals?.active.events ?? 0) + (ip?.active.events ?? 0));
    assert.equal(all?.placebo.n, (mals?.placebo.n ?? 0) + (ip?.placebo.n ?? 0));
  }
});

test('baseline table, SOFA trajectories and CONSORT counts', () => {
  const a = analysed();
  assert.deepEqual(a.baseline.columns.slice(2), ['total']);
  const age = a.baseline.rows.find((r) => r.label.startsWith('age'));
  // Placebo analysed ages 60, 60, 70: mean 63.3, SD 5.8.
  assert.equal(age?.cells[1]?.text, '63.3 (5.8)');
  const sofa1 = a.baseline.rows.find((r) => r.label.startsWith('SOFA on day 1'));
  // Active 12, 10, 8, 14: mean 11.0, SD 2.6.
  assert.equal(sofa1?.cells[0]?.text, '11.0 (2.6)');
  const female = a.baseline.rows.find((r) => r.label === 'female');
  assert.deepEqual(female?.cells.map((c) => c.text), ['0 (0.0%)', '1 (33.3%)', '1 (14.3%)']);
  // Day 1 means: active 11, placebo (11 + 9 + 6) / 3; day 6: B1 is dead -> 24.
  assert.equal(a.trajectories.active[0]?.mean, 11);
  assert.equal(a.trajectories.placebo[0]?.mean, 26 / 3);
  assert.equal(a.trajectories.placebo[5]?.mean, (24 + 7 + 6) / 3);
  assert.equal(a.trajectories.active[0]?.n, 4);
  const consort = a.consort;
  assert.equal(consort.randomised, 8);
  assert.deepEqual(consort.notes, []);
  const ipPlacebo = consort.groups.find((g) => g.stratum === 'immunoparalysis' && g.armLabel === a.trial.armLabels.placebo);
  assert.deepEqual(ipPlacebo, { stratum: 'immunoparalysis', armLabel: a.trial.armLabels.placebo, allocated: 2, withdrawn: 1, lostToFollowUp: 0, analysed: 1, excludedFromAnalysis: 1 });
});

test('not-evaluable responders: excluded by default, non-responders under the alternative policy', () => {
  const data = smallTrial();
  const missingBaseline = { ...data, patients: data.patients.map((p) => (p.id === 'A1' ? { ...p, sofa: p.sofa.filter((s) => s.day !== 1) } : p)) };
  const excluded = analyseTrial(missingBaseline);
  assert.ok(excluded.ok);
  assert.deepEqual(excluded.value.binary[0]?.active, { events: 2, n: 3, notEvaluable: 1 });
  const counted = analyseTrial({ ...missingBaseline, endpointDefinition: { ...data.endpointDefinition, notEvaluable: 'non-responder' } });
  assert.ok(counted.ok);
  assert.deepEqual(counted.value.binary[0]?.active, { events: 2, n: 4, notEvaluable: 0 });
});

test('inconsistent patient data fail the analysis naming the patient', () => {
  const data = smallTrial();
  const broken = { ...data, patients: data.patients.map((p) => (p.id === 'B1' ? { ...p, sofa: [...p.sofa, { day: 7, total: 5 }] } : p)) };
  const r = analyseTrial(broken);
  assert.ok(!r.ok);
  assert.equal(r.error[0]?.patientId, 'B1');
  assert.match(r.error[0]?.message ?? '', /after death on day 5/);
});

test('the blinded analysis pools over arms and does not depend on the allocation', () => {
  const data = smallTrial();
  const b = analyseTrialBlinded(blindTrialDataset(data));
  assert.ok(b.ok);
  assert.deepEqual(b.value.population, {
    randomised: 8,
    analysed: 7,
    byStratum: { MALS: { randomised: 4, analysed: 4 }, immunoparalysis: { randomised: 4, analysed: 3 } },
  });
  const primary = b.value.binary[0];
  assert.deepEqual(primary?.count, { events: 4, n: 7, notEvaluable: 0 });
  assert.deepEqual(primary?.ci95, wilsonInterval({ events: 4, n: 7 }));
  assert.deepEqual(
    b.value.consort.groups.map((g) => [g.stratum, g.allocated, g.withdrawn, g.analysed, 'armLabel' in g]),
    [
      ['MALS', 4, 0, 4, false],
      ['immunoparalysis', 4, 1, 3, false],
    ],
  );
  const swapped = analyseTrialBlinded(blindTrialDataset(swappedArms(data)));
  assert.ok(swapped.ok);
  assert.deepEqual(swapped.value, b.value);
  // The projection itself carries no arm and no patient id.
  const projected = JSON.stringify(blindTrialDataset(data));
  assert.ok(!projected.includes('"arm"'));
  assert.ok(!/"A1"|"B2"/.test(projected));
});

test('a synthetic trial analyses end to end, reproducibly', () => {
  const a = simulateTrialDataset({ patients: 300, seed: 3 });
  const b = simulateTrialDataset({ patients: 300, seed: 3 });
  assert.deepEqual(a, b);
  assert.equal(a.patients.length, 300);
  assert.equal(a.screening?.randomised, 300);
  assert.equal(a.screening?.assessed, (a.screening?.randomised ?? 0) + (a.screening?.excluded.notEligible ?? 0) + (a.screening?.excluded.unclassified ?? 0));
  const parsed = parseTrialDataset(JSON.parse(JSON.stringify(trialDatasetJson(a))));
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.error.slice(0, 3)));
  const r = analyseTrial(a);
  assert.ok(r.ok);
  const primary = r.value.binary[0];
  // Latent improvers 40% vs 20%: the derived responder share is higher with the active arm.
  assert.ok((primary?.active.events ?? 0) / (primary?.active.n ?? 1) > (primary?.placebo.events ?? 0) / (primary?.placebo.n ?? 1));
  assert.notEqual(simulateTrialDataset({ patients: 300, seed: 4 }).patients[0]?.sofa[0]?.total, undefined);
});
