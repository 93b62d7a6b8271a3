/**
 * Trial operations over the database: the service layer the HTTP routes call. Rules are pure
 * (src/trial); this file reads and writes, and every write goes into the audit chain in the
 * same transaction (appendAuditEntry, always last: see src/store/audit.ts).
 *
 * Blinding: functions return BlindedAllocation unless their name says Unblinded; blinded
 * queries never select the arm (it lives in trial_slot only). Refusals never mention an arm.
 * Who may call what (investigator, pharmacist, statistician...) is decided by the routes.
 *
 * Randomisation, the one concurrent hot path, has two short critical sections:
 *   1. the stratum's counter row (INSERT ... ON CONFLICT DO UPDATE ... RETURNING) gives the next
 *      position and stays locked until commit, serialising randomisations within a stratum
 *      only; a rollback returns the position, so positions are never skipped or reused;
 *   2. the audit head row (last statement), serialising the chain.
 */
import { randomBytes } from 'node:crypto';
import type { TargetedClass } from '../clinical/therapy.ts';
import { type Result, err, ok } from '../clinical/types.ts';
import { type BlindedAllocation, type UnblindedAllocation, kitContents } from '../trial/blinding.ts';
import { type JsonValue, canonicalJson, jsonProblem, sha256Hex } from '../trial/canonical.ts';
import { type TrialDefinition, armsOf, validateDefinition } from '../trial/definition.ts';
import { parseSeedHex, seedFingerprint, seedToHex } from '../trial/drbg.ts';
import { type RandomisationRefusal, decideRandomisation } from '../trial/randomisation.ts';
import {
  type CrfChange,
  type DeviationRecord,
  type WithdrawalRecord,
  checkCrfChange,
  checkDeviation,
  checkUnblinding,
  checkWithdrawal,
} from '../trial/records.ts';
import type { ScreeningEntry, ScreeningOutcome } from '../trial/screening.ts';
import { generateSequence, slotAt } from '../trial/sequence.ts';
import { appendAuditEntry } from './audit.ts';
import { type Database, DatabaseError, type Queryable } from './db.ts';

/** Why a trial operation was refused: a kind for programs, a message for people. Never an arm. */
export type TrialRefusal =
  | RandomisationRefusal
  | {
      kind:
        | 'invalid-definition'
        | 'trial-exists'
        | 'unknown-trial'
        | 'unknown-patient'
        | 'already-randomised'
        | 'not-randomised'
        | 'wrong-kit'
        | 'already-dispensed'
        | 'withdrawn'
        | 'already-withdrawn'
        | 'invalid-record'
        | 'stale-old-value';
      message: string;
    };

/** Who acts and when. `at` defaults to now; tests pass fixed times. */
export interface Act {
  actor: string;
  at?: Date | string;
}

function instant(at: Date | string | undefined): string {
  const date = at === undefined ? new Date() : new Date(at);
  if (Number.isNaN(date.getTime())) throw new RangeError(`invalid time: ${String(at)}`);
  return date.toISOString();
}

function refuse(kind: TrialRefusal['kind'], message: string): Result<never, TrialRefusal> {
  return err({ kind, message } as TrialRefusal);
}

// ---------------------------------------------------------------------------------------------
// Trials

export interface TrialRecord {
  id: string;
  definition: TrialDefinition;
  definitionSha256: string;
  seedSha256: string;
  createdBy: string;
  createdAt: string;
}

/**
 * Creates a trial from a definition. The seed is drawn here from the operating system's CSPRNG
 * (256 bits) unless one is given (tests, or re-creating a trial from a sealed envelope). The
 * audit entry commits to the definition and to the seed's SHA-256, never to the seed.
 */
