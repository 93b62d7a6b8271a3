/**
 * Synthetic ICU sepsis cohort: reproducible from a seed, plausible enough to exercise every
 * part of ImmunoGuide (SOFA in all six organs, the three immune strata, deaths, vasopressor
 * runs, ventilation, urine output), and free of any real patient's data. Used by the demo
 * database of `npm start`, by tests and by the benchmarks.
 *
 * Values are in the canonical units of src/clinical/units.ts. The model is deliberately simple:
 * one latent daily severity in [0, 1] per patient drives every organ, MALS patients start
 * sicker, and the immune stratum decides the biomarkers. A small share of biomarker values sit
 * exactly on the classification thresholds so boundary handling is exercised end to end.
 */
import type { Measurement } from '../../clinical/types.ts';
import { type Random, seededRandom } from './random.ts';

export type SyntheticStratum = 'MALS' | 'immunoparalysis' | 'unclassified';

export interface SyntheticPatient {
  id: string;
  siteId: string;
  birthDate: string;
  sex: 'female' | 'male';
  /** ICU admission; measurements start here. */
  admittedAt: string;
  deceasedAt: string | null;
  /** The stratum the generator aimed for (the classifier decides from the biomarkers). */
  intendedStratum: SyntheticStratum;
  /** Suspected infection: first antibiotic and first culture (Sepsis-3 inputs). */
  infection: { kind: string; antibioticAt: string; cultureAt: string };
}

export interface SyntheticRecord {
  patient: SyntheticPatient;
  /** Ordered by time. */
  measurements: Measurement[];
}

export interface CohortOptions {
  patients: number;
  seed?: number;
  sites?: readonly string[];
  /** First admission; later patients are admitted every `admissionSpacingHours`. */
  start?: string;
  admissionSpacingHours?: number;
  /** Days of data per patient (fewer when the patient dies). */
  days?: number;
  /** No measurement at or after this instant (a cohort "as of now" for the demo). */
  until?: string;
  /** Stratum shares (defaults roughly as in ImmunoSep's screening: half unclassified). */
  prevalence?: { MALS: number; immunoparalysis: number };
}

export const DEFAULT_SITES = ['athens', 'nijmegen', 'milan'] as const;
const HOUR_MS = 3_600_000;
const INFECTIONS = [
  'community-acquired pneumonia',
  'hospital-acquired pneumonia',
  'ventilator-associated pneumonia',
  'primary bacteremia',
];

export function* syntheticCohort(options: CohortOptions): Generator<SyntheticRecord> {
  const random = seededRandom(options.seed ?? 20260124);
  const sites = options.sites ?? DEFAULT_SITES;
  const startMs = Date.parse(options.start ?? '2026-01-05T00:00:00Z');
  const spacingMs = (options.admissionSpacingHours ?? 7) * HOUR_MS;
  const days = options.days ?? 10;
  const prevalence = options.prevalence ?? { MALS: 0.22, immunoparalysis: 0.28 };
  const untilMs = options.until === undefined ? Number.POSITIVE_INFINITY : Date.parse(options.until);
  for (let index = 0; index < options.patients; index++) {
    const id = `SYN-${String(index + 1).padStart(6, '0')}`;
    const admittedMs = startMs + index * spacingMs + random.integer(0, 59) * 60_000;
    const draw = random.next();
    const stratum: SyntheticStratum =
      draw < prevalence.MALS ? 'MALS' : draw < prevalence.MALS + prevalence.immunoparalysis ? 'immunoparalysis' : 'unclassified';
    yield generatePatient(random, { id, siteId: sites[index % sites.length]!, admittedMs, stratum, days, untilMs });
  }
}

interface PatientSeed {
  id: string;
  siteId: string;
  admittedMs: number;
  stratum: SyntheticStratum;
  days: number;
  untilMs: number;
}

