/** Measurements for SOFA tests, normalised through units.ts as the parsers do (reported value kept). */
import type { Concept } from '../../../src/clinical/types.ts';
import { normalize } from '../../../src/clinical/units.ts';
import type { SofaMeasurement } from '../../../src/clinical/sofa/index.ts';

export const T0 = '2026-01-05T08:00:00Z';
export const HOUR = 3_600_000;

/** T0 + hours, as the engine prints instants (no milliseconds when they are zero). */
export function at(hours: number): string {
  const iso = new Date(Date.parse(T0) + hours * HOUR).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

let seq = 0;

/** A measurement of `concept` reported as `value unit` at T0 + hours (interval to T0 + endHours). */
export function m(concept: Concept, value: number, unit: string, hours: number, endHours?: number, patientId = 'P'): SofaMeasurement {
  const normalized = normalize(concept, value, unit);
  if (!normalized.ok) throw new Error(normalized.error.message);
  const canonical = normalized.value;
  return {
    patientId,
    concept,
    value: canonical.value,
    unit: canonical.unit,
    time: at(hours),
    ...(endHours === undefined ? {} : { endTime: at(endHours) }),
    provenance: { source: 'test', recordId: String(++seq) },
    ...(canonical.unit !== unit || canonical.value !== value ? { reported: { value, unit } } : {}),
  };
}