export async function createTrial(
  db: Database,
  input: Act & { definition: TrialDefinition; seed?: Uint8Array },
): Promise<Result<TrialRecord, TrialRefusal>> {
  const { definition } = input;
  const json = jsonProblem(definition);
  const valid = validateDefinition(definition);
  if (json !== undefined || !valid.ok) {
    const problems = json !== undefined ? [json] : !valid.ok ? valid.error.map((p) => `${p.path}: ${p.message}`) : [];
    return refuse('invalid-definition', `invalid trial definition: ${problems.join('; ')}`);
  }
  const seed = input.seed ?? randomBytes(32);
  const seedHex = seedToHex(seed);
  if (!parseSeedHex(seedHex).ok) return refuse('invalid-definition', 'the seed must be 16 to 64 bytes');
  const record: TrialRecord = {
    id: definition.id,
    definition,
    definitionSha256: sha256Hex(canonicalJson(definition as unknown as JsonValue)),
    seedSha256: seedFingerprint(seed),
    createdBy: input.actor,
    createdAt: instant(input.at),
  };
  return db.transaction(async (tx) => {
    const inserted = await tx.query(
      `INSERT INTO trial (id, definition, definition_sha256, seed_hex, seed_sha256, created_by, created_at)
       VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
      [record.id, JSON.stringify(definition), record.definitionSha256, seedHex, record.seedSha256, record.createdBy, record.createdAt],
    );
    if (inserted.affectedRows === 0) return refuse('trial-exists', `trial ${record.id} already exists`);
    await appendAuditEntry(tx, {
      at: record.createdAt,
      actor: record.createdBy,
      action: 'trial.created',
      subject: `trial:${record.id}`,
      payload: {
        trialId: record.id,
        definitionId: definition.id,
        definitionVersion: definition.version,
        definitionSha256: record.definitionSha256,
        sequenceAlgorithm: definition.sequenceAlgorithm,
        seedSha256: record.seedSha256,
      },
    });
    return ok(record);
  });
}

interface TrialRow {
  id: string;
  definition: TrialDefinition;
  definition_sha256: string;
  seed_sha256: string;
  created_by: string;
  created_at: Date | string;
}

export async function getTrial(db: Queryable, trialId: string): Promise<TrialRecord | undefined> {
  const result = await db.query<TrialRow>(
    'SELECT id, definition, definition_sha256, seed_sha256, created_by, created_at FROM trial WHERE id = $1',
    [trialId],
  );
  const row = result.rows[0];
  return (
    row && {
      id: row.id,
      definition: row.definition,
      definitionSha256: row.definition_sha256,
      seedSha256: row.seed_sha256,
      createdBy: row.created_by,
      createdAt: new Date(row.created_at).toISOString(),
    }
  );
}

/**
 * The trial's seed (hex). Whoever holds it can regenerate every list and so knows every arm:
 * only the unblinded statistician may be given it.
 */
export async function getTrialSeed(db: Queryable, trialId: string): Promise<string | undefined> {
  const result = await db.query<{ seed_hex: string }>('SELECT seed_hex FROM trial WHERE id = $1', [trialId]);
  return result.rows[0]?.seed_hex;
}

async function trialWithSeed(db: Queryable, trialId: string): Promise<{ definition: TrialDefinition; seed: Uint8Array } | undefined> {
  const result = await db.query<{ definition: TrialDefinition; seed_hex: string }>('SELECT definition, seed_hex FROM trial WHERE id = $1', [
    trialId,
  ]);
  const row = result.rows[0];
  if (row === undefined) return undefined;
  const seed = parseSeedHex(row.seed_hex);
  if (!seed.ok) throw new Error(`trial ${trialId}: stored seed is invalid (${seed.error})`);
  return { definition: row.definition, seed: seed.value };
}

// ---------------------------------------------------------------------------------------------
// Randomisation

export interface RandomiseInput extends Act {
  trialId: string;
  patientId: string;
  /** The frozen evidence: { classification, eligibility } as the clinical engine produced them. */
  evidence: unknown;
  /** Extra stratification factors declared by the definition (site and immune class are derived). */
  extraFactors?: Readonly<Record<string, string>>;
}

class AlreadyRandomised extends Error {}

export async function randomise(db: Database, input: RandomiseInput): Promise<Result<BlindedAllocation, TrialRefusal>> {
  const at = instant(input.at);
  const trial = await trialWithSeed(db, input.trialId);
  if (trial === undefined) return refuse('unknown-trial', `trial ${input.trialId} does not exist`);
  const patient = await db.query<{ site_id: string }>('SELECT site_id FROM patient WHERE id = $1', [input.patientId]);
  const siteId = patient.rows[0]?.site_id;
  if (siteId === undefined) return refuse('unknown-patient', `patient ${input.patientId} does not exist`);

  const decision = decideRandomisation(trial.definition, {
    patientId: input.patientId,
    siteId,
    evidence: input.evidence,
    ...(input.extraFactors === undefined ? {} : { extraFactors: input.extraFactors }),
  });
  if (!decision.ok) return decision;
  const { immuneClass, stratumKey, factors, evidenceSha256 } = decision.value;

  try {
    const allocation = await db.transaction(async (tx) => {
      if (await isRandomised(tx, input.trialId, input.patientId)) throw new AlreadyRandomised();

      // Critical section 1: the stratum's next position (row locked until commit).
      const counter = await tx.query<{ last_position: number }>(
        `INSERT INTO trial_stratum (trial_id, stratum_key, factors, last_position) VALUES ($1, $2, $3::jsonb, 1)
         ON CONFLICT (trial_id, stratum_key) DO UPDATE SET last_position = trial_stratum.last_position + 1
         RETURNING last_position`,
        [input.trialId, stratumKey, JSON.stringify(factors)],
      );
      const position = Number(counter.rows[0]!.last_position);
      const slot = slotAt(trial.definition, trial.seed, stratumKey, position);
      if (!slot.ok) throw new Error(`randomisation list of ${stratumKey}: ${slot.error}`);
      const { block, blockSize, positionInBlock, armId, kitNumber } = slot.value;

      await tx.query(
        `INSERT INTO trial_slot (trial_id, stratum_key, position, block, block_size, position_in_block, arm_id, kit_number)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [input.trialId, stratumKey, position, block, blockSize, positionInBlock, armId, kitNumber],
      );
      await tx.query(
        `INSERT INTO trial_allocation (trial_id, patient_id, site_id, immune_class, stratum_key, position, kit_number,
           evidence, evidence_sha256, randomised_by, randomised_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11)`,
        [input.trialId, input.patientId, siteId, immuneClass, stratumKey, position, kitNumber, JSON.stringify(input.evidence), evidenceSha256, input.actor, at],
      );
      await insertScreening(tx, { trialId: input.trialId, patientId: input.patientId, siteId, outcome: 'randomised', reasons: [] }, input.actor, at);
      // Critical section 2: the audit chain (last statement).
      await appendAuditEntry(tx, {
        at,
        actor: input.actor,
        action: 'allocation.created',
        subject: `patient:${input.patientId}`,
        payload: { trialId: input.trialId, stratumKey, position, kitNumber, evidenceSha256 },
      });
      return blindedFromValues({ trialId: input.trialId, patientId: input.patientId, siteId, immuneClass, stratumKey, kitNumber, at, actor: input.actor });
    });
    return ok(allocation);
  } catch (error) {
    // A concurrent request for the same patient loses on the primary key and rolls back
    // (returning its position); report it like the sequential case.
    const duplicate = error instanceof DatabaseError && error.code === '23505' && (await isRandomised(db, input.trialId, input.patientId));
    if (error instanceof AlreadyRandomised || duplicate) {
      return refuse('already-randomised', `patient ${input.patientId} is already randomised in trial ${input.trialId}`);
    }
    throw error;
  }
}

