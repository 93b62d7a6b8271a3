/** Stored measurements as the clinical engine's canonical Measurement values. */
import type { Concept, Measurement } from '../../clinical/types.ts';
import { CONCEPT_UNITS } from '../../clinical/units.ts';
import type { MeasurementFacts } from '../../store/repository.ts';

/**
 * Concepts that only the mimic-code reference path reads (its hour grid, GCS responses one by
 * one, devices and modes, irrigation volumes; src/sources/mimic/sofa/from-measurements.ts): the
 * assessment engine of the census and the patient page does not, and heart rates and device
 * chartings are among the densest rows of an ICU import, so they are not loaded for it.
 */
const REFERENCE_ONLY_CONCEPTS: ReadonlySet<Concept> = new Set<Concept>([
  'heart_rate',
  'gcs_motor',
  'gcs_verbal',
  'gcs_eyes',
  'oxygen_device',
  'ventilator_mode',
  'o2_flow',
  'gu_irrigant_in',
  'gu_irrigant_out',
]);

/** The concepts the engine reads; the rest of the store is not the engine's to read. */
export const ENGINE_CONCEPTS: readonly Concept[] = (Object.keys(CONCEPT_UNITS) as Concept[]).filter((c) => !REFERENCE_ONLY_CONCEPTS.has(c));

/** Accepts a full StoredMeasurement or the lean MeasurementFacts of the bulk queries. */
export function toMeasurement(stored: MeasurementFacts): Measurement | undefined {
  if (!(stored.concept in CONCEPT_UNITS)) return undefined;
  const provenance = { source: stored.source, recordId: stored.recordId };
  // Two literals rather than a conditional spread (same keys, same order): the census converts
  // tens of thousands of these per request.
  return stored.effectiveEnd === null
    ? { patientId: stored.patientId, concept: stored.concept as Concept, value: stored.value, unit: stored.unit, time: stored.effectiveStart, provenance }
    : {
        patientId: stored.patientId,
        concept: stored.concept as Concept,
        value: stored.value,
        unit: stored.unit,
        time: stored.effectiveStart,
        endTime: stored.effectiveEnd,
        provenance,
      };
}

export function toMeasurements(stored: readonly MeasurementFacts[]): Measurement[] {
  const out: Measurement[] = [];
  for (const m of stored) {
    const measurement = toMeasurement(m);
    if (measurement !== undefined) out.push(measurement);
  }
  return out;
}