function generatePatient(random: Random, seed: PatientSeed): SyntheticRecord {
  const { id, admittedMs, stratum } = seed;
  const ageYears = random.integer(19, 90);
  const birth = new Date(admittedMs - ageYears * 365.25 * 24 * HOUR_MS - random.integer(0, 364) * 24 * HOUR_MS);
  const initialSeverity = clamp(random.normal(stratum === 'MALS' ? 0.62 : stratum === 'immunoparalysis' ? 0.5 : 0.42, 0.15), 0.05, 0.95);
  const dailyChange = random.normal(-0.035, 0.03);
  const mortality = stratum === 'MALS' ? 0.45 : stratum === 'immunoparalysis' ? 0.35 : 0.25;
  const deathDay = random.chance(mortality * (0.6 + initialSeverity)) ? random.integer(2, 27) : undefined;
  const deathMs = deathDay === undefined ? undefined : admittedMs + (deathDay - 1) * 24 * HOUR_MS + random.integer(1, 23) * HOUR_MS;
  const endMs = Math.min(admittedMs + seed.days * 24 * HOUR_MS, deathMs ?? Number.POSITIVE_INFINITY, seed.untilMs);

  const measurements: Measurement[] = [];
  let sequence = 0;
  const add = (concept: Measurement['concept'], value: number, unit: string, timeMs: number, endTimeMs?: number): void => {
    if (timeMs >= endMs) return;
    measurements.push({
      patientId: id,
      concept,
      value,
      unit,
      time: new Date(timeMs).toISOString(),
      ...(endTimeMs !== undefined ? { endTime: new Date(Math.min(endTimeMs, endMs)).toISOString() } : {}),
      provenance: { source: 'synthetic', recordId: `${id}-${++sequence}` },
    });
  };

  const weightKg = round(random.normal(78, 14), 1);
  add('weight', clamp(weightKg, 45, 150), 'kg', admittedMs + 30 * 60_000);
  const biomarkers = biomarkerTrajectory(random, stratum);
  for (let day = 0; day < seed.days; day++) {
    const dayMs = admittedMs + day * 24 * HOUR_MS;
    const severity = clamp(initialSeverity + dailyChange * day + random.normal(0, 0.05), 0, 1);
    const sample = biomarkers.get(day);
    if (sample) {
      add('ferritin', sample.ferritin, 'ng/mL', dayMs + 2 * HOUR_MS);
      add('hla_dr', sample.hlaDr, '{molecules}/{cell}', dayMs + 2 * HOUR_MS);
    }
    // Morning labs.
    add('platelets', round(clamp(random.normal(260 - 235 * severity, 18), 4, 600), 0), '10*3/uL', dayMs + 5 * HOUR_MS);
    add('bilirubin', round(clamp(0.4 + 9 * severity ** 2.2 + random.normal(0, 0.2), 0.1, 30), 1), 'mg/dL', dayMs + 5 * HOUR_MS);
    add('creatinine', round(clamp(0.7 + 4.6 * severity ** 1.6 + random.normal(0, 0.2), 0.3, 12), 2), 'mg/dL', dayMs + 5 * HOUR_MS);
    add('neutrophils', round(clamp(random.normal(9 - 4 * severity, 3), 0.2, 40), 2), '10*3/uL', dayMs + 5 * HOUR_MS);
    add('lactate', round(clamp(1 + 5 * severity ** 2 + random.normal(0, 0.3), 0.4, 20), 1), 'mmol/L', dayMs + 5 * HOUR_MS);
    // Blood gases every 8 h; ventilated when severe.
    const ventilated = severity > 0.5;
    for (const hour of [1, 9, 17]) {
      const fio2 = ventilated ? round(clamp(0.3 + 0.6 * severity + random.normal(0, 0.05), 0.3, 1), 2) : 0.21;
      const pao2 = round(clamp(random.normal(95 - 30 * severity, 10), 45, 160), 0);
      add('pao2', pao2, 'mm[Hg]', dayMs + hour * HOUR_MS);
      add('fio2', fio2, '1', dayMs + hour * HOUR_MS);
      add('mechanical_ventilation', ventilated ? 1 : 0, '1', dayMs + hour * HOUR_MS);
    }
    // Vital signs and neurology.
    for (let hour = 0; hour < 24; hour += 4) {
      add('map', round(clamp(random.normal(82 - 22 * severity, 6), 35, 130), 0), 'mm[Hg]', dayMs + (hour + 0.5) * HOUR_MS);
    }
    for (const hour of [3, 11, 19]) {
      add('gcs', Math.round(clamp(random.normal(15 - 10 * severity, 1), 3, 15)), '{score}', dayMs + hour * HOUR_MS);
    }
    // Norepinephrine in 6-h blocks when in shock; urine output charted every 6 h.
    for (let block = 0; block < 4; block++) {
      const fromMs = dayMs + block * 6 * HOUR_MS;
      if (severity > 0.55) {
        add('norepinephrine', round(0.02 + 0.45 * (severity - 0.55) + Math.abs(random.normal(0, 0.02)), 3), 'ug/kg/min', fromMs, fromMs + 6 * HOUR_MS);
      }
      add('urine_output', round(clamp(random.normal(330 * (1 - severity) + 10, 40), 0, 1200), 0), 'mL', fromMs, fromMs + 6 * HOUR_MS);
    }
  }
  // Suspected infection: culture drawn, then an antibiotic started, shortly before ICU admission.
  const cultureMs = admittedMs - random.integer(1, 10) * HOUR_MS;
  const antibioticMs = cultureMs + random.integer(0, 6) * HOUR_MS;
  add('culture', 1, '1', cultureMs);
  add('antibiotic', 1, '1', antibioticMs);
  measurements.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));

  return {
    patient: {
      id,
      siteId: seed.siteId,
      birthDate: birth.toISOString().slice(0, 10),
      sex: random.chance(0.42) ? 'female' : 'male',
      admittedAt: new Date(admittedMs).toISOString(),
      deceasedAt: deathMs === undefined || deathMs >= seed.untilMs ? null : new Date(deathMs).toISOString(),
      intendedStratum: stratum,
      infection: {
        kind: random.pick(INFECTIONS),
        antibioticAt: new Date(antibioticMs).toISOString(),
        cultureAt: new Date(cultureMs).toISOString(),
      },
    },
    measurements,
  };
}

