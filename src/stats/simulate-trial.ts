/**
 * A synthetic randomised trial in the trial.json format (trial-data.ts), reproducible from a
 * seed, for demos, report screenshots, tests and benchmarks. Free of any real patient's data.
 *
 * The model is deliberately simple and says what it assumes:
 * - Screening: a share of screened patients is not eligible (reasons drawn from the ImmunoSep
 *   exclusion list); the eligible are MALS, immunoparalysis or unclassified by the class
 *   prevalence; MALS and immunoparalysis patients are randomised 1:1 in permuted blocks of 4
 *   within each stratum until `patients` are randomised.
 * - Each randomised patient is a latent "improver" with the arm's (and stratum's) responder
 *   probability. Improvers' daily SOFA falls by about 0.6 points a day from day 1, the others'
 *   drifts up by about 0.15 a day, with noise; deaths are more frequent among non-improvers.
 *   The derived SAP responder status follows the latent one closely but not exactly (noise,
 *   deaths, missing days), as in a real trial.
 * - Daily SOFA is missing on about 5% of days and after ICU discharge (day 10-15 for improvers);
 *   the endpoint carries those forward.
 * - `dropout`: withdrawn after randomisation and not in the analysed population; in addition
 *   about 3% of patients are lost to follow-up alive between day 29 and day 89.
 */
import { type DailySofaTotal, DEFAULT_ENDPOINT_DEFINITION, type EndpointDefinition, SOFA_TOTAL_MAX } from '../clinical/endpoints.ts';
import type { TargetedClass } from '../clinical/therapy.ts';
import type { ScreeningSummary } from '../trial/screening.ts';
import { type Rng, integerDraw, normalDraw, xoshiro128 } from './random.ts';
import { type Arm, TRIAL_DATASET_FORMAT, type TrialDataset, type TrialPatient } from './trial-data.ts';

export interface SyntheticTrialOptions {
  /** Patients randomised. */
  patients: number;
  seed?: number;
  /** Class prevalence among eligible screened patients (the rest are unclassified). */
  prevalence?: { MALS: number; immunoparalysis: number };
  /** Latent responder probability per arm, optionally per stratum. */
  responders?: Record<Arm, number | Partial<Record<TargetedClass, number>>>;
  /** Probability of withdrawal after randomisation (not analysed). */
  dropout?: number;
  /** Share of screened patients not eligible. */
  notEligible?: number;
  sites?: readonly string[];
  endpointDefinition?: EndpointDefinition;
  sofaPreset?: string;
}

export const DEFAULT_SYNTHETIC_TRIAL = {
  prevalence: { MALS: 0.22, immunoparalysis: 0.28 },
  responders: { active: 0.4, placebo: 0.2 },
  dropout: 0.05,
  notEligible: 0.3,
  sites: ['athens', 'nijmegen', 'milan', 'thessaloniki'],
} as const;

const EXCLUSION_REASONS = [
  'excluded infection site',
  'stage IV cancer',
  'neutropenia',
  'do-not-resuscitate decision',
  'more than 72 h since Sepsis-3',
  'consent not obtained',
] as const;
const EXCLUSION_WEIGHTS = [0.3, 0.15, 0.1, 0.2, 0.15, 0.1];

const INFECTIONS = ['community-acquired pneumonia', 'hospital-acquired pneumonia', 'ventilator-associated pneumonia', 'primary bacteremia'] as const;

function weighted<T>(rng: Rng, items: readonly T[], weights: readonly number[]): T {
  let u = rng.next() * weights.reduce((s, w) => s + w, 0);
  for (let i = 0; i < items.length; i++) {
    u -= weights[i] as number;
    if (u < 0) return items[i] as T;
  }
  return items[items.length - 1] as T;
}

function clampSofa(x: number): number {
  return Math.max(0, Math.min(SOFA_TOTAL_MAX, Math.round(x)));
}

