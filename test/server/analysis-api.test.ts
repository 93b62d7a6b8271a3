/**
 * The analysis and report routes over a trial in the store: the unblinded view for the
 * statistician and the unblinded pharmacist only (audited), 403 for every other role asking for
 * it, the blinded pooled view for everyone by default with no arm information in it (JSON and
 * HTML, byte for byte the same when only the allocation differs), the numbers derived from the
 * stored data, site isolation and 404 for an unknown trial, on both backends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { blindedDatasetFromStore, unblindedDatasetFromStore } from '../../src/server/api/trial-dataset.ts';
import type { Role } from '../../src/server/auth/principal.ts';
import { blindTrialDataset } from '../../src/stats/trial-data.ts';
import { readAuditChain, verifyAuditChain } from '../../src/store/audit.ts';
import type { Database } from '../../src/store/db.ts';
import { type NewMeasurement, insertMeasurements, upsertPatient, upsertSite } from '../../src/store/repository.ts';
import { createTrial, getTrial, listUnblindedAllocations, randomise, recordScreening, recordWithdrawal } from '../../src/store/trial.ts';
import { IMMUNOSEP_TRIAL } from '../../src/trial/definition.ts';
import { type TestApp, buildTestApp } from '../support/app.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';
import { evidenceFor } from '../support/trial.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Randomisation of the first patient: 2 h after the fixture evidence's biomarker samples. */
const R = Date.parse('2026-01-05T08:00:00.000Z');
const TRIAL = IMMUNOSEP_TRIAL.id;
const SEEDS = [Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256), Uint8Array.from({ length: 32 }, (_, i) => (i * 53 + 7) % 256)];

/**
 * One patient's course. Day 1 SOFA 6 (platelets 40, creatinine 3.0, MAP 65); an improver scores
 * 0 from day 2 (a responder: 6 - 0 > 1.4), a non-improver stays at 6. Daily ferritin (and
 * mHLA-DR for immunoparalysis) samples; `reversalDay` is the day the reversal criteria first hold.
 */
interface Course {
  id: string;
  site: 'athens' | 'milan';
  stratum: 'MALS' | 'immunoparalysis';
  improves: boolean;
  /** Days with data (1..lastDataDay). */
  lastDataDay: number;
  /** Study day of death (deceased in the middle of that day). */
  deathDay?: number;
  reversalDay?: number;
  /** A contact on study day 90 (alive then). */
  seenOnDay90?: boolean;
  withdrawn?: boolean;
}

const COURSES: Course[] = [
  { id: 'A-1', site: 'athens', stratum: 'MALS', improves: true, lastDataDay: 15, reversalDay: 3, seenOnDay90: true },
  { id: 'A-2', site: 'athens', stratum: 'MALS', improves: true, lastDataDay: 15, seenOnDay90: true },
  { id: 'A-3', site: 'athens', stratum: 'MALS', improves: false, lastDataDay: 4, deathDay: 4 },
  { id: 'A-4', site: 'athens', stratum: 'MALS', improves: false, lastDataDay: 15, seenOnDay90: true },
  { id: 'A-5', site: 'athens', stratum: 'MALS', improves: true, lastDataDay: 3 },
  { id: 'A-6', site: 'athens', stratum: 'MALS', improves: false, lastDataDay: 15, withdrawn: true },
  { id: 'A-7', site: 'athens', stratum: 'immunoparalysis', improves: true, lastDataDay: 15, reversalDay: 5 },
  { id: 'A-8', site: 'athens', stratum: 'immunoparalysis', improves: false, lastDataDay: 15 },
  { id: 'M-1', site: 'milan', stratum: 'MALS', improves: true, lastDataDay: 15, seenOnDay90: true },
  { id: 'M-2', site: 'milan', stratum: 'MALS', improves: false, lastDataDay: 15 },
];
/** Expected per patient: primary responder, death by day 28 (null: not evaluable), reversal by day 15. */
const EXPECTED: Record<string, { responder: boolean; died28: boolean | null; reversed: boolean | null }> = {
  'A-1': { responder: true, died28: false, reversed: true },
  'A-2': { responder: true, died28: false, reversed: false },
  'A-3': { responder: false, died28: true, reversed: false },
  'A-4': { responder: false, died28: false, reversed: false },
  // Lost after day 3: carried forward for SOFA, no valid reversal assessment at day 15.
  'A-5': { responder: true, died28: null, reversed: null },
  'A-6': { responder: false, died28: null, reversed: false },
  'A-7': { responder: true, died28: null, reversed: true },
  'A-8': { responder: false, died28: null, reversed: false },
  'M-1': { responder: true, died28: false, reversed: false },
  'M-2': { responder: false, died28: null, reversed: false },
};

