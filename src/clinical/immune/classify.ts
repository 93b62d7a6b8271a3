/**
 * Immune classification of one patient at a given time, and over a timeline.
 *
 * `classifyAt(measurements, at, ruleSet)` uses, for each input of the rule set, the newest
 * usable sample taken at or before `at` and not older than the rule set's validity window
 * (samples.ts). Measurements are normalised through units.ts, so ferritin in ng/mL, ug/L,
 * mg/L or pmol/L classifies identically and HLA-DR in % is rejected under hla_dr.
 */
import type { Concept, IsoDateTime, Measurement } from '../types.ts';
import type { Decision } from './decision.ts';
import { decideFerritinHlaDr, ferritinHlaDrInputs } from './ferritin-hla-dr.ts';
import { DEFAULT_IMMUNE_RULE_SET } from './rule-sets/index.ts';
import { type InputSelection, assertOnePatient, evaluationInstant, selectInputs } from './samples.ts';
import { decideScore, scoreInputs } from './score.ts';
import { decideSingleMarker } from './single-marker.ts';
import type { ImmuneClassification, ImmuneRuleSet, RejectedInput } from './types.ts';

/** The concepts a rule set reads. */
export function ruleSetInputs(ruleSet: ImmuneRuleSet): Concept[] {
  switch (ruleSet.kind) {
    case 'ferritin-hla-dr':
      return ferritinHlaDrInputs(ruleSet);
    case 'score':
      return scoreInputs(ruleSet);
    case 'single-marker':
      return [ruleSet.marker.input];
  }
}

/**
 * The immune class of one patient at time `at` under `ruleSet` (default immunosep), with the
 * inputs and comparisons that decided it. Throws RangeError on a malformed `at` or on
 * measurements of more than one patient (caller bugs, not data conditions).
 */
export function classifyAt(
  measurements: readonly Measurement[],
  at: IsoDateTime,
  ruleSet: ImmuneRuleSet = DEFAULT_IMMUNE_RULE_SET,
): ImmuneClassification {
  assertOnePatient(measurements);
  const selection = selectInputs(measurements, ruleSetInputs(ruleSet), at, ruleSet.validityWindow.hours);
  return withContext(decide(ruleSet, selection), ruleSet, at, selection.rejected);
}

function decide(ruleSet: ImmuneRuleSet, selection: InputSelection): Decision {
  switch (ruleSet.kind) {
    case 'ferritin-hla-dr':
      return decideFerritinHlaDr(ruleSet, selection);
    case 'score':
      return decideScore(ruleSet, selection);
    case 'single-marker':
      return decideSingleMarker(ruleSet, selection);
  }
}

function withContext(
  decision: Decision,
  ruleSet: ImmuneRuleSet,
  at: IsoDateTime,
  rejected: RejectedInput[],
): ImmuneClassification {
  const { because, ...rest } = decision;
  return {
    ...rest,
    ruleSet: { id: ruleSet.id, version: ruleSet.version },
    evaluatedAt: at,
    rejected,
    summary: `${decision.class}: ${because} (rule set ${ruleSet.id} ${ruleSet.version})`,
  };
}

export interface TimelineEntry {
  at: IsoDateTime;
  classification: ImmuneClassification;
  /** The class differs from the previous entry's (false for the first entry). */
  changed: boolean;
}

/**
 * Reclassification over time: the class at each of `times` (sorted chronologically), each
 * decided from the samples valid at that time only.
 */
export function classifyTimeline(
  measurements: readonly Measurement[],
  times: readonly IsoDateTime[],
  ruleSet: ImmuneRuleSet = DEFAULT_IMMUNE_RULE_SET,
): TimelineEntry[] {
  const ordered = [...times].sort((a, b) => evaluationInstant(a) - evaluationInstant(b));
  const entries: TimelineEntry[] = [];
  for (const at of ordered) {
    const classification = classifyAt(measurements, at, ruleSet);
    const previous = entries.at(-1);
    entries.push({ at, classification, changed: previous !== undefined && previous.classification.class !== classification.class });
  }
  return entries;
}
