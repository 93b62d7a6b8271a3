/** Small builders for immune classification tests: one patient, times relative to T0. */
import type { Concept, Measurement } from '../../../src/clinical/types.ts';

export const T0 = '2026-01-05T08:00:00Z';

/** T0 plus `hours` (may be negative or fractional) as an ISO instant. */
export function hoursAfter(hours: number, from = T0): string {
  return new Date(Date.parse(from) + hours * 3_600_000).toISOString().replace('.000Z', 'Z');
}

export function sample(concept: Concept, value: number, unit: string, time = T0, patientId = 'p1'): Measurement {
  return { patientId, concept, value, unit, time };
}

export const ferritin = (ngPerMl: number, time = T0): Measurement => sample('ferritin', ngPerMl, 'ng/mL', time);
export const hlaDr = (moleculesPerCell: number, time = T0): Measurement =>
  sample('hla_dr', moleculesPerCell, '{molecules}/{cell}', time);
