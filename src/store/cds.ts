/**
 * Storage of the CDS Hooks service (migrations 0004_cds.sql, 0006_cds_perf.sql): JWT ids seen
 * (replay protection shared by every instance), the calls answered with the cards issued, and the
 * EHR's feedback.
 */
import type { Queryable } from './db.ts';

/**
 * Records a JWT id; false when the same issuer already used it (a replay). The row lives until
 * the token's expiry, after which the expiry check refuses the token anyway.
 */
export async function claimJwtId(db: Queryable, issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
  const result = await db.query(
    'INSERT INTO cds_jwt_seen (issuer, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT (issuer, jti) DO NOTHING',
    [issuer, jti, expiresAt.toISOString()],
  );
  return result.affectedRows === 1;
}

/** Forgets JWT ids of tokens that expired before `now`. */
export async function purgeExpiredJwtIds(db: Queryable, now: Date): Promise<number> {
  const result = await db.query('DELETE FROM cds_jwt_seen WHERE expires_at < $1', [now.toISOString()]);
  return result.affectedRows;
}

export interface CdsCallRecord {
  serviceId: string;
  hook: string;
  hookInstance: string;
  issuer: string | null;
  tenant: string | null;
  userRef: string | null;
  patientRef: string;
  dataSources: unknown;
}

export interface CdsCardRecord {
  uuid: string;
  indicator: 'info' | 'warning' | 'critical';
  summary: string;
  kind: string;
  suggestions: Array<{ uuid: string; label: string }>;
}

/** A JWT id to claim with the record (replay protection), with how long to keep it. */
export interface JwtClaim {
  issuer: string;
  jti: string;
  expiresAt: Date;
}

/**
 * Records one call and its cards, claiming the call's JWT id in the same statement (one round
 * trip on the hot path). Returns false, recording nothing, when the JWT id was already used.
 */
export async function recordCdsCall(db: Queryable, call: CdsCallRecord, cards: readonly CdsCardRecord[], claim: JwtClaim | null = null): Promise<boolean> {
  const [recorded] = await recordCdsCalls(db, [{ call, cards, claim }]);
  return recorded === true;
}

/** One call to record with its cards and, when authenticated, the JWT id it claims. */
export interface CdsCallEntry {
  call: CdsCallRecord;
  cards: readonly CdsCardRecord[];
  claim: JwtClaim | null;
}

/**
 * Records several calls in one statement (group commit: the calls that arrived while the
 * previous write was running share one round trip and one commit). Each call is recorded with
 * its cards only when its jti claim succeeds, exactly as `recordCdsCall` does for one; the
 * result says, per entry, whether it was recorded (false: the jti was already used, by an
 * earlier statement on any instance or by an earlier entry of this same batch).
 *
 * The statement is atomic: when it fails nothing is recorded and no jti is claimed, so the
 * caller may retry the entries one by one. The work is the function cds_record_calls
 * (migration 0006), whose plan the database keeps for the session.
 */
export async function recordCdsCalls(db: Queryable, entries: readonly CdsCallEntry[]): Promise<boolean[]> {
  if (entries.length === 0) return [];
  const batch = entries.map(({ call, cards, claim }, n) => ({
    n,
    service_id: call.serviceId,
    hook: call.hook,
    hook_instance: call.hookInstance,
    issuer: call.issuer,
    tenant: call.tenant,
    user_ref: call.userRef,
    patient_ref: call.patientRef,
    data_sources: call.dataSources,
    cards,
    claim_issuer: claim?.issuer ?? null,
    jti: claim?.jti ?? null,
    expires_at: claim?.expiresAt.toISOString() ?? null,
  }));
  const result = await db.query<{ n: number }>('SELECT n FROM cds_record_calls($1::jsonb) AS r(n)', [JSON.stringify(batch)]);
  const recorded = entries.map(() => false);
  for (const row of result.rows) recorded[Number(row.n)] = true;
  return recorded;
}

export interface CdsFeedbackRecord {
  cardUuid: string;
  outcome: 'accepted' | 'overridden';
  acceptedSuggestions: string[];
  overrideReason: { system?: string; code?: string; display?: string } | null;
  userComment: string | null;
  outcomeAt: string;
}

/** Records feedback items; returns how many refer to cards this service issued. */
/** The feedback's card as a uuid, or null when it is not one (feedback about a foreign card is still recorded). */
const UUID_OR_NULL = "CASE WHEN f.card_uuid ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN f.card_uuid::uuid END";