async function isRandomised(db: Queryable, trialId: string, patientId: string): Promise<boolean> {
  const result = await db.query('SELECT 1 FROM trial_allocation WHERE trial_id = $1 AND patient_id = $2', [trialId, patientId]);
  return result.rows.length > 0;
}

function blindedFromValues(v: {
  trialId: string;
  patientId: string;
  siteId: string;
  immuneClass: TargetedClass;
  stratumKey: string;
  kitNumber: string;
  at: string;
  actor: string;
}): BlindedAllocation {
  return {
    view: 'blinded',
    trialId: v.trialId,
    patientId: v.patientId,
    siteId: v.siteId,
    immuneClass: v.immuneClass,
    stratumKey: v.stratumKey,
    kitNumber: v.kitNumber,
    randomisedAt: v.at,
    randomisedBy: v.actor,
    unblinded: false,
    withdrawn: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Reading allocations: blinded and unblinded views

interface BlindedRow {
  trial_id: string;
  patient_id: string;
  site_id: string;
  immune_class: TargetedClass;
  stratum_key: string;
  kit_number: string;
  randomised_at: Date | string;
  randomised_by: string;
  unblinded: boolean;
  withdrawn: boolean;
}

// No column of trial_slot here: the blinded query cannot return an arm.
const BLINDED_COLUMNS = `
  a.trial_id, a.patient_id, a.site_id, a.immune_class, a.stratum_key, a.kit_number, a.randomised_at, a.randomised_by,
  EXISTS (SELECT 1 FROM trial_unblinding u WHERE u.trial_id = a.trial_id AND u.patient_id = a.patient_id) AS unblinded,
  EXISTS (SELECT 1 FROM trial_withdrawal w WHERE w.trial_id = a.trial_id AND w.patient_id = a.patient_id) AS withdrawn`;
const BLINDED_SELECT = `SELECT ${BLINDED_COLUMNS} FROM trial_allocation a`;

function blindedFromRow(row: BlindedRow): BlindedAllocation {
  return {
    view: 'blinded',
    trialId: row.trial_id,
    patientId: row.patient_id,
    siteId: row.site_id,
    immuneClass: row.immune_class,
    stratumKey: row.stratum_key,
    kitNumber: row.kit_number,
    randomisedAt: new Date(row.randomised_at).toISOString(),
    randomisedBy: row.randomised_by,
    unblinded: row.unblinded,
    withdrawn: row.withdrawn,
  };
}

export async function getBlindedAllocation(db: Queryable, trialId: string, patientId: string): Promise<BlindedAllocation | undefined> {
  const result = await db.query<BlindedRow>(`${BLINDED_SELECT} WHERE a.trial_id = $1 AND a.patient_id = $2`, [trialId, patientId]);
  return result.rows[0] && blindedFromRow(result.rows[0]);
}

/** Allocations of a trial (optionally of some sites), in order of randomisation. */
export async function listBlindedAllocations(db: Queryable, trialId: string, options: { siteIds?: readonly string[] } = {}): Promise<BlindedAllocation[]> {
  const result = await db.query<BlindedRow>(
    `${BLINDED_SELECT} WHERE a.trial_id = $1 AND ($2::text[] IS NULL OR a.site_id = ANY($2::text[]))
     ORDER BY a.randomised_at, a.patient_id`,
    [trialId, options.siteIds ?? null],
  );
  return result.rows.map(blindedFromRow);
}

interface UnblindedRow extends BlindedRow {
  position: number;
  block: number;
  block_size: number;
  position_in_block: number;
  arm_id: string;
  definition: TrialDefinition;
}

const UNBLINDED_SELECT = `
  SELECT ${BLINDED_COLUMNS}, s.position, s.block, s.block_size, s.position_in_block, s.arm_id, t.definition
  FROM trial_allocation a
  JOIN trial_slot s ON s.trial_id = a.trial_id AND s.stratum_key = a.stratum_key AND s.position = a.position
  JOIN trial t ON t.id = a.trial_id`;

function unblindedFromRow(row: UnblindedRow): UnblindedAllocation {
  const arm = armsOf(row.definition, row.immune_class)?.find((a) => a.id === row.arm_id);
  if (arm === undefined) throw new Error(`trial ${row.trial_id}: slot arm is not in the definition`);
  const blinded = blindedFromRow(row);
  return {
    view: 'unblinded',
    trialId: blinded.trialId,
    patientId: blinded.patientId,
    siteId: blinded.siteId,
    immuneClass: blinded.immuneClass,
    stratumKey: blinded.stratumKey,
    kitNumber: blinded.kitNumber,
    randomisedAt: blinded.randomisedAt,
    randomisedBy: blinded.randomisedBy,
    unblinded: blinded.unblinded,
    withdrawn: blinded.withdrawn,
    position: Number(row.position),
    block: Number(row.block),
    blockSize: Number(row.block_size),
    positionInBlock: Number(row.position_in_block),
    arm: { id: arm.id, label: arm.label, allocation: arm.allocation },
    kitContents: kitContents(row.immune_class, arm.allocation),
  };
}

/** Pharmacist only: the allocation with its arm and kit contents. */
export async function getUnblindedAllocation(db: Queryable, trialId: string, patientId: string): Promise<UnblindedAllocation | undefined> {
  const result = await db.query<UnblindedRow>(`${UNBLINDED_SELECT} WHERE a.trial_id = $1 AND a.patient_id = $2`, [trialId, patientId]);
  return result.rows[0] && unblindedFromRow(result.rows[0]);
}

/** Pharmacist only. */
export async function listUnblindedAllocations(
  db: Queryable,
  trialId: string,
  options: { siteIds?: readonly string[] } = {},
): Promise<UnblindedAllocation[]> {
  const result = await db.query<UnblindedRow>(
    `${UNBLINDED_SELECT} WHERE a.trial_id = $1 AND ($2::text[] IS NULL OR a.site_id = ANY($2::text[]))
     ORDER BY a.randomised_at, a.patient_id`,
    [trialId, options.siteIds ?? null],
  );
  return result.rows.map(unblindedFromRow);
}

/** The evidence frozen with an allocation (arm-free) and its digest. */
export async function getAllocationEvidence(
  db: Queryable,
  trialId: string,
  patientId: string,
): Promise<{ evidence: JsonValue; evidenceSha256: string } | undefined> {
  const result = await db.query<{ evidence: JsonValue; evidence_sha256: string }>(
    'SELECT evidence, evidence_sha256 FROM trial_allocation WHERE trial_id = $1 AND patient_id = $2',
    [trialId, patientId],
  );
  const row = result.rows[0];
  return row && { evidence: row.evidence, evidenceSha256: row.evidence_sha256 };
}

// ---------------------------------------------------------------------------------------------
// Kits

export interface Dispensation {
  trialId: string;
  patientId: string;
  kitNumber: string;
  dispensedBy: string;
  dispensedAt: string;
}

/** Records that the pharmacy handed out the patient's kit. Only the patient's own kit, once, and not after withdrawal. */
export async function dispenseKit(
  db: Database,
  input: Act & { trialId: string; patientId: string; kitNumber: string },
): Promise<Result<Dispensation, TrialRefusal>> {
  const at = instant(input.at);
  return db.transaction(async (tx) => {
    const allocation = await getBlindedAllocation(tx, input.trialId, input.patientId);
    if (allocation === undefined) return refuse('not-randomised', `patient ${input.patientId} is not randomised in trial ${input.trialId}`);
    if (allocation.withdrawn) return refuse('withdrawn', `patient ${input.patientId} was withdrawn from trial ${input.trialId}`);
    if (allocation.kitNumber !== input.kitNumber) {
      return refuse('wrong-kit', `kit ${input.kitNumber} is not the kit allocated to patient ${input.patientId}`);
    }
    const inserted = await tx.query(
      `INSERT INTO trial_dispensation (trial_id, kit_number, patient_id, dispensed_by, dispensed_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (trial_id, kit_number) DO NOTHING`,
      [input.trialId, input.kitNumber, input.patientId, input.actor, at],
    );
    if (inserted.affectedRows === 0) return refuse('already-dispensed', `kit ${input.kitNumber} was already dispensed`);
    await appendAuditEntry(tx, {
      at,
      actor: input.actor,
      action: 'kit.dispensed',
      subject: `patient:${input.patientId}`,
      payload: { trialId: input.trialId, kitNumber: input.kitNumber },
    });
    return ok({ trialId: input.trialId, patientId: input.patientId, kitNumber: input.kitNumber, dispensedBy: input.actor, dispensedAt: at });
  });
}

// ---------------------------------------------------------------------------------------------
// Emergency unblinding

export const SPONSOR_UNBLINDING_TOPIC = 'trial.emergency-unblinding';

export interface UnblindingEvent {
  id: number;
  trialId: string;
  patientId: string;
  reason: string;
  requestedBy: string;
  at: string;
}

/**
 * An investigator's emergency unblinding: recorded with its reason, audited, the sponsor
 * notified through the outbox (the event does not carry the arm), and the patient flagged
 * unblinded from then on. Returns the unblinded allocation for the requester only.
 */
export async function unblindEmergency(
  db: Database,
  input: Act & { trialId: string; patientId: string; reason: string },
): Promise<Result<{ event: UnblindingEvent; allocation: UnblindedAllocation }, TrialRefusal>> {
  const checked = checkUnblinding({ reason: input.reason });
  if (!checked.ok) return refuse('invalid-record', checked.error);
  const at = instant(input.at);
  return db.transaction(async (tx) => {
    const blinded = await getBlindedAllocation(tx, input.trialId, input.patientId);
    if (blinded === undefined) return refuse('not-randomised', `patient ${input.patientId} is not randomised in trial ${input.trialId}`);
    const inserted = await tx.query<{ id: number }>(
      `INSERT INTO trial_unblinding (trial_id, patient_id, reason, requested_by, at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [input.trialId, input.patientId, checked.value.reason, input.actor, at],
    );
    const event: UnblindingEvent = {
      id: Number(inserted.rows[0]!.id),
      trialId: input.trialId,
      patientId: input.patientId,
      reason: checked.value.reason,
      requestedBy: input.actor,
      at,
    };
    await tx.query('INSERT INTO outbox_event (topic, payload, created_at) VALUES ($1, $2::jsonb, $3)', [
      SPONSOR_UNBLINDING_TOPIC,
      JSON.stringify({ ...event, siteId: blinded.siteId }),
      at,
    ]);
    const allocation = (await getUnblindedAllocation(tx, input.trialId, input.patientId))!;
    await appendAuditEntry(tx, {
      at,
      actor: input.actor,
      action: 'unblinding.emergency',
      subject: `patient:${input.patientId}`,
      payload: { trialId: input.trialId, unblindingId: event.id, reason: event.reason },
    });
    return ok({ event, allocation });
  });
}

export async function listUnblindings(db: Queryable, trialId: string): Promise<UnblindingEvent[]> {
  const result = await db.query<{ id: number; trial_id: string; patient_id: string; reason: string; requested_by: string; at: Date | string }>(
    'SELECT id, trial_id, patient_id, reason, requested_by, at FROM trial_unblinding WHERE trial_id = $1 ORDER BY id',
    [trialId],
  );
  return result.rows.map((r) => ({
    id: Number(r.id),
    trialId: r.trial_id,
    patientId: r.patient_id,
    reason: r.reason,
    requestedBy: r.requested_by,
    at: new Date(r.at).toISOString(),
  }));
}

// ---------------------------------------------------------------------------------------------
// Withdrawals, deviations, CRF changes

export async function recordWithdrawal(
  db: Database,
  input: Act & { trialId: string; patientId: string } & WithdrawalRecord,
): Promise<Result<void, TrialRefusal>> {
  const checked = checkWithdrawal({ kind: input.kind, reason: input.reason });
  if (!checked.ok) return refuse('invalid-record', checked.error);
  const at = instant(input.at);
  return db.transaction(async (tx) => {
    const allocation = await getBlindedAllocation(tx, input.trialId, input.patientId);
    if (allocation === undefined) return refuse('not-randomised', `patient ${input.patientId} is not randomised in trial ${input.trialId}`);
    const inserted = await tx.query(
      `INSERT INTO trial_withdrawal (trial_id, patient_id, kind, reason, recorded_by, at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (trial_id, patient_id) DO NOTHING`,
      [input.trialId, input.patientId, checked.value.kind, checked.value.reason, input.actor, at],
    );
    if (inserted.affectedRows === 0) return refuse('already-withdrawn', `patient ${input.patientId} was already withdrawn`);
    const screening = { trialId: input.trialId, patientId: input.patientId, siteId: allocation.siteId, outcome: 'withdrawn' as const };
    await insertScreening(tx, { ...screening, reasons: [checked.value.kind] }, input.actor, at);
    await appendAuditEntry(tx, {
      at,
      actor: input.actor,
      action: 'withdrawal.recorded',
      subject: `patient:${input.patientId}`,
      payload: { trialId: input.trialId, kind: checked.value.kind, reason: checked.value.reason },
    });
    return ok(undefined);
  });
}

export async function recordDeviation(db: Database, input: Act & { trialId: string } & DeviationRecord): Promise<Result<{ id: number }, TrialRefusal>> {
  const checked = checkDeviation(input);
  if (!checked.ok) return refuse('invalid-record', checked.error);
  const d = checked.value;
  const at = instant(input.at);
  return db.transaction(async (tx) => {
    if ((await getTrial(tx, input.trialId)) === undefined) return refuse('unknown-trial', `trial ${input.trialId} does not exist`);
    const inserted = await tx.query<{ id: number }>(
      `INSERT INTO trial_deviation (trial_id, site_id, patient_id, category, severity, description, recorded_by, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [input.trialId, d.siteId, d.patientId, d.category, d.severity, d.description, input.actor, at],
    );
    const id = Number(inserted.rows[0]!.id);
    await appendAuditEntry(tx, {
      at,
      actor: input.actor,
      action: 'deviation.recorded',
      subject: d.patientId === null ? `site:${d.siteId}` : `patient:${d.patientId}`,
      payload: { trialId: input.trialId, deviationId: id, siteId: d.siteId, category: d.category, severity: d.severity, description: d.description },
    });
    return ok({ id });
  });
}

/**
 * Records a change of one CRF field. The old value must be the field's current value (the
 * new value of its last recorded change), so the change history is a gap-free chain per field.
 */
export async function recordCrfChange(db: Database, input: Act & { trialId: string } & CrfChange): Promise<Result<{ version: number }, TrialRefusal>> {
  const checked = checkCrfChange(input);
  if (!checked.ok) return refuse('invalid-record', checked.error);
  const c = checked.value;
  const at = instant(input.at);
  return db.transaction(async (tx) => {
    if ((await getTrial(tx, input.trialId)) === undefined) return refuse('unknown-trial', `trial ${input.trialId} does not exist`);
    const last = await tx.query<{ version: number; new_value: JsonValue }>(
      `SELECT version, new_value FROM trial_crf_change WHERE trial_id = $1 AND patient_id = $2 AND form = $3 AND field = $4
       ORDER BY version DESC LIMIT 1`,
      [input.trialId, c.patientId, c.form, c.field],
    );
    const previous = last.rows[0];
    if (previous !== undefined && canonicalJson(previous.new_value) !== canonicalJson(c.oldValue)) {
      return refuse('stale-old-value', `${c.form}.${c.field} was changed meanwhile: its current value is not the old value given`);
    }
    const version = (previous === undefined ? 0 : Number(previous.version)) + 1;
    await tx.query(
      `INSERT INTO trial_crf_change (trial_id, patient_id, form, field, version, old_value, new_value, reason, changed_by, at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10)`,
      [input.trialId, c.patientId, c.form, c.field, version, JSON.stringify(c.oldValue), JSON.stringify(c.newValue), c.reason, input.actor, at],
    );
    await appendAuditEntry(tx, {
      at,
      actor: input.actor,
      action: 'crf.changed',
      subject: `patient:${c.patientId}`,
      payload: { trialId: input.trialId, form: c.form, field: c.field, version, oldValue: c.oldValue, newValue: c.newValue, reason: c.reason },
    });
    return ok({ version });
  });
}

export interface CrfChangeRecord extends CrfChange {
  trialId: string;
  version: number;
  changedBy: string;
  at: string;
}

export async function listCrfChanges(db: Queryable, trialId: string, patientId: string): Promise<CrfChangeRecord[]> {
  const result = await db.query<{
    form: string;
    field: string;
    version: number;
    old_value: JsonValue;
    new_value: JsonValue;
    reason: string;
    changed_by: string;
    at: Date | string;
  }>(
    `SELECT form, field, version, old_value, new_value, reason, changed_by, at FROM trial_crf_change
     WHERE trial_id = $1 AND patient_id = $2 ORDER BY form, field, version`,
    [trialId, patientId],
  );
  return result.rows.map((r) => ({
    trialId,
    patientId,
    form: r.form,
    field: r.field,
    version: Number(r.version),
    oldValue: r.old_value,
    newValue: r.new_value,
    reason: r.reason,
    changedBy: r.changed_by,
    at: new Date(r.at).toISOString(),
  }));
}

// ---------------------------------------------------------------------------------------------
// Screening log

async function insertScreening(tx: Queryable, entry: Omit<ScreeningEntry, 'at'>, actor: string, at: string): Promise<void> {
  await tx.query(
    `INSERT INTO trial_screening (trial_id, patient_id, site_id, outcome, reasons, recorded_by, at) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)`,
    [entry.trialId, entry.patientId, entry.siteId, entry.outcome, JSON.stringify(entry.reasons), actor, at],
  );
}

/**
 * Records a screening outcome (screened, not-eligible with reasons, unclassified).
 * 'randomised' and 'withdrawn' are written by randomise and recordWithdrawal.
 */
export async function recordScreening(
  db: Database,
  input: Act & { trialId: string; patientId: string; outcome: Exclude<ScreeningOutcome, 'randomised' | 'withdrawn'>; reasons?: string[] },
): Promise<Result<void, TrialRefusal>> {
  const reasons = (input.reasons ?? []).map((r) => r.trim()).filter((r) => r !== '');
  if (!['screened', 'not-eligible', 'unclassified'].includes(input.outcome)) {
    return refuse('invalid-record', 'screening outcome must be screened, not-eligible or unclassified (randomised and withdrawn are recorded by their services)');
  }
  if (input.outcome === 'not-eligible' && reasons.length === 0) return refuse('invalid-record', 'a not-eligible outcome needs at least one reason');
  const at = instant(input.at);
  return db.transaction(async (tx) => {
    if ((await getTrial(tx, input.trialId)) === undefined) return refuse('unknown-trial', `trial ${input.trialId} does not exist`);
    const patient = await tx.query<{ site_id: string }>('SELECT site_id FROM patient WHERE id = $1', [input.patientId]);
    const siteId = patient.rows[0]?.site_id;
    if (siteId === undefined) return refuse('unknown-patient', `patient ${input.patientId} does not exist`);
    await insertScreening(tx, { trialId: input.trialId, patientId: input.patientId, siteId, outcome: input.outcome, reasons }, input.actor, at);
    await appendAuditEntry(tx, {
      at,
      actor: input.actor,
      action: 'screening.recorded',
      subject: `patient:${input.patientId}`,
      payload: { trialId: input.trialId, outcome: input.outcome, reasons },
    });
    return ok(undefined);
  });
}

export async function listScreening(db: Queryable, trialId: string, options: { siteIds?: readonly string[] } = {}): Promise<ScreeningEntry[]> {
  const result = await db.query<{ patient_id: string; site_id: string; outcome: ScreeningOutcome; reasons: string[]; at: Date | string }>(
    `SELECT patient_id, site_id, outcome, reasons, at FROM trial_screening
     WHERE trial_id = $1 AND ($2::text[] IS NULL OR site_id = ANY($2::text[])) ORDER BY at, id`,
    [trialId, options.siteIds ?? null],
  );
  return result.rows.map((r) => ({
    trialId,
    patientId: r.patient_id,
    siteId: r.site_id,
    at: new Date(r.at).toISOString(),
    outcome: r.outcome,
    reasons: r.reasons,
  }));
}

// ---------------------------------------------------------------------------------------------
// Verification against the seed (statistician)

export interface StratumVerification {
  stratumKey: string;
  allocated: number;
  problems: string[];
}

/**
 * Regenerates every stratum's list from the recorded seed and compares it with the stored
 * slots and allocations: positions 1..n each used exactly once, every arm, block and kit as
 * the seed says. Unblinded by nature (statistician only); returns problems, not arms.
 */
export async function verifyAllocationsAgainstSeed(db: Queryable, trialId: string): Promise<Result<StratumVerification[], TrialRefusal>> {
  const trial = await trialWithSeed(db, trialId);
  if (trial === undefined) return refuse('unknown-trial', `trial ${trialId} does not exist`);
  const strata = await db.query<{ stratum_key: string; last_position: number }>(
    'SELECT stratum_key, last_position FROM trial_stratum WHERE trial_id = $1 ORDER BY stratum_key',
    [trialId],
  );
  const report: StratumVerification[] = [];
  for (const { stratum_key: stratumKey, last_position } of strata.rows) {
    const allocated = Number(last_position);
    const problems: string[] = [];
    const expected = generateSequence(trial.definition, trial.seed, stratumKey, allocated);
    if (!expected.ok) {
      report.push({ stratumKey, allocated, problems: [expected.error] });
      continue;
    }
    const rows = await db.query<{ position: number; block: number; block_size: number; arm_id: string; kit_number: string; patients: number }>(
      `SELECT s.position, s.block, s.block_size, s.arm_id, s.kit_number,
         (SELECT count(*) FROM trial_allocation a WHERE a.trial_id = s.trial_id AND a.stratum_key = s.stratum_key
            AND a.position = s.position AND a.kit_number = s.kit_number)::integer AS patients
       FROM trial_slot s WHERE s.trial_id = $1 AND s.stratum_key = $2 ORDER BY s.position`,
      [trialId, stratumKey],
    );
    const stored = new Map(rows.rows.map((r) => [Number(r.position), r]));
    if (rows.rows.length !== allocated) problems.push(`${rows.rows.length} slots stored for ${allocated} positions taken`);
    for (const slot of expected.value) {
      const row = stored.get(slot.position);
      if (row === undefined) problems.push(`position ${slot.position}: no slot stored`);
      else if (row.arm_id !== slot.armId || Number(row.block) !== slot.block || Number(row.block_size) !== slot.blockSize || row.kit_number !== slot.kitNumber) {
        problems.push(`position ${slot.position}: stored slot differs from the list regenerated from the seed`);
      } else if (Number(row.patients) !== 1) problems.push(`position ${slot.position}: ${row.patients} patients allocated`);
    }
    report.push({ stratumKey, allocated, problems });
  }
  return ok(report);
}