/** Ferritin and HLA-DR on days 0, 2, 4 and 6 of the stay (a subset of the ImmunoSep assessment visits). */
function biomarkerTrajectory(random: Random, stratum: SyntheticStratum): Map<number, { ferritin: number; hlaDr: number }> {
  const onThreshold = random.chance(0.04);
  let ferritin: number;
  let hlaDr: number;
  switch (stratum) {
    case 'MALS':
      ferritin = onThreshold ? 4420.5 : round(random.uniform(4600, 30000), 0);
      hlaDr = round(random.uniform(2000, 20000), 0);
      break;
    case 'immunoparalysis':
      ferritin = onThreshold ? 4420 : round(random.uniform(150, 4300), 0);
      hlaDr = onThreshold ? 4999 : round(random.uniform(800, 4900), 0);
      break;
    case 'unclassified':
      ferritin = round(random.uniform(100, 4300), 0);
      hlaDr = onThreshold ? 5000 : round(random.uniform(5200, 30000), 0);
      break;
  }
  const recovery = random.uniform(0.85, 1.0);
  const samples = new Map<number, { ferritin: number; hlaDr: number }>();
  for (const day of [0, 2, 4, 6]) {
    const factor = recovery ** day;
    samples.set(day, {
      ferritin: day === 0 ? ferritin : round(ferritin * factor, 0),
      hlaDr: day === 0 ? hlaDr : round(hlaDr / factor, 0),
    });
  }
  return samples;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}
