/**
 * What a rule set decides from the selected inputs, before the common result fields
 * (rule set, time, rejected samples, summary) are added by classify.ts.
 */
import type { Concept } from '../types.ts';
import { decimalRound, formatExact } from '../numeric.ts';
import { CONCEPT_UNITS } from '../units.ts';
import type { InputSelection } from './samples.ts';
import type { DeterminedClassName, Evidence, StaleInput } from './types.ts';

export type Decision =
  | { class: DeterminedClassName; evidence: Evidence; because: string }
  | {
      class: 'indeterminate';
      evidence: Evidence;
      because: string;
      missing: Concept[];
      stale: StaleInput[];
      possible: DeterminedClassName[];
    };

/** Why a concept has no usable value: "no HLA-DR sample", "HLA-DR stale (60 h old, window 48 h)". */
export function unavailability(selection: InputSelection, concept: Concept): string {
  const label = CONCEPT_UNITS[concept].label;
  const stale = selection.stale.find((s) => s.concept === concept);
  if (stale) {
    return `newest ${label} (${stale.time}) is ${hoursText(stale.ageHours)} h old, beyond the ${stale.windowHours} h validity window`;
  }
  const rejected = selection.rejected.filter((r) => r.concept === concept).length;
  return rejected > 0 ? `no usable ${label} (${rejected} sample(s) rejected)` : `no ${label} measurement`;
}

/** Missing and stale entries restricted to the given concepts. */
export function unavailable(
  selection: InputSelection,
  concepts: readonly Concept[],
): { missing: Concept[]; stale: StaleInput[] } {
  return {
    missing: selection.missing.filter((c) => concepts.includes(c)),
    stale: selection.stale.filter((s) => concepts.includes(s.concept)),
  };
}

/** Ages are printed unrounded (to 12 digits), so "48.0003 h" is never shown as "48 h". */
function hoursText(hours: number): string {
  return formatExact(decimalRound(hours));
}
