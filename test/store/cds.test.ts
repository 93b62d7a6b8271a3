/**
 * CDS Hooks storage on both backends: JWT ids claimed once (and purged after expiry), a call
 * recorded with its cards in the same statement as its jti claim (nothing recorded on a replay),
 * feedback tied to the card it answers, and the records append-only.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type CdsCallRecord, claimJwtId, listCdsCalls, listCdsFeedback, purgeExpiredJwtIds, recordCdsCall, recordCdsFeedback } from '../../src/store/cds.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

const call = (patientRef: string): CdsCallRecord => ({
  serviceId: 'immunoguide-patient-view',
  hook: 'patient-view',
  hookInstance: randomUUID(),
  issuer: 'https://ehr.example.org/',
  tenant: 't1',
  userRef: 'Practitioner/1',
  patientRef,
  dataSources: [{ key: 'biomarkers', source: 'prefetch', status: 'ok', count: 2 }],
});

for (const { backend, skip } of await testBackends()) {
  describe(`CDS Hooks storage on ${backend}`, { skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await openTestDatabase(backend);
    });
    after(async () => {
      await t?.dispose();
    });

    test('a JWT id is claimed once per issuer, and forgotten after its expiry', async () => {
      const expires = new Date('2026-03-01T12:05:00Z');
      assert.equal(await claimJwtId(t.db, 'iss-a', 'j1', expires), true);
      assert.equal(await claimJwtId(t.db, 'iss-a', 'j1', expires), false);
      assert.equal(await claimJwtId(t.db, 'iss-b', 'j1', expires), true);
      assert.equal(await purgeExpiredJwtIds(t.db, new Date('2026-03-01T12:00:00Z')), 0);
      assert.equal(await purgeExpiredJwtIds(t.db, new Date('2026-03-01T12:06:00Z')), 2);
      assert.equal(await claimJwtId(t.db, 'iss-a', 'j1', expires), true);
    });

    test('a call is recorded with its cards and its jti claim; a replayed jti records nothing', async () => {
      const card = { uuid: randomUUID(), indicator: 'warning' as const, summary: 'Immune class MALS', kind: 'immune-class', suggestions: [{ uuid: randomUUID(), label: 'Propose' }] };
      const claim = { issuer: 'https://ehr.example.org/', jti: 'call-jti-1', expiresAt: new Date('2030-01-01T00:00:00Z') };
      assert.equal(await recordCdsCall(t.db, call('P-1'), [card], claim), true);
      assert.equal(await recordCdsCall(t.db, call('P-1'), [card], claim), false, 'replay');
      assert.equal(await recordCdsCall(t.db, call('P-1'), [], null), true, 'unauthenticated (development): no claim, no cards');
      const calls = await listCdsCalls(t.db, 'P-1');
      assert.equal(calls.length, 2);
      assert.equal(calls[0]!.cardCount, 1);
      assert.deepEqual(calls[0]!.cards[0], { uuid: card.uuid, indicator: 'warning', summary: 'Immune class MALS', kind: 'immune-class', suggestions: card.suggestions });
      assert.equal(calls[1]!.cardCount, 0);

      const known = await recordCdsFeedback(t.db, 'immunoguide-patient-view', 'https://ehr.example.org/', [
        { cardUuid: card.uuid.toUpperCase(), outcome: 'overridden', acceptedSuggestions: [], overrideReason: { system: 's', code: 'clinical-judgement', display: 'Clinical judgement' }, userComment: 'seen', outcomeAt: '2026-03-01T12:01:00.000Z' },
        { cardUuid: 'not-a-uuid', outcome: 'accepted', acceptedSuggestions: ['x'], overrideReason: null, userComment: null, outcomeAt: '2026-03-01T12:02:00.000Z' },
      ]);
      assert.equal(known, 1);
      const rows = await listCdsFeedback(t.db, { serviceId: 'immunoguide-patient-view' });
      assert.equal(rows.length, 2);
      assert.equal(rows[0]!.cardKnown, true, 'matched case-insensitively');
      assert.equal(rows[0]!.cardSummary, 'Immune class MALS');
      assert.equal(rows[0]!.overrideReasonCode, 'clinical-judgement');
      assert.equal(rows[0]!.userComment, 'seen');
      assert.equal(rows[1]!.cardKnown, false);
      assert.equal(rows[1]!.cardSummary, null);
    });

    test('calls and feedback are append-only', async () => {
      for (const sql of ['UPDATE cds_call SET patient_ref = $1', 'DELETE FROM cds_call WHERE patient_ref <> $1', 'UPDATE cds_feedback SET user_comment = $1', 'DELETE FROM cds_feedback WHERE user_comment <> $1']) {
        await assert.rejects(t.db.query(sql, ['x']), /append-only/, sql);
      }
    });
  });
}
