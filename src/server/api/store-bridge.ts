/** Stored measurements as the clinical engine's canonical Measurement values. */
import type { Concept, Measurement } from '../../clinical/types.ts';
import { CONCEPT_UNITS } from '../../clinical/units.ts';
import type { StoredMeasurement } from '../../store/repository.ts';

export function toMeasurement(stored: StoredMeasurement): Measurement | undefined {
  if (!(stored.concept in CONCEPT_UNITS)) return undefined;
  return {
    patientId: stored.patientId,
    concept: stored.concept as Concept,
    value: stored.value,
    unit: stored.unit,
    time: stored.effectiveStart,
    ...(stored.effectiveEnd !== null ? { endTime: stored.effectiveEnd } : {}),
    provenance: { source: stored.source, recordId: stored.recordId },
  };
}

export function toMeasurements(stored: readonly StoredMeasurement[]): Measurement[] {
  return stored.flatMap((m) => toMeasurement(m) ?? []);
}