function randomisedAt(index: number): number {
  return R + index * 60_000;
}

function measurements(course: Course, day1: number): NewMeasurement[] {
  const rows: NewMeasurement[] = [];
  const add = (concept: string, value: number, unit: string, at: number) =>
    rows.push({ patientId: course.id, concept, value, unit, effectiveStart: new Date(at).toISOString(), source: 'analysis-test', recordId: `${course.id}-${rows.length}` });
  for (let day = 1; day <= course.lastDataDay; day++) {
    const at = day1 + (day - 1) * DAY + 2 * HOUR;
    const sick = day === 1 || !course.improves;
    add('platelets', sick ? 40 : 200, '10*3/uL', at);
    add('creatinine', sick ? 3.0 : 0.8, 'mg/dL', at);
    add('map', sick ? 65 : 80, 'mm[Hg]', at);
    const reversed = course.reversalDay !== undefined && day >= course.reversalDay;
    if (course.stratum === 'MALS') add('ferritin', reversed ? 4000 : 6000, 'ng/mL', at);
    else {
      add('ferritin', 1200, 'ng/mL', at);
      add('hla_dr', reversed ? 9000 : 3000, '{molecules}/{cell}', at);
    }
  }
  if (course.seenOnDay90) add('weight', 70, 'kg', day1 + 89 * DAY + 2 * HOUR);
  return rows;
}

/** The same patients, data and times in every database; only the randomisation seed differs. */
async function seedTrial(db: Database, seed: Uint8Array): Promise<void> {
  await upsertSite(db, { id: 'athens', name: 'Athens' });
  await upsertSite(db, { id: 'milan', name: 'Milan' });
  const created = await createTrial(db, { definition: IMMUNOSEP_TRIAL, actor: 'admin', at: new Date(R - 2 * HOUR).toISOString(), seed });
  assert.ok(created.ok);
  await upsertPatient(db, { id: 'X-1', siteId: 'athens', birthDate: '2010-01-01', sex: 'female', deceasedAt: null });
  const screened = await recordScreening(db, { trialId: TRIAL, patientId: 'X-1', outcome: 'not-eligible', reasons: ['age-18'], actor: 'dr-i', at: new Date(R - HOUR).toISOString() });
  assert.ok(screened.ok);
  for (const [i, course] of COURSES.entries()) {
    const day1 = randomisedAt(i);
    const deceasedAt = course.deathDay === undefined ? null : new Date(day1 + (course.deathDay - 1) * DAY + 12 * HOUR).toISOString();
    await upsertPatient(db, { id: course.id, siteId: course.site, birthDate: '1955-03-01', sex: i % 2 ? 'male' : 'female', deceasedAt });
    await insertMeasurements(db, measurements(course, day1));
    const allocation = await randomise(db, { trialId: TRIAL, patientId: course.id, actor: 'dr-i', at: new Date(day1).toISOString(), evidence: evidenceFor(course.stratum) });
    assert.ok(allocation.ok, JSON.stringify(allocation));
  }
  for (const [i, course] of COURSES.entries()) {
    if (!course.withdrawn) continue;
    const withdrawn = await recordWithdrawal(db, { trialId: TRIAL, patientId: course.id, kind: 'consent-withdrawn', reason: 'family withdrew consent', actor: 'dr-i', at: new Date(randomisedAt(i) + 5 * DAY).toISOString() });
    assert.ok(withdrawn.ok);
  }
}