function responderProbability(options: SyntheticTrialOptions, arm: Arm, stratum: TargetedClass): number {
  const spec = (options.responders ?? DEFAULT_SYNTHETIC_TRIAL.responders)[arm];
  if (typeof spec === 'number') return spec;
  const p = spec[stratum];
  if (p === undefined) throw new RangeError(`no responder probability for ${arm} in ${stratum}`);
  return p;
}

function patientRecord(rng: Rng, id: string, site: string, stratum: TargetedClass, arm: Arm, improver: boolean, withdrawn: boolean): TrialPatient {
  const day1 = clampSofa(normalDraw(rng, stratum === 'MALS' ? 10 : 8, 2.5));
  // Death: non-improvers die more often; the day is early-skewed.
  const deathProbability = improver ? 0.08 : stratum === 'MALS' ? 0.45 : 0.35;
  const dies = rng.next() < deathProbability;
  const deathDay = dies ? Math.min(90, 1 + Math.floor(-Math.log(1 - rng.next()) * 12)) : null;
  const slope = improver ? -0.6 + normalDraw(rng, 0, 0.15) : 0.15 + normalDraw(rng, 0, 0.15);
  const dischargeDay = improver ? integerDraw(rng, 10, 16) : 99;
  const withdrawalDay = withdrawn ? integerDraw(rng, 2, 20) : null;
  const lastRecordedDay = Math.min(deathDay ?? 99, withdrawalDay ?? 99, 15);
  const sofa: DailySofaTotal[] = [];
  for (let day = 1; day <= lastRecordedDay; day++) {
    const missing = day > 1 && (day >= dischargeDay || rng.next() < 0.05);
    const trend = day1 + slope * (day - 1) + (deathDay !== null && deathDay - day < 3 ? 3 : 0);
    sofa.push({ day, total: missing ? null : clampSofa(trend + normalDraw(rng, 0, 1)) });
  }
  const lost = !withdrawn && deathDay === null && rng.next() < 0.03;
  const lastAliveDay = deathDay !== null ? null : withdrawalDay ?? (lost ? integerDraw(rng, 29, 89) : 90);
  const reversalChance = (arm === 'active' ? 0.55 : 0.35) * (improver ? 1.2 : 0.8);
  let reversal: TrialPatient['reversal'];
  const u = rng.next();
  if (u < 0.05) reversal = { reversed: 'unknown', firstReversalAt: null, assessedThroughDay: null };
  else {
    const day = [2, 3, 4, 5, 7, 8, 15][integerDraw(rng, 0, 6)] as number;
    const reachable = deathDay === null || day <= deathDay;
    reversal = rng.next() < reversalChance && reachable ? { reversed: 'yes', firstReversalAt: day, assessedThroughDay: 15 } : { reversed: 'no', firstReversalAt: null, assessedThroughDay: Math.min(15, deathDay ?? 15) };
  }
  const infectionResolved = deathDay !== null && deathDay <= 15 ? false : rng.next() < (improver ? 0.8 : 0.5);
  const ferritin = stratum === 'MALS' ? 4420 * Math.exp(Math.abs(normalDraw(rng, 0.6, 0.5))) : 300 + rng.next() * 3000;
  const hlaDr = stratum === 'immunoparalysis' ? 1000 + rng.next() * 3900 : 5000 + rng.next() * 20000;
  return {
    id,
    site,
    stratum,
    arm,
    baseline: {
      ageYears: Math.round(Math.max(18, Math.min(99, normalDraw(rng, 66, 14)))),
      sex: rng.next() < 0.6 ? 'male' : 'female',
      infection: weighted(rng, INFECTIONS, [0.45, 0.2, 0.2, 0.15]),
      ferritinNgPerMl: Math.round(ferritin),
      hlaDrMoleculesPerMonocyte: Math.round(hlaDr),
    },
    sofa,
    deathDay,
    lastAliveDay,
    reversal,
    infectionResolved: withdrawn ? null : infectionResolved,
    withdrawn,
    analysed: !withdrawn,
  };
}

