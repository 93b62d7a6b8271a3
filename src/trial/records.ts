/**
 * Trial events recorded next to the allocations: emergency unblinding, withdrawal, protocol
 * deviation and CRF change. Each is validated here (pure) before the store writes it together
 * with its audit entry. None of them carries an arm: the audit log is read by blinded roles.
 */
import { type Result, err, ok } from '../clinical/types.ts';
import { type JsonValue, canonicalJson, jsonProblem } from './canonical.ts';

/** A reason must say something: at least this many non-blank characters. */
export const MIN_REASON_LENGTH = 10;
export const WITHDRAWAL_KINDS = ['consent-withdrawn', 'investigator-decision', 'lost-to-follow-up', 'other'] as const;
export type WithdrawalKind = (typeof WITHDRAWAL_KINDS)[number];
export const DEVIATION_SEVERITIES = ['minor', 'major'] as const;
export type DeviationSeverity = (typeof DEVIATION_SEVERITIES)[number];

export interface UnblindingRequest {
  reason: string;
}

export interface WithdrawalRecord {
  kind: WithdrawalKind;
  reason: string;
}

export interface DeviationRecord {
  /** Set when the deviation concerns one patient. */
  patientId: string | null;
  siteId: string;
  category: string;
  severity: DeviationSeverity;
  description: string;
}

/** One changed field of a case report form: old value, new value and why. */
export interface CrfChange {
  patientId: string;
  form: string;
  field: string;
  /** null when the field had no value before. */
  oldValue: JsonValue;
  newValue: JsonValue;
  reason: string;
}

function reasonProblem(what: string, reason: unknown): string | undefined {
  return typeof reason === 'string' && reason.trim().length >= MIN_REASON_LENGTH
    ? undefined
    : `${what} needs a reason of at least ${MIN_REASON_LENGTH} characters`;
}

export function checkUnblinding(request: UnblindingRequest): Result<UnblindingRequest, string> {
  const problem = reasonProblem('emergency unblinding', request.reason);
  return problem === undefined ? ok({ reason: request.reason.trim() }) : err(problem);
}

export function checkWithdrawal(record: WithdrawalRecord): Result<WithdrawalRecord, string> {
  if (!(WITHDRAWAL_KINDS as readonly string[]).includes(record.kind)) return err(`withdrawal kind must be one of ${WITHDRAWAL_KINDS.join(', ')}`);
  const problem = reasonProblem('a withdrawal', record.reason);
  return problem === undefined ? ok({ kind: record.kind, reason: record.reason.trim() }) : err(problem);
}

export function checkDeviation(record: DeviationRecord): Result<DeviationRecord, string> {
  if (!(DEVIATION_SEVERITIES as readonly string[]).includes(record.severity)) return err(`deviation severity must be one of ${DEVIATION_SEVERITIES.join(', ')}`);
  if (typeof record.category !== 'string' || record.category.trim() === '') return err('a deviation needs a category');
  const problem = reasonProblem('a deviation', record.description);
  return problem === undefined ? ok({ ...record, category: record.category.trim(), description: record.description.trim() }) : err(problem);
}

export function checkCrfChange(change: CrfChange): Result<CrfChange, string> {
  for (const field of ['patientId', 'form', 'field'] as const) {
    if (typeof change[field] !== 'string' || change[field].trim() === '') return err(`a CRF change needs a ${field}`);
  }
  const problem = jsonProblem(change.oldValue) ?? jsonProblem(change.newValue);
  if (problem !== undefined) return err(`CRF values must be plain JSON (${problem})`);
  if (canonicalJson(change.oldValue) === canonicalJson(change.newValue)) return err('the new value equals the old value: nothing to change');
  const reason = reasonProblem('a CRF change', change.reason);
  return reason === undefined ? ok({ ...change, reason: change.reason.trim() }) : err(reason);
}