/** Arm words of the ImmunoSep definition and of any JSON that could carry an arm. */
const ARM_WORDS = /anakinra|interferon|placebo|saline|\bactive\b|\btreated\b|\bcontrol\b|armLabels|"arm"|kitContents|allocated to/i;
const INSTANT = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g;
const BLINDED_ROLES: Role[] = ['investigator', 'clinician', 'monitor', 'admin'];

for (const { backend, skip } of await testBackends()) {
  describe(`analysis and report API on ${backend}`, { skip }, () => {
    const dbs: TestDatabase[] = [];
    const apps: TestApp[] = [];
    let ctx: TestApp;
    let db: Database;
    let arms: Map<string, 'active' | 'placebo'>;
    const ALL = ['athens', 'milan'];
    const as = (role: Role, sites = ALL, id = `${role}-1`) => ctx.bearer([role], sites, id);
    const get = (url: string, headers: Record<string, string>, app = ctx) => app.app.inject({ method: 'GET', url, headers });

    before(async () => {
      for (const seed of SEEDS) {
        const t = await openTestDatabase(backend);
        dbs.push(t);
        await seedTrial(t.db, seed);
        apps.push(await buildTestApp(t.db));
      }
      ctx = apps[0]!;
      db = dbs[0]!.db;
      arms = new Map((await listUnblindedAllocations(db, TRIAL)).map((a) => [a.patientId, a.arm.allocation]));
    });
    after(async () => {
      for (const app of apps) await app.app.close();
      for (const t of dbs) await t.dispose();
    });

    test('the statistician gets the unblinded analysis by arm, with the numbers the stored data imply', async () => {
      const response = await get(`/api/trials/${TRIAL}/analysis?view=unblinded`, await as('statistician', ALL, 'stat-1'));
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['cache-control'], 'no-store');
      const body = response.json();
      assert.deepEqual(new Set(arms.values()), new Set(['active', 'placebo']), 'the patients span both arms');
      assert.equal(body.view, 'unblinded');
      assert.equal(body.analysis.blinded, false);
      assert.deepEqual(body.sites, ALL);
      assert.equal(body.patients, 10);
      assert.equal(body.sofaPreset, 'vincent1996');
      assert.deepEqual(body.endpointDefinition, { id: 'immunosep-sap', version: '1.0.0' });
      assert.match(body.analysis.trial.armLabels.active, /anakinra/);
      const count = (arm: 'active' | 'placebo', pick: (e: (typeof EXPECTED)[string]) => boolean | null) => {
        const ids = COURSES.filter((c) => arms.get(c.id) === arm).map((c) => EXPECTED[c.id]!);
        const known = ids.map(pick).filter((v) => v !== null);
        return { events: known.filter((v) => v).length, n: known.length, notEvaluable: ids.length - known.length };
      };
      const binary = new Map(body.analysis.binary.map((b: { id: string }) => [b.id, b]));
      for (const [endpoint, pick] of [
        ['responder-primary', (e: (typeof EXPECTED)[string]) => e.responder],
        ['mortality-28', (e: (typeof EXPECTED)[string]) => e.died28],
        ['reversal', (e: (typeof EXPECTED)[string]) => e.reversed],
      ] as const) {
        const result = binary.get(endpoint) as { active: unknown; placebo: unknown };
        assert.deepEqual(result.active, count('active', pick), `${endpoint}, active`);
        assert.deepEqual(result.placebo, count('placebo', pick), `${endpoint}, placebo`);
      }
      const withdrawn = body.analysis.consort.groups.reduce((sum: number, g: { withdrawn: number }) => sum + g.withdrawn, 0);
      assert.equal(withdrawn, 1);
      assert.equal(body.analysis.consort.screening.excluded.notEligible, 1);
      // Baseline ferritin from the frozen evidence (6000 ng/mL for MALS, 1200 otherwise).
      assert.ok(body.analysis.baseline.rows.some((r: { label: string; cells: Array<{ text: string }> }) => r.label.startsWith('ferritin') && r.cells[2]!.text.startsWith('6000')));
    });

    test('every unblinded answer is in the audit chain first: who, when, which trial and format', async () => {
      const before = (await readAuditChain(db)).length;
      const started = Date.now();
      const json = await get(`/api/trials/${TRIAL}/analysis?view=unblinded`, await as('statistician', ALL, 'stat-audit'));
      const html = await get(`/api/trials/${TRIAL}/report?view=unblinded`, await as('pharmacist', ALL, 'pharm-audit'));
      assert.equal(json.statusCode, 200);
      assert.equal(html.statusCode, 200);
      const added = (await readAuditChain(db)).slice(before);
      assert.deepEqual(
        added.map((e) => [e.action, e.actor, e.subject, e.payload.format]),
        [
          ['analysis.unblinded', 'stat-audit', `trial:${TRIAL}`, 'json'],
          ['analysis.unblinded', 'pharm-audit', `trial:${TRIAL}`, 'html'],
        ],
      );
      for (const entry of added) {
        assert.ok(Date.parse(entry.at) >= started - 1000 && Date.parse(entry.at) <= Date.now(), 'when');
        assert.deepEqual(entry.payload.sites, ALL);
        assert.doesNotMatch(JSON.stringify(entry.payload), ARM_WORDS, 'the audit entry itself names no arm');
      }
      assert.equal(json.json().generatedAt, added[0]!.at, 'the audited instant is the data cut-off of the answer');
      // Blinded requests are not unblinded events.
      await get(`/api/trials/${TRIAL}/analysis`, await as('statistician'));
      assert.equal((await readAuditChain(db)).length, before + 2);
      assert.equal((await verifyAuditChain(db)).ok, true);
    });

    test('the unblinded pharmacist gets the unblinded printable report', async () => {
      const response = await get(`/api/trials/${TRIAL}/report?view=unblinded`, await as('pharmacist'));
      assert.equal(response.statusCode, 200, response.body);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.match(String(response.headers['content-security-policy']), /default-src 'none'/);
      assert.ok(response.body.startsWith('<!DOCTYPE html>'));
      assert.ok(response.body.includes('UNBLINDED REPORT'));
      assert.ok(response.body.includes('active (anakinra / interferon-gamma)'));
    });

    test('investigator, clinician, monitor and admin asking for the unblinded view: 403 that reveals nothing', async () => {
      const auditBefore = (await readAuditChain(db)).length;
      for (const role of BLINDED_ROLES) {
        for (const route of ['analysis', 'report']) {
          const response = await get(`/api/trials/${TRIAL}/${route}?view=unblinded`, await as(role));
          assert.equal(response.statusCode, 403, `${role} ${route}`);
          assert.match(String(response.headers['content-type']), /application\/problem\+json/);
          assert.doesNotMatch(response.body, ARM_WORDS, `${role} ${route}`);
          assert.doesNotMatch(response.body, /A-\d|M-\d|athens|milan/, 'no patient or site');
          // The same refusal for a trial that does not exist: nothing about the trial either.
          const unknown = await get(`/api/trials/no-such-trial/${route}?view=unblinded`, await as(role));
          assert.equal(unknown.statusCode, 403);
          assert.equal(unknown.body.replace('no-such-trial', TRIAL), response.body);
        }
      }
      assert.equal((await readAuditChain(db)).length, auditBefore, 'no analysis was produced');
      const denied = await db.query<{ outcome: string; status: number }>(
        "SELECT outcome, status FROM access_log WHERE action = 'trial:analysis:read:unblinded' AND actor = 'investigator-1'",
      );
      assert.ok(denied.rows.length >= 1 && denied.rows.every((r) => r.outcome === 'denied' && Number(r.status) === 403), 'refusals are in the access log');
    });

    test('blinded roles get the pooled analysis by default: no arm word, no per-arm number, no patient id', async () => {
      for (const role of [...BLINDED_ROLES, 'statistician', 'pharmacist'] as Role[]) {
        for (const query of ['', '?view=blinded']) {
          const json = await get(`/api/trials/${TRIAL}/analysis${query}`, await as(role));
          assert.equal(json.statusCode, 200, `${role}: ${json.body}`);
          const body = json.json();
          assert.equal(body.view, 'blinded');
          assert.equal(body.analysis.blinded, true);
          assert.equal(body.analysis.population.randomised, 10);
          assert.doesNotMatch(json.body, ARM_WORDS, role);
          for (const course of COURSES) assert.ok(!json.body.includes(course.id), `${role}: patient ${course.id}`);
          const html = await get(`/api/trials/${TRIAL}/report${query}`, await as(role));
          assert.equal(html.statusCode, 200);
          assert.ok(html.body.includes('BLINDED POOLED REPORT'));
          assert.doesNotMatch(html.body, ARM_WORDS, role);
          for (const course of COURSES) assert.ok(!html.body.includes(course.id), `${role}: patient ${course.id} in the report`);
        }
      }
      const pooled = (await get(`/api/trials/${TRIAL}/analysis`, await as('investigator'))).json().analysis;
      const primary = pooled.binary.find((b: { id: string }) => b.id === 'responder-primary');
      assert.deepEqual(primary.count, { events: 5, n: 10, notEvaluable: 0 });
      assert.deepEqual(pooled.binary.find((b: { id: string }) => b.id === 'mortality-28').count, { events: 1, n: 5, notEvaluable: 5 });
      assert.deepEqual(pooled.binary.find((b: { id: string }) => b.id === 'reversal').count, { events: 2, n: 9, notEvaluable: 1 });
      assert.deepEqual(Object.keys(pooled).sort(), ['baseline', 'binary', 'blinded', 'byStratum', 'consort', 'definition', 'population', 'survival', 'trajectory', 'trial']);
    });

    test('two trials that differ only in the allocation give the same blinded bytes (and different unblinded ones)', async () => {
      const other = apps[1]!;
      const otherArms = new Map((await listUnblindedAllocations(dbs[1]!.db, TRIAL)).map((a) => [a.patientId, a.arm.allocation]));
      assert.notDeepEqual([...otherArms], [...arms], 'the two seeds allocate differently');
      const normalise = (body: string) => body.replace(INSTANT, 'TIME');
      for (const route of ['analysis', 'report']) {
        for (const role of ['investigator', 'monitor'] as Role[]) {
          const a = await get(`/api/trials/${TRIAL}/${route}`, await as(role));
          const b = await get(`/api/trials/${TRIAL}/${route}`, await other.bearer([role], ALL, `${role}-1`), other);
          assert.equal(a.statusCode, 200);
          assert.equal(normalise(b.body), normalise(a.body), `${role} ${route}`);
        }
        const a = await get(`/api/trials/${TRIAL}/${route}?view=unblinded`, await as('statistician'));
        const b = await get(`/api/trials/${TRIAL}/${route}?view=unblinded`, await other.bearer(['statistician'], ALL, 'statistician-1'), other);
        assert.notEqual(normalise(b.body), normalise(a.body), `unblinded ${route} follows the allocation`);
      }
    });

    test('the blinded dataset equals the blinded projection of the unblinded one (one derivation)', async () => {
      const trial = (await getTrial(db, TRIAL))!;
      const options = { asOf: new Date().toISOString(), siteIds: ALL };
      const open = await unblindedDatasetFromStore(db, trial, options);
      const blinded = await blindedDatasetFromStore(db, trial, options);
      assert.ok(open.ok && blinded.ok);
      const projected = blindTrialDataset(open.value);
      assert.deepEqual({ ...blinded.value, trial: { ...blinded.value.trial, title: '' } }, { ...projected, trial: { ...projected.trial, title: '' } });
      assert.doesNotMatch(blinded.value.trial.title, ARM_WORDS);
      const a1 = open.value.patients.find((p) => p.id === 'A-3')!;
      assert.deepEqual({ deathDay: a1.deathDay, lastAliveDay: a1.lastAliveDay, days: a1.sofa.map((s) => s.total) }, { deathDay: 4, lastAliveDay: null, days: [6, 6, 6, 6] });
      const a5 = open.value.patients.find((p) => p.id === 'A-5')!;
      assert.equal(a5.lastAliveDay, 3);
      assert.deepEqual(a5.sofa.slice(0, 4), [{ day: 1, total: 6 }, { day: 2, total: 0 }, { day: 3, total: 0 }, { day: 4, total: null }], 'a day without data is null, not 0');
      assert.deepEqual(a5.reversal, { reversed: 'unknown', firstReversalAt: null, assessedThroughDay: null });
      assert.deepEqual(open.value.patients.find((p) => p.id === 'A-1')!.reversal, { reversed: 'yes', firstReversalAt: 3, assessedThroughDay: 15 });
      // A cut-off inside the reversal window: not reversed yet is not a "no".
      const early = await unblindedDatasetFromStore(db, trial, { asOf: new Date(R + 6 * DAY).toISOString(), siteIds: ALL });
      assert.ok(early.ok);
      const a2 = early.value.patients.find((p) => p.id === 'A-2')!;
      assert.equal(a2.reversal?.reversed, 'unknown');
      assert.equal(a2.reversal?.assessedThroughDay, 6);
      assert.equal(a2.sofa.length, 6, 'only the days begun by the cut-off');
    });

    test('site isolation: a single-site user analyses the patients of that site only', async () => {
      const athens = (await get(`/api/trials/${TRIAL}/analysis`, await as('investigator', ['athens'], 'inv-athens'))).json();
      assert.deepEqual(athens.sites, ['athens']);
      assert.equal(athens.analysis.population.randomised, 8);
      assert.doesNotMatch(JSON.stringify(athens.analysis.baseline), /milan/);
      const milan = (await get(`/api/trials/${TRIAL}/analysis?view=unblinded`, await as('statistician', ['milan'], 'stat-milan'))).json();
      assert.equal(milan.analysis.population.randomised.active + milan.analysis.population.randomised.placebo, 2);
    });

    test('unknown trial: 404 problem; a wrong view: 400; no token: 401', async () => {
      for (const [role, query] of [
        ['statistician', '?view=unblinded'],
        ['statistician', ''],
        ['investigator', ''],
      ] as Array<[Role, string]>) {
        for (const route of ['analysis', 'report']) {
          const response = await get(`/api/trials/no-such-trial/${route}${query}`, await as(role));
          assert.equal(response.statusCode, 404, `${role} ${route}${query}`);
          assert.match(String(response.headers['content-type']), /application\/problem\+json/);
          assert.match(response.json().detail, /Trial no-such-trial was not found/);
        }
      }
      const wrong = await get(`/api/trials/${TRIAL}/analysis?view=everything`, await as('statistician'));
      assert.equal(wrong.statusCode, 400);
      assert.equal((await ctx.app.inject({ method: 'GET', url: `/api/trials/${TRIAL}/analysis` })).statusCode, 401);
    });

    test('another shipped endpoint definition on request', async () => {
      const response = await get(`/api/trials/${TRIAL}/analysis?definition=immunosep-paper`, await as('monitor'));
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json().endpointDefinition, { id: 'immunosep-paper', version: '1.0.0' });
      assert.equal(response.json().analysis.definition.responder.operator, '>=');
    });
  });
}
