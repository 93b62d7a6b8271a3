/**
 * Picking the sample of each input that a decision at time `at` may use: the newest sample
 * taken at or before `at` that is usable (unit convertible, value plausible) and not stale
 * (at most the validity window old). Samples after `at` are ignored: a decision never looks
 * into the future. A sample exactly `window` hours old is still valid; older is stale.
 */
import { hoursBetween, parseInstant } from '../instant.ts';
import type { Concept, IsoDateTime, Measurement } from '../types.ts';
import { normalize } from '../units.ts';
import type { InputEvidence, RejectedInput, StaleInput } from './types.ts';

export interface InputSelection {
  usable: Map<Concept, InputEvidence>;
  /** Concepts with no usable and no stale sample. */
  missing: Concept[];
  stale: StaleInput[];
  /** Samples newer than the one used (or than none) that could not be used. */
  rejected: RejectedInput[];
}

/** Milliseconds of an evaluation time; an unparseable time is a programming error. */
export function evaluationInstant(at: IsoDateTime): number {
  const ms = parseInstant(at);
  if (ms === null) throw new RangeError(`evaluation time is not an ISO 8601 instant with a zone: "${at}"`);
  return ms;
}

/**
 * The classification functions take one patient's measurements; mixing patients would mix
 * their values, so it is refused loudly (a caller bug, not a data condition).
 */
export function assertOnePatient(measurements: readonly Measurement[]): void {
  const first = measurements[0];
  if (first === undefined) return;
  const other = measurements.find((m) => m.patientId !== first.patientId);
  if (other !== undefined) {
    throw new RangeError(
      `immune classification takes one patient's measurements; got ${first.patientId} and ${other.patientId}`,
    );
  }
}

export function selectInputs(
  measurements: readonly Measurement[],
  concepts: readonly Concept[],
  at: IsoDateTime,
  windowHours: number,
): InputSelection {
  const atMs = evaluationInstant(at);
  const selection: InputSelection = { usable: new Map(), missing: [], stale: [], rejected: [] };
  for (const concept of concepts) {
    const candidates = measurements
      .map((m, index) => ({ m, index, ms: parseInstant(m.time) }))
      .filter(({ m }) => m.concept === concept);
    for (const { m, ms } of candidates) {
      if (ms === null) selection.rejected.push(rejectedTime(m));
    }
    // Newest first; for equal times the later-listed sample wins (a correction is listed after).
    const timed = candidates
      .filter((c): c is typeof c & { ms: number } => c.ms !== null && c.ms <= atMs)
      .sort((a, b) => b.ms - a.ms || b.index - a.index);
    let outcome: 'usable' | 'stale' | 'missing' = 'missing';
    for (const { m, ms } of timed) {
      const normalized = normalize(concept, m.value, m.unit);
      if (!normalized.ok) {
        selection.rejected.push({
          concept,
          time: m.time,
          value: m.value,
          unit: m.unit,
          reason: normalized.error.kind,
          message: normalized.error.message,
          ...(m.provenance ? { provenance: m.provenance } : {}),
        });
        continue;
      }
      const ageHours = hoursBetween(ms, atMs);
      if (ageHours > windowHours) {
        selection.stale.push({
          concept,
          time: m.time,
          ageHours,
          windowHours,
          value: normalized.value.value,
          unit: normalized.value.unit,
        });
        outcome = 'stale';
        break;
      }
      selection.usable.set(concept, {
        concept,
        value: normalized.value.value,
        unit: normalized.value.unit,
        time: m.time,
        ageHours,
        reported: normalized.value.reported,
        ...(m.provenance ? { provenance: m.provenance } : {}),
      });
      outcome = 'usable';
      break;
    }
    if (outcome === 'missing') selection.missing.push(concept);
  }
  return selection;
}

function rejectedTime(m: Measurement): RejectedInput {
  return {
    concept: m.concept,
    time: m.time,
    value: m.value,
    unit: m.unit,
    reason: 'invalid-time',
    message: `${m.concept} ${m.value} ${m.unit}: sample time "${m.time}" is not an ISO 8601 instant with a zone`,
    ...(m.provenance ? { provenance: m.provenance } : {}),
  };
}
