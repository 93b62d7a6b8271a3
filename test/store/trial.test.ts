import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { Database } from '../../src/store/db.ts';
import { appendAudit, readAuditChain, verifyAuditChain } from '../../src/store/audit.ts';
import { upsertPatient, upsertSite } from '../../src/store/repository.ts';
import {
  SPONSOR_UNBLINDING_TOPIC,
  createTrial,
  dispenseKit,
  getAllocationEvidence,
  getBlindedAllocation,
  getTrial,
  getTrialSeed,
  getUnblindedAllocation,
  listBlindedAllocations,
  listCrfChanges,
  listScreening,
  listUnblindedAllocations,
  listUnblindings,
  randomise,
  recordCrfChange,
  recordDeviation,
  recordScreening,
  recordWithdrawal,
  unblindEmergency,
  verifyAllocationsAgainstSeed,
} from '../../src/store/trial.ts';
import type { JsonObject } from '../../src/trial/canonical.ts';
import { IMMUNOSEP_TRIAL } from '../../src/trial/definition.ts';
import { seedFingerprint } from '../../src/trial/drbg.ts';
import { evidenceDigest } from '../../src/trial/randomisation.ts';
import { summariseScreening } from '../../src/trial/screening.ts';
import { type SequenceSlot, generateSequence } from '../../src/trial/sequence.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';
import { evidenceFor } from '../support/trial.ts';

const SEED = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256);
const TRIAL = IMMUNOSEP_TRIAL.id;
const AT = '2026-01-05T08:00:00.000Z';
/** Words that name an arm or a kit's contents: none may appear in a blinded output. */
const ARM_WORDS = /placebo|saline|"active"|interferon|anakinra|"arm|kitContents|"position"|"block/i;
/** The same without slot fields: audit entries name the stratum position (not an arm without the seed). */
const ARM_NAMES = /placebo|saline|"active"|interferon|anakinra|"arm|kitContents/i;

async function setUp(db: Database, patients: Array<[string, string]>): Promise<void> {
  for (const site of ['athens', 'lyon', 'nijmegen']) await upsertSite(db, { id: site, name: site });
  for (const [id, siteId] of patients) await upsertPatient(db, { id, siteId, birthDate: null, sex: null, deceasedAt: null });
  const created = await createTrial(db, { definition: IMMUNOSEP_TRIAL, seed: SEED, actor: 'user:admin', at: AT });
  assert.ok(created.ok, created.ok ? '' : created.error.message);
}

/** Runs statements with user triggers off, as a superuser tampering with the table would. */
async function tamper(db: Database, sql: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.exec(sql);
  });
}

function slotOf(stratumKey: string, position: number): SequenceSlot {
  const list = generateSequence(IMMUNOSEP_TRIAL, SEED, stratumKey, position);
  assert.ok(list.ok);
  return list.value[position - 1]!;
}
const armOf = (stratumKey: string, position: number): string => slotOf(stratumKey, position).armId;

