/**
 * The screening log that feeds the CONSORT flow diagram: one entry per screening event, and
 * each patient's disposition (the furthest stage reached). Endpoint-free and arm-free, so the
 * pooled counts may be shown to every role; per-arm CONSORT boxes join the allocations in an
 * unblinded context (analysis issue).
 */
import type { IsoDateTime } from '../clinical/types.ts';

export const SCREENING_OUTCOMES = ['screened', 'not-eligible', 'unclassified', 'randomised', 'withdrawn'] as const;
/**
 * - screened: assessed, nothing decided yet (e.g. waiting for mHLA-DR, or eligible and not yet randomised)
 * - not-eligible: an inclusion criterion not met or an exclusion criterion present (reasons name them)
 * - unclassified: neither MALS nor immunoparalysis: no targeted therapy (CLINICAL.md section 2)
 * - randomised, withdrawn: written by the randomisation and withdrawal services
 */
export type ScreeningOutcome = (typeof SCREENING_OUTCOMES)[number];

export interface ScreeningEntry {
  trialId: string;
  patientId: string;
  siteId: string;
  at: IsoDateTime;
  outcome: ScreeningOutcome;
  /** Criterion ids or short reasons; required for not-eligible. */
  reasons: string[];
}

/** Stage order: a later stage wins; among screened / not-eligible / unclassified the latest entry wins (a patient may be re-screened). */
const STAGE: Record<ScreeningOutcome, number> = { screened: 0, 'not-eligible': 0, unclassified: 0, randomised: 1, withdrawn: 2 };

/** Each patient's disposition: their furthest stage, the latest entry on ties. */
export function screeningDispositions(entries: readonly ScreeningEntry[]): Map<string, ScreeningEntry> {
  const byPatient = new Map<string, ScreeningEntry>();
  const ordered = [...entries].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  for (const entry of ordered) {
    const current = byPatient.get(entry.patientId);
    if (current === undefined || STAGE[entry.outcome] >= STAGE[current.outcome]) byPatient.set(entry.patientId, entry);
  }
  return byPatient;
}

export interface ScreeningSummary {
  /** Distinct patients assessed for eligibility. */
  assessed: number;
  excluded: {
    notEligible: number;
    /** Patients per reason; a patient with several reasons counts under each. */
    notEligibleByReason: Record<string, number>;
    unclassified: number;
    /** Assessed, neither excluded nor randomised (pending, declined, ...). */
    notRandomised: number;
  };
  randomised: number;
  /** Randomised, then withdrawn (included in `randomised`). */
  withdrawn: number;
  bySite: Record<string, { assessed: number; randomised: number }>;
}

export function summariseScreening(entries: readonly ScreeningEntry[]): ScreeningSummary {
  // Maps, not object literals, while counting: site ids and reasons are data ("__proto__" included).
  const byReason = new Map<string, number>();
  const bySite = new Map<string, { assessed: number; randomised: number }>();
  const summary: ScreeningSummary = {
    assessed: 0,
    excluded: { notEligible: 0, notEligibleByReason: {}, unclassified: 0, notRandomised: 0 },
    randomised: 0,
    withdrawn: 0,
    bySite: {},
  };
  for (const entry of screeningDispositions(entries).values()) {
    summary.assessed++;
    const site = bySite.get(entry.siteId) ?? { assessed: 0, randomised: 0 };
    bySite.set(entry.siteId, site);
    site.assessed++;
    switch (entry.outcome) {
      case 'not-eligible':
        summary.excluded.notEligible++;
        for (const reason of new Set(entry.reasons)) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
        break;
      case 'unclassified':
        summary.excluded.unclassified++;
        break;
      case 'screened':
        summary.excluded.notRandomised++;
        break;
      case 'withdrawn':
        summary.withdrawn++;
        summary.randomised++;
        site.randomised++;
        break;
      case 'randomised':
        summary.randomised++;
        site.randomised++;
        break;
    }
  }
  summary.excluded.notEligibleByReason = Object.fromEntries([...byReason].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  summary.bySite = Object.fromEntries([...bySite].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return summary;
}
