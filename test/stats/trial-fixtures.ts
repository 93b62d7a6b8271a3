/** Small hand-made trial datasets for the analysis, report and CLI tests. */
import { DEFAULT_ENDPOINT_DEFINITION } from '../../src/clinical/endpoints.ts';
import { TRIAL_DATASET_FORMAT, type TrialDataset, type TrialPatient } from '../../src/stats/trial-data.ts';

/** Distinctive labels so tests can look for them in the bytes of a report. */
export const ACTIVE_LABEL = 'Zorbatinib-XR';
export const PLACEBO_LABEL = 'Saline-Dummy-Q';

function days(first: number, totals: Array<number | null>): TrialPatient['sofa'] {
  return totals.map((total, i) => ({ day: first + i, total }));
}

function patient(id: string, stratum: TrialPatient['stratum'], arm: TrialPatient['arm'], sofa: Array<number | null>, extra: Partial<TrialPatient> = {}): TrialPatient {
  return {
    id,
    site: id.startsWith('A') || id.startsWith('B') ? 'athens' : 'milan',
    stratum,
    arm,
    baseline: { ageYears: 60, sex: 'male', infection: 'primary bacteremia', ferritinNgPerMl: stratum === 'MALS' ? 6000 : 1000, hlaDrMoleculesPerMonocyte: stratum === 'MALS' ? 9000 : 3000 },
    sofa: days(1, sofa),
    deathDay: null,
    lastAliveDay: 90,
    reversal: { reversed: 'no', firstReversalAt: null, assessedThroughDay: 15 },
    infectionResolved: true,
    withdrawn: false,
    analysed: true,
    ...extra,
  };
}

/**
 * Eight patients, hand-checked (change = day-1 SOFA - mean of days 2-9):
 * - MALS active: A1 12 then 8 x 8 (change 4, responder); A2 10 then 10 x 8 (0, non-responder)
 * - MALS placebo: B1 11, 12, 13, 14, dies day 5 (mean (12+13+14+14+4*24)/8 = 18.625, non-responder);
 *   B2 9 then 7 x 8 (2, responder)
 * - immunoparalysis active: C1 8 then 6 x 8 (2, responder); C2 14 then 10 x 8 (4, responder), dies day 40
 * - immunoparalysis placebo: D1 6 then 6 x 8 (0); D2 withdrawn (not analysed)
 * Active: 3/4 responders; placebo (analysed): 1/3.
 */
export function smallTrial(): TrialDataset {
  const eight = (v: number) => Array.from({ length: 8 }, () => v);
  return {
    format: TRIAL_DATASET_FORMAT,
    trial: { id: 'test-trial', title: 'Hand-checked test trial', sofaPreset: 'vincent1996', armLabels: { active: ACTIVE_LABEL, placebo: PLACEBO_LABEL } },
    endpointDefinition: DEFAULT_ENDPOINT_DEFINITION,
    screening: {
      assessed: 20,
      excluded: { notEligible: 5, notEligibleByReason: { 'stage IV cancer': 3, neutropenia: 2 }, unclassified: 6, notRandomised: 1 },
      randomised: 8,
      withdrawn: 1,
      bySite: {},
    },
    patients: [
      patient('A1', 'MALS', 'active', [12, ...eight(8)], { reversal: { reversed: 'yes', firstReversalAt: 5, assessedThroughDay: 15 } }),
      patient('A2', 'MALS', 'active', [10, ...eight(10)]),
      patient('B1', 'MALS', 'placebo', [11, 12, 13, 14], { deathDay: 5, lastAliveDay: null, infectionResolved: false, reversal: { reversed: 'no', firstReversalAt: null, assessedThroughDay: 5 } }),
      patient('B2', 'MALS', 'placebo', [9, ...eight(7)]),
      patient('C1', 'immunoparalysis', 'active', [8, ...eight(6)], { reversal: { reversed: 'yes', firstReversalAt: 8, assessedThroughDay: 15 } }),
      patient('C2', 'immunoparalysis', 'active', [14, ...eight(10)], { deathDay: 40, lastAliveDay: null }),
      patient('D1', 'immunoparalysis', 'placebo', [6, ...eight(6)], { baseline: { ageYears: 70, sex: 'female', infection: 'community-acquired pneumonia', ferritinNgPerMl: 800, hlaDrMoleculesPerMonocyte: 2500 } }),
      patient('D2', 'immunoparalysis', 'placebo', [7, 7], { withdrawn: true, analysed: false, lastAliveDay: 2, infectionResolved: null, reversal: null }),
    ],
  };
}

/** The same trial with every arm swapped and the patients in reverse order. */
export function swappedArms(data: TrialDataset): TrialDataset {
  return {
    ...data,
    patients: data.patients.map((p) => ({ ...p, arm: p.arm === 'active' ? ('placebo' as const) : ('active' as const) })).reverse(),
  };
}
