/**
 * The demo cohort behind `npm start`: a few synthetic patients per site so a new user sees a
 * working ICU census straight away. Seeded only into an empty database, in one transaction.
 */
import type { Database } from '../../store/db.ts';
import { type NewMeasurement, insertMeasurements, upsertPatient, upsertSite } from '../../store/repository.ts';
import type { Measurement } from '../../clinical/types.ts';
import { type CohortOptions, syntheticCohort } from './cohort.ts';

export const DEMO_SITES = [
  { id: 'athens', name: 'Athens (demo)' },
  { id: 'nijmegen', name: 'Nijmegen (demo)' },
  { id: 'milan', name: 'Milan (demo)' },
];

/** Size of the demo cohort `npm start` seeds: about 200 patients admitted over the last 28 days. */
export const DEMO_PATIENTS = 200;
export const DEMO_DAYS = 28;

export interface SeedReport {
  seeded: boolean;
  patients: number;
  measurements: number;
}

export async function seedDemoCohort(
  db: Database,
  options: Partial<CohortOptions> = {},
): Promise<SeedReport> {
  const existing = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM patient');
  if (Number(existing.rows[0]?.n ?? 0) > 0) return { seeded: false, patients: 0, measurements: 0 };
  return db.transaction(async (tx) => {
    for (const site of DEMO_SITES) await upsertSite(tx, site);
    let patients = 0;
    let measurements = 0;
    for (const { patient, measurements: rows } of syntheticCohort({
      patients: DEMO_PATIENTS,
      sites: DEMO_SITES.map((s) => s.id),
      ...options,
    })) {
      await upsertPatient(tx, {
        id: patient.id,
        siteId: patient.siteId,
        birthDate: patient.birthDate,
        sex: patient.sex,
        deceasedAt: patient.deceasedAt,
      });
      measurements += await insertMeasurements(tx, rows.map(toNewMeasurement));
      patients++;
    }
    return { seeded: true, patients, measurements };
  });
}

function toNewMeasurement(m: Measurement): NewMeasurement {
  return {
    patientId: m.patientId,
    concept: m.concept,
    value: m.value,
    unit: m.unit,
    effectiveStart: m.time,
    effectiveEnd: m.endTime ?? null,
    source: m.provenance?.source ?? 'synthetic',
    recordId: m.provenance?.recordId ?? `${m.patientId}-${m.concept}-${m.time}`,
    originalValue: String(m.value),
    originalUnit: m.unit,
  };
}