/** A synthetic trial dataset; the same options and seed always give the same dataset. */
export function simulateTrialDataset(options: SyntheticTrialOptions): TrialDataset {
  if (!Number.isSafeInteger(options.patients) || options.patients < 2) throw new RangeError('patients must be a whole number >= 2');
  const rng = xoshiro128(options.seed ?? 20260124);
  const prevalence = options.prevalence ?? DEFAULT_SYNTHETIC_TRIAL.prevalence;
  const notEligibleShare = options.notEligible ?? DEFAULT_SYNTHETIC_TRIAL.notEligible;
  const dropout = options.dropout ?? DEFAULT_SYNTHETIC_TRIAL.dropout;
  const sites = options.sites ?? DEFAULT_SYNTHETIC_TRIAL.sites;
  if (prevalence.MALS + prevalence.immunoparalysis <= 0 || prevalence.MALS + prevalence.immunoparalysis > 1) {
    throw new RangeError('class prevalences must be >= 0 and add up to at most 1 (and more than 0)');
  }
  const screening: ScreeningSummary = {
    assessed: 0,
    excluded: { notEligible: 0, notEligibleByReason: {}, unclassified: 0, notRandomised: 0 },
    randomised: 0,
    withdrawn: 0,
    bySite: {},
  };
  const reasons = new Map<string, number>();
  const blocks = new Map<string, Arm[]>();
  const patients: TrialPatient[] = [];
  while (patients.length < options.patients) {
    const site = sites[integerDraw(rng, 0, sites.length - 1)] as string;
    const siteCounts = (screening.bySite[site] ??= { assessed: 0, randomised: 0 });
    screening.assessed++;
    siteCounts.assessed++;
    if (rng.next() < notEligibleShare) {
      screening.excluded.notEligible++;
      const reason = weighted(rng, EXCLUSION_REASONS, EXCLUSION_WEIGHTS);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      continue;
    }
    const u = rng.next();
    const stratum: TargetedClass | null = u < prevalence.MALS ? 'MALS' : u < prevalence.MALS + prevalence.immunoparalysis ? 'immunoparalysis' : null;
    if (stratum === null) {
      screening.excluded.unclassified++;
      continue;
    }
    // Permuted blocks of 4 per stratum and site.
    const key = `${stratum}|${site}`;
    let block = blocks.get(key);
    if (block === undefined || block.length === 0) {
      block = ['active', 'active', 'placebo', 'placebo'];
      for (let i = block.length - 1; i > 0; i--) {
        const j = integerDraw(rng, 0, i);
        [block[i], block[j]] = [block[j] as Arm, block[i] as Arm];
      }
      blocks.set(key, block);
    }
    const arm = block.pop() as Arm;
    const improver = rng.next() < responderProbability(options, arm, stratum);
    const withdrawn = rng.next() < dropout;
    const id = `P${String(patients.length + 1).padStart(6, '0')}`;
    patients.push(patientRecord(rng, id, site, stratum, arm, improver, withdrawn));
    screening.randomised++;
    siteCounts.randomised++;
    if (withdrawn) screening.withdrawn++;
  }
  screening.excluded.notEligibleByReason = Object.fromEntries([...reasons].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  screening.bySite = Object.fromEntries(Object.entries(screening.bySite).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    format: TRIAL_DATASET_FORMAT,
    trial: {
      id: 'synthetic-immunosep',
      title: `Synthetic biomarker-guided immunotherapy trial (${options.patients} patients, seed ${options.seed ?? 20260124})`,
      sofaPreset: options.sofaPreset ?? 'vincent1996',
      armLabels: { active: 'targeted immunotherapy', placebo: 'placebo' },
    },
    endpointDefinition: options.endpointDefinition ?? DEFAULT_ENDPOINT_DEFINITION,
    screening,
    patients,
  };
}
