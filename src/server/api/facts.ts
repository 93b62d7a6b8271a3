/** The patient facts the therapy safety checks need, taken from the newest stored values. */
import type { Measurement } from '../../clinical/types.ts';
import type { TherapyPatientFacts } from '../../clinical/therapy.ts';
import type { Patient } from '../../store/repository.ts';

/** How far back a lab value may be to count as current for safety checks. */
const LAB_VALIDITY_HOURS = 48;

export function latestValue(measurements: readonly Measurement[], concept: Measurement['concept'], at: string, maxAgeHours = LAB_VALIDITY_HOURS): number | null {
  const atMs = Date.parse(at);
  let best: Measurement | undefined;
  for (const m of measurements) {
    const ms = Date.parse(m.time);
    if (m.concept !== concept || ms > atMs || atMs - ms > maxAgeHours * 3_600_000) continue;
    if (!best || ms >= Date.parse(best.time)) best = m;
  }
  return best?.value ?? null;
}

export function ageYears(birthDate: string | null, at: string): number | null {
  if (!birthDate) return null;
  const birth = new Date(`${birthDate}T00:00:00Z`);
  const now = new Date(at);
  let age = now.getUTCFullYear() - birth.getUTCFullYear();
  const beforeBirthday =
    now.getUTCMonth() < birth.getUTCMonth() || (now.getUTCMonth() === birth.getUTCMonth() && now.getUTCDate() < birth.getUTCDate());
  if (beforeBirthday) age--;
  return age;
}

export function latestFacts(patient: Patient, measurements: readonly Measurement[], at: string): TherapyPatientFacts {
  const neutrophils = latestValue(measurements, 'neutrophils', at);
  return {
    ageYears: ageYears(patient.birthDate, at),
    weightKg: latestValue(measurements, 'weight', at, 24 * 30),
    sex: patient.sex === 'female' || patient.sex === 'male' ? patient.sex : null,
    serumCreatinineMgPerDl: latestValue(measurements, 'creatinine', at),
    plateletsThousandPerUl: latestValue(measurements, 'platelets', at),
    // Canonical neutrophils are 10^3/uL; the safety rule speaks cells/mm3 (= cells/uL).
    absoluteNeutrophilCountPerMm3: neutrophils === null ? null : neutrophils * 1000,
    haemoglobinGPerDl: latestValue(measurements, 'hemoglobin', at),
    activeBleeding: null,
  };
}