export async function recordCdsFeedback(db: Queryable, serviceId: string, issuer: string | null, items: readonly CdsFeedbackRecord[]): Promise<number> {
  const result = await db.query<{ known: number }>(
    `WITH inserted AS (
       INSERT INTO cds_feedback (service_id, card_uuid, card_known, outcome, accepted_suggestions, override_reason_system,
                                 override_reason_code, override_reason_display, user_comment, outcome_at, issuer)
       SELECT $1, f.card_uuid,
              EXISTS (SELECT 1 FROM cds_call k WHERE k.card_uuids @> ARRAY[${UUID_OR_NULL}]),
              f.outcome, ARRAY(SELECT jsonb_array_elements_text(f.accepted)), f.reason_system, f.reason_code, f.reason_display,
              f.user_comment, f.outcome_at::timestamptz, $2
         FROM jsonb_to_recordset($3::jsonb) AS f(card_uuid text, outcome text, accepted jsonb, reason_system text, reason_code text,
                                                 reason_display text, user_comment text, outcome_at text)
       RETURNING card_known
     )
     SELECT count(*) FILTER (WHERE card_known)::int AS known FROM inserted`,
    [
      serviceId,
      issuer,
      JSON.stringify(
        items.map((i) => ({
          card_uuid: i.cardUuid,
          outcome: i.outcome,
          accepted: i.acceptedSuggestions,
          reason_system: i.overrideReason?.system ?? null,
          reason_code: i.overrideReason?.code ?? null,
          reason_display: i.overrideReason?.display ?? null,
          user_comment: i.userComment,
          outcome_at: i.outcomeAt,
        })),
      ),
    ],
  );
  return result.rows[0]?.known ?? 0;
}

export interface CdsFeedbackRow {
  serviceId: string;
  cardUuid: string;
  cardKnown: boolean;
  outcome: string;
  acceptedSuggestions: string[];
  overrideReasonCode: string | null;
  overrideReasonSystem: string | null;
  overrideReasonDisplay: string | null;
  userComment: string | null;
  outcomeAt: string;
  issuer: string | null;
  cardSummary: string | null;
  cardIndicator: string | null;
}

/** Feedback with the card it answers (oldest first), e.g. for override-rate reports. */
export async function listCdsFeedback(db: Queryable, filter: { serviceId?: string; cardUuid?: string } = {}): Promise<CdsFeedbackRow[]> {
  const result = await db.query<Omit<CdsFeedbackRow, 'outcomeAt'> & { outcomeAt: Date | string }>(
    `SELECT f.service_id AS "serviceId", f.card_uuid AS "cardUuid", f.card_known AS "cardKnown", f.outcome,
            f.accepted_suggestions AS "acceptedSuggestions", f.override_reason_code AS "overrideReasonCode",
            f.override_reason_system AS "overrideReasonSystem", f.override_reason_display AS "overrideReasonDisplay",
            f.user_comment AS "userComment", f.outcome_at AS "outcomeAt", f.issuer,
            c.card->>'summary' AS "cardSummary", c.card->>'indicator' AS "cardIndicator"
       FROM cds_feedback f
       LEFT JOIN LATERAL (
         SELECT card FROM cds_call k, jsonb_array_elements(k.cards) card
          WHERE k.card_uuids @> ARRAY[${UUID_OR_NULL}] AND card->>'uuid' = lower(f.card_uuid)
          LIMIT 1
       ) c ON true
      WHERE ($1::text IS NULL OR f.service_id = $1) AND ($2::text IS NULL OR f.card_uuid = $2)
      ORDER BY f.id`,
    [filter.serviceId ?? null, filter.cardUuid ?? null],
  );
  return result.rows.map((r) => ({ ...r, outcomeAt: r.outcomeAt instanceof Date ? r.outcomeAt.toISOString() : new Date(r.outcomeAt).toISOString() }));
}

export interface CdsCallRow {
  serviceId: string;
  hook: string;
  hookInstance: string;
  issuer: string | null;
  patientRef: string;
  cardCount: number;
  cards: Array<{ uuid: string; indicator: string; summary: string; kind: string }>;
}

/** Calls answered for a patient (newest last), with their cards. */
export async function listCdsCalls(db: Queryable, patientRef: string): Promise<CdsCallRow[]> {
  const result = await db.query<CdsCallRow>(
    `SELECT k.service_id AS "serviceId", k.hook, k.hook_instance AS "hookInstance", k.issuer, k.patient_ref AS "patientRef",
            jsonb_array_length(k.cards) AS "cardCount", k.cards
       FROM cds_call k WHERE k.patient_ref = $1 ORDER BY k.id`,
    [patientRef],
  );
  return result.rows;
}
