/**
 * Immune classification: versioned rule sets (data with citations) and the functions that
 * apply them. See docs/clinical-rules.md for the rule sets as clinicians read them.
 */
export { CITATIONS, type Citation, type CitationId, type SourceRef } from './citations.ts';
export { classifyAt, classifyTimeline, ruleSetInputs, type TimelineEntry } from './classify.ts';
export { describeThreshold } from './comparison.ts';
export { assessReversal, type ReversalAssessment } from './reversal.ts';
export {
  DEFAULT_IMMUNE_RULE_SET,
  HSCORE,
  IMMUNE_RULE_SETS,
  IMMUNOSEP,
  PROVIDE_2017,
  SUPAR,
  findImmuneRuleSet,
} from './rule-sets/index.ts';
export type * from './types.ts';