for (const { backend, skip } of await testBackends()) {
  describe(`trial store on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await openTestDatabase(backend);
      await setUp(t.db, [
        ['P1', 'athens'],
        ['P2', 'athens'],
        ['P3', 'lyon'],
        ['P4', 'lyon'],
        ['P5', 'nijmegen'],
        ['P6', 'nijmegen'],
      ]);
    });
    after(async () => t?.dispose());

    test('a trial records its definition and seed; the audit commits to the seed hash only', async () => {
      const trial = await getTrial(t.db, TRIAL);
      assert.deepEqual(trial?.definition, IMMUNOSEP_TRIAL);
      assert.equal(trial?.seedSha256, seedFingerprint(SEED));
      assert.equal(await getTrialSeed(t.db, TRIAL), Buffer.from(SEED).toString('hex'));
      const [genesis] = await readAuditChain(t.db, { limit: 1 });
      assert.equal(genesis?.action, 'trial.created');
      assert.equal(genesis?.payload.seedSha256, seedFingerprint(SEED));
      assert.doesNotMatch(JSON.stringify(genesis), new RegExp(Buffer.from(SEED).toString('hex')));
      const again = await createTrial(t.db, { definition: IMMUNOSEP_TRIAL, actor: 'user:admin' });
      assert.deepEqual(again, { ok: false, error: { kind: 'trial-exists', message: 'trial immunosep already exists' } });
      const invalid = await createTrial(t.db, { definition: { ...IMMUNOSEP_TRIAL, id: 'other', blockSizes: [3] }, actor: 'user:admin' });
      assert.equal(invalid.ok ? '' : invalid.error.kind, 'invalid-definition');
    });

    test('randomise: an eligible patient gets a blinded allocation drawn from the sealed list', async () => {
      const evidence = evidenceFor('MALS');
      const result = await randomise(t.db, { trialId: TRIAL, patientId: 'P1', evidence, actor: 'user:inv', at: AT });
      assert.deepEqual(result, {
        ok: true,
        value: {
          view: 'blinded',
          trialId: TRIAL,
          patientId: 'P1',
          siteId: 'athens',
          immuneClass: 'MALS',
          stratumKey: 'immuneClass=MALS;site=athens',
          kitNumber: slotOf('immuneClass=MALS;site=athens', 1).kitNumber,
          randomisedAt: AT,
          randomisedBy: 'user:inv',
          unblinded: false,
          withdrawn: false,
        },
      });
      assert.doesNotMatch(JSON.stringify(result), ARM_WORDS);
      assert.deepEqual(await getBlindedAllocation(t.db, TRIAL, 'P1'), result.ok ? result.value : undefined);
      const pharmacy = await getUnblindedAllocation(t.db, TRIAL, 'P1');
      assert.equal(pharmacy?.position, 1);
      assert.equal(pharmacy?.arm.id, armOf('immuneClass=MALS;site=athens', 1));
      assert.equal(pharmacy?.kitContents.iv.active, pharmacy?.arm.allocation === 'active');
      const frozen = await getAllocationEvidence(t.db, TRIAL, 'P1');
      assert.deepEqual(frozen?.evidence, JSON.parse(JSON.stringify(evidence)));
      assert.equal(frozen?.evidenceSha256, evidenceDigest(frozen!.evidence));
      const chain = await readAuditChain(t.db);
      assert.deepEqual(chain.at(-1)?.payload, {
        trialId: TRIAL,
        stratumKey: 'immuneClass=MALS;site=athens',
        position: 1,
        kitNumber: pharmacy?.kitNumber ?? '',
        evidenceSha256: frozen?.evidenceSha256 ?? '',
      });
      assert.doesNotMatch(JSON.stringify(chain), ARM_NAMES);
    });

    test('a patient is randomised once; refusals write nothing', async () => {
      const before = (await readAuditChain(t.db)).length;
      const twice = await randomise(t.db, { trialId: TRIAL, patientId: 'P1', evidence: evidenceFor('MALS'), actor: 'user:inv' });
      assert.deepEqual(twice, { ok: false, error: { kind: 'already-randomised', message: 'patient P1 is already randomised in trial immunosep' } });
      const refusals = [
        await randomise(t.db, { trialId: TRIAL, patientId: 'P3', evidence: evidenceFor('MALS', 'not-eligible'), actor: 'user:inv' }),
        await randomise(t.db, { trialId: TRIAL, patientId: 'P3', evidence: evidenceFor('unclassified'), actor: 'user:inv' }),
        await randomise(t.db, { trialId: TRIAL, patientId: 'P3', evidence: { classification: {} }, actor: 'user:inv' }),
        await randomise(t.db, { trialId: TRIAL, patientId: 'nobody', evidence: evidenceFor('MALS'), actor: 'user:inv' }),
        await randomise(t.db, { trialId: 'no-trial', patientId: 'P3', evidence: evidenceFor('MALS'), actor: 'user:inv' }),
      ];
      assert.deepEqual(
        refusals.map((r) => (r.ok ? 'ok' : r.error.kind)),
        ['not-eligible', 'no-stratum', 'invalid-evidence', 'unknown-patient', 'unknown-trial'],
      );
      for (const r of refusals) assert.doesNotMatch(JSON.stringify(r), ARM_WORDS);
      assert.equal((await readAuditChain(t.db)).length, before);
      assert.equal(await getBlindedAllocation(t.db, TRIAL, 'P3'), undefined);
      const strata = await t.db.query<{ stratum_key: string }>('SELECT stratum_key FROM trial_stratum');
      assert.deepEqual(strata.rows, [{ stratum_key: 'immuneClass=MALS;site=athens' }]);
    });

    test('kits: only the allocated kit is dispensed, once', async () => {
      const p2 = await randomise(t.db, { trialId: TRIAL, patientId: 'P2', evidence: evidenceFor('immunoparalysis'), actor: 'user:inv' });
      assert.ok(p2.ok);
      const p1 = (await getBlindedAllocation(t.db, TRIAL, 'P1'))!;
      const wrong = await dispenseKit(t.db, { trialId: TRIAL, patientId: 'P2', kitNumber: p1.kitNumber, actor: 'user:pharm' });
      assert.deepEqual(wrong, { ok: false, error: { kind: 'wrong-kit', message: `kit ${p1.kitNumber} is not the kit allocated to patient P2` } });
      const dispensed = await dispenseKit(t.db, { trialId: TRIAL, patientId: 'P2', kitNumber: p2.value.kitNumber, actor: 'user:pharm', at: AT });
      assert.deepEqual(dispensed, {
        ok: true,
        value: { trialId: TRIAL, patientId: 'P2', kitNumber: p2.value.kitNumber, dispensedBy: 'user:pharm', dispensedAt: AT },
      });
      const again = await dispenseKit(t.db, { trialId: TRIAL, patientId: 'P2', kitNumber: p2.value.kitNumber, actor: 'user:pharm' });
      assert.equal(again.ok ? '' : again.error.kind, 'already-dispensed');
      const notRandomised = await dispenseKit(t.db, { trialId: TRIAL, patientId: 'P6', kitNumber: p2.value.kitNumber, actor: 'user:pharm' });
      assert.equal(notRandomised.ok ? '' : notRandomised.error.kind, 'not-randomised');
      assert.deepEqual((await readAuditChain(t.db)).at(-1)?.payload, { trialId: TRIAL, kitNumber: p2.value.kitNumber });
    });

    test('emergency unblinding: reason required, recorded, audited, sponsor notified, patient flagged', async () => {
      const short = await unblindEmergency(t.db, { trialId: TRIAL, patientId: 'P1', reason: 'why', actor: 'user:inv' });
      assert.equal(short.ok ? '' : short.error.kind, 'invalid-record');
      const reason = 'suspected anaphylaxis: treating team must know the drug';
      const result = await unblindEmergency(t.db, { trialId: TRIAL, patientId: 'P1', reason, actor: 'user:inv', at: '2026-01-06T03:00:00.000Z' });
      assert.ok(result.ok);
      assert.equal(result.value.allocation.arm.id, armOf('immuneClass=MALS;site=athens', 1));
      assert.equal(result.value.allocation.unblinded, true);
      assert.deepEqual(await listUnblindings(t.db, TRIAL), [result.value.event]);
      assert.equal((await getBlindedAllocation(t.db, TRIAL, 'P1'))?.unblinded, true);
      const outbox = await t.db.query<{ topic: string; payload: JsonObject; delivered_at: unknown }>('SELECT topic, payload, delivered_at FROM outbox_event');
      assert.deepEqual(outbox.rows, [
        {
          topic: SPONSOR_UNBLINDING_TOPIC,
          payload: { ...result.value.event, siteId: 'athens' },
          delivered_at: null,
        },
      ]);
      const entry = (await readAuditChain(t.db)).at(-1);
      assert.equal(entry?.action, 'unblinding.emergency');
      assert.deepEqual(entry?.payload, { trialId: TRIAL, unblindingId: result.value.event.id, reason });
      assert.doesNotMatch(JSON.stringify([outbox.rows, entry]), ARM_WORDS);
    });

    test('withdrawal flags the patient, stops dispensing and enters the screening log', async () => {
      const p3 = await randomise(t.db, { trialId: TRIAL, patientId: 'P3', evidence: evidenceFor('MALS'), actor: 'user:inv' });
      assert.ok(p3.ok);
      assert.equal((await recordWithdrawal(t.db, { trialId: TRIAL, patientId: 'P3', kind: 'consent-withdrawn', reason: 'no', actor: 'user:inv' })).ok, false);
      const withdrawn = await recordWithdrawal(t.db, { trialId: TRIAL, patientId: 'P3', kind: 'consent-withdrawn', reason: 'family withdrew consent', actor: 'user:inv' });
      assert.deepEqual(withdrawn, { ok: true, value: undefined });
      assert.equal((await getBlindedAllocation(t.db, TRIAL, 'P3'))?.withdrawn, true);
      const again = await recordWithdrawal(t.db, { trialId: TRIAL, patientId: 'P3', kind: 'other', reason: 'family withdrew consent', actor: 'user:inv' });
      assert.equal(again.ok ? '' : again.error.kind, 'already-withdrawn');
      const dispense = await dispenseKit(t.db, { trialId: TRIAL, patientId: 'P3', kitNumber: p3.value.kitNumber, actor: 'user:pharm' });
      assert.equal(dispense.ok ? '' : dispense.error.kind, 'withdrawn');
    });

    test('screening log: recorded outcomes plus randomised and withdrawn from the services', async () => {
      assert.equal((await recordScreening(t.db, { trialId: TRIAL, patientId: 'P4', outcome: 'not-eligible', actor: 'user:inv' })).ok, false, 'reason required');
      assert.ok((await recordScreening(t.db, { trialId: TRIAL, patientId: 'P4', outcome: 'not-eligible', reasons: ['exclusion-dnr'], actor: 'user:inv' })).ok);
      assert.ok((await recordScreening(t.db, { trialId: TRIAL, patientId: 'P5', outcome: 'unclassified', actor: 'user:inv' })).ok);
      const refused = await recordScreening(t.db, { trialId: TRIAL, patientId: 'P5', outcome: 'randomised' as 'screened', actor: 'user:inv' });
      assert.equal(refused.ok ? '' : refused.error.kind, 'invalid-record');
      const summary = summariseScreening(await listScreening(t.db, TRIAL));
      assert.deepEqual(summary, {
        assessed: 5,
        excluded: { notEligible: 1, notEligibleByReason: { 'exclusion-dnr': 1 }, unclassified: 1, notRandomised: 0 },
        randomised: 3,
        withdrawn: 1,
        bySite: { athens: { assessed: 2, randomised: 2 }, lyon: { assessed: 2, randomised: 1 }, nijmegen: { assessed: 1, randomised: 0 } },
      });
      assert.deepEqual(
        (await listScreening(t.db, TRIAL, { siteIds: ['nijmegen'] })).map((e) => [e.patientId, e.outcome]),
        [['P5', 'unclassified']],
      );
    });

    test('CRF changes keep old value, new value, who, when and why, as a gap-free history per field', async () => {
      const base = { trialId: TRIAL, patientId: 'P1', form: 'baseline', field: 'weightKg', actor: 'user:crc' };
      const first = await recordCrfChange(t.db, { ...base, oldValue: null, newValue: 70, reason: 'initial entry from chart', at: AT });
      assert.deepEqual(first, { ok: true, value: { version: 1 } });
      const stale = await recordCrfChange(t.db, { ...base, oldValue: 65, newValue: 72, reason: 'transcription error corrected' });
      assert.equal(stale.ok ? '' : stale.error.kind, 'stale-old-value');
      const second = await recordCrfChange(t.db, { ...base, oldValue: 70, newValue: 72.5, reason: 'transcription error corrected', at: AT });
      assert.deepEqual(second, { ok: true, value: { version: 2 } });
      const field = { trialId: TRIAL, patientId: 'P1', form: 'baseline', field: 'weightKg', changedBy: 'user:crc', at: AT };
      assert.deepEqual(await listCrfChanges(t.db, TRIAL, 'P1'), [
        { ...field, version: 1, oldValue: null, newValue: 70, reason: 'initial entry from chart' },
        { ...field, version: 2, oldValue: 70, newValue: 72.5, reason: 'transcription error corrected' },
      ]);
      const entry = (await readAuditChain(t.db)).at(-1);
      assert.deepEqual(entry?.payload, {
        trialId: TRIAL,
        form: 'baseline',
        field: 'weightKg',
        version: 2,
        oldValue: 70,
        newValue: 72.5,
        reason: 'transcription error corrected',
      });
      assert.equal(entry?.actor, 'user:crc');
    });

    test('protocol deviations are recorded and audited', async () => {
      const recorded = await recordDeviation(t.db, {
        trialId: TRIAL,
        siteId: 'athens',
        patientId: 'P2',
        category: 'visit',
        severity: 'minor',
        description: 'day 3 biomarkers drawn 30 h late',
        actor: 'user:monitor',
      });
      assert.ok(recorded.ok);
      assert.equal((await readAuditChain(t.db)).at(-1)?.action, 'deviation.recorded');
    });

    test('optional stratification factors make their own strata', async () => {
      const definition = {
        ...IMMUNOSEP_TRIAL,
        id: 'immunosep-covid',
        stratificationFactors: [...IMMUNOSEP_TRIAL.stratificationFactors, { name: 'covid19', description: 'COVID-19 pneumonia', values: ['yes', 'no'] }],
      };
      assert.ok((await createTrial(t.db, { definition, seed: SEED, actor: 'user:admin' })).ok);
      const missing = await randomise(t.db, { trialId: definition.id, patientId: 'P6', evidence: evidenceFor('MALS'), actor: 'user:inv' });
      assert.deepEqual(missing, { ok: false, error: { kind: 'invalid-factor', message: 'stratification factor "covid19" is missing' } });
      const result = await randomise(t.db, {
        trialId: definition.id,
        patientId: 'P6',
        evidence: evidenceFor('MALS'),
        extraFactors: { covid19: 'yes' },
        actor: 'user:inv',
      });
      assert.equal(result.ok && result.value.stratumKey, 'immuneClass=MALS;site=nijmegen;covid19=yes');
      const factors = await t.db.query<{ factors: unknown }>('SELECT factors FROM trial_stratum WHERE trial_id = $1', [definition.id]);
      assert.deepEqual(factors.rows, [{ factors: { immuneClass: 'MALS', site: 'nijmegen', covid19: 'yes' } }]);
    });

    test('trial tables and the audit log are append-only', async () => {
      const refusals = [
        'UPDATE audit_entry SET actor = $$x$$ WHERE seq = 1',
        'DELETE FROM audit_entry WHERE seq = 1',
        'TRUNCATE audit_entry',
        'UPDATE trial_allocation SET kit_number = kit_number',
        'DELETE FROM trial_slot',
        'UPDATE trial SET created_by = $$x$$',
        'DELETE FROM trial_unblinding',
        'UPDATE trial_stratum SET last_position = last_position - 1',
        'UPDATE audit_head SET seq = seq + 2',
        'DELETE FROM audit_head',
      ];
      for (const sql of refusals) await assert.rejects(t.db.exec(sql), /append-only|only counts up|only moves forward/, sql);
    });

    test('any JSON payload survives storage exactly: the stored chain verifies', async () => {
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), async (payload) => {
          const clean = JSON.parse(JSON.stringify(payload).replaceAll('\\u0000', '')) as JsonObject;
          await appendAudit(t.db, { at: AT, actor: 'user:fuzz', action: 'test.payload', subject: 'test', payload: clean });
        }),
        { numRuns: 25 },
      );
      const verification = await verifyAuditChain(t.db);
      assert.equal(verification.ok, true, JSON.stringify(verification));
    });

    test('every allocation regenerates from the recorded seed; blinded lists carry no arm', async () => {
      const report = await verifyAllocationsAgainstSeed(t.db, TRIAL);
      assert.ok(report.ok);
      assert.deepEqual(report.value.map((s) => [s.stratumKey, s.allocated, s.problems]), [
        ['immuneClass=MALS;site=athens', 1, []],
        ['immuneClass=MALS;site=lyon', 1, []],
        ['immuneClass=immunoparalysis;site=athens', 1, []],
      ]);
      const blinded = await listBlindedAllocations(t.db, TRIAL);
      assert.deepEqual(blinded.map((a) => a.patientId).sort(), ['P1', 'P2', 'P3']);
      assert.doesNotMatch(JSON.stringify(blinded), ARM_WORDS);
      assert.deepEqual((await listBlindedAllocations(t.db, TRIAL, { siteIds: ['lyon'] })).map((a) => a.patientId), ['P3']);
      for (const a of await listUnblindedAllocations(t.db, TRIAL)) assert.equal(a.arm.id, armOf(a.stratumKey, a.position));
    });
  });

  describe(`audit tampering on ${backend}`, { skip }, () => {
    // A fresh database per case: trial created (entry 1), six patients randomised (entries 2-7).
    async function chainOfSeven(): Promise<TestDatabase> {
      const t = await openTestDatabase(backend);
      const patients: Array<[string, string]> = [1, 2, 3, 4, 5, 6].map((i) => [`T${i}`, i % 2 === 0 ? 'athens' : 'lyon']);
      await setUp(t.db, patients);
      for (const [id] of patients) assert.ok((await randomise(t.db, { trialId: TRIAL, patientId: id, evidence: evidenceFor('MALS'), actor: 'user:inv' })).ok);
      const verification = await verifyAuditChain(t.db);
      assert.equal(verification.ok && verification.count, 7);
      return t;
    }

    async function firstBad(t: TestDatabase) {
      const verification = await verifyAuditChain(t.db);
      return verification.ok ? 'valid' : { seq: verification.problem.seq, kind: verification.problem.kind };
    }

    const cases: Array<[string, string, { seq: number; kind: string }]> = [
      ['an edited payload', `UPDATE audit_entry SET payload = jsonb_set(payload, '{position}', '99') WHERE seq = 4`, { seq: 4, kind: 'edited' }],
      ['an edited actor', `UPDATE audit_entry SET actor = 'user:mallory' WHERE seq = 2`, { seq: 2, kind: 'edited' }],
      ['a deleted entry', 'DELETE FROM audit_entry WHERE seq = 5', { seq: 5, kind: 'deleted' }],
      ['the first entry deleted', 'DELETE FROM audit_entry WHERE seq = 1', { seq: 1, kind: 'deleted' }],
      ['the last entry deleted', 'DELETE FROM audit_entry WHERE seq = 7', { seq: 7, kind: 'truncated' }],
      [
        'two entries swapped',
        'UPDATE audit_entry SET seq = 100 WHERE seq = 3; UPDATE audit_entry SET seq = 3 WHERE seq = 4; UPDATE audit_entry SET seq = 4 WHERE seq = 100',
        { seq: 3, kind: 'reordered' },
      ],
    ];
    for (const [name, sql, expected] of cases) {
      test(`${name} is detected and named`, async () => {
        const t = await chainOfSeven();
        try {
          await tamper(t.db, sql);
          assert.deepEqual(await firstBad(t), expected);
        } finally {
          await t.dispose();
        }
      });
    }
  });

  describe(`200 concurrent randomisations on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    // 4 strata over 3 sites: athens MALS and immunoparalysis, nijmegen MALS, lyon immunoparalysis.
    const plan: Array<{ site: string; className: 'MALS' | 'immunoparalysis'; count: number }> = [
      { site: 'athens', className: 'MALS', count: 60 },
      { site: 'athens', className: 'immunoparalysis', count: 50 },
      { site: 'nijmegen', className: 'MALS', count: 50 },
      { site: 'lyon', className: 'immunoparalysis', count: 40 },
    ];
    const patients = plan.flatMap(({ site, className, count }) =>
      Array.from({ length: count }, (_, i) => ({ id: `${site}-${className}-${i + 1}`, site, className })),
    );
    before(async () => {
      t = await openTestDatabase(backend);
      await setUp(
        t.db,
        patients.map((p) => [p.id, p.site]),
      );
    });
    after(async () => t?.dispose());

    test('every patient exactly once, no position reused or skipped, blocks balanced, chain valid', async () => {
      // 200 requests at once, plus a second concurrent request for 20 of the patients.
      const requests = [...patients, ...patients.filter((_, i) => i % 10 === 0)].map((p) =>
        randomise(t.db, { trialId: TRIAL, patientId: p.id, evidence: evidenceFor(p.className), actor: 'user:inv' }),
      );
      const results = await Promise.all(requests);
      const refused = results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.error.kind));
      assert.equal(results.length - refused.length, 200);
      assert.deepEqual(new Set(refused), new Set(['already-randomised']));
      assert.equal(refused.length, 20);

      const allocations = await listUnblindedAllocations(t.db, TRIAL);
      assert.equal(allocations.length, 200);
      assert.equal(new Set(allocations.map((a) => a.patientId)).size, 200);
      for (const { site, className, count } of plan) {
        const key = `immuneClass=${className};site=${site}`;
        const stratum = allocations.filter((a) => a.stratumKey === key).sort((a, b) => a.position - b.position);
        assert.deepEqual(
          stratum.map((a) => a.position),
          Array.from({ length: count }, (_, i) => i + 1),
          `${key}: positions 1..${count}, each once`,
        );
        const expected = generateSequence(IMMUNOSEP_TRIAL, SEED, key, count);
        assert.ok(expected.ok);
        assert.deepEqual(
          stratum.map((a) => [a.arm.id, a.kitNumber]),
          expected.value.map((s) => [s.armId, s.kitNumber]),
          `${key}: regenerated from the seed`,
        );
        const active = stratum.filter((a) => a.arm.allocation === 'active').length;
        const completeBlocks = stratum.filter((a) => a.positionInBlock === a.blockSize);
        for (const end of completeBlocks) {
          const block = stratum.filter((a) => a.block === end.block);
          assert.equal(block.filter((a) => a.arm.allocation === 'active').length, end.blockSize / 2, `${key} block ${end.block}`);
        }
        assert.ok(Math.abs(2 * active - count) <= 6, `${key}: ${active} active of ${count}`);
      }

      const verification = await verifyAuditChain(t.db);
      assert.equal(verification.ok, true, JSON.stringify(verification));
      assert.equal(verification.count, 201);
      const seedCheck = await verifyAllocationsAgainstSeed(t.db, TRIAL);
      assert.ok(seedCheck.ok);
      assert.deepEqual(
        seedCheck.value.flatMap((s) => s.problems),
        [],
      );
      const chain = await readAuditChain(t.db);
      const positions = chain.filter((e) => e.action === 'allocation.created').map((e) => `${String(e.payload.stratumKey)}#${String(e.payload.position)}`);
      assert.equal(new Set(positions).size, 200, 'the audit log names each (stratum, position) once');
    });
  });
}
