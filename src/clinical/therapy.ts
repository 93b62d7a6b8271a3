/**
 * Targeted immunotherapy of the ImmunoSep protocol (CLINICAL.md section 3).
 *
 * `regimenFor` maps an immune class to its regimen from the versioned therapy rule set;
 * classes without a targeted therapy (unclassified, indeterminate) get `null`. The full plan
 * (administration calendar, double-dummy companion, visits, safety warnings) is `planTherapy`.
 * The rule-set data lives in therapy/rules.ts; this file is the public entry point.
 */
import type { ImmuneClassName } from './types.ts';
import { IMMUNOSEP_THERAPY_RULES, regimenInRuleSet } from './therapy/rules.ts';
import type { Regimen, TherapyRuleSet } from './therapy/rules.ts';

export type { DoseUnit, DrugName, Regimen, Route, TargetedClass, Threshold, TherapyRuleSet, VisitRule } from './therapy/rules.ts';
export { IMMUNOSEP_CITATION, IMMUNOSEP_THERAPY_RULES } from './therapy/rules.ts';

/**
 * The targeted regimen for an immune class, or null when the class has no targeted therapy
 * (unclassified patients are not eligible; indeterminate means not enough valid data).
 */
export function regimenFor(className: ImmuneClassName, ruleSet: TherapyRuleSet = IMMUNOSEP_THERAPY_RULES): Regimen | null {
  return regimenInRuleSet(className, ruleSet);
}

export { blindedKitView, doseCount, planTherapy } from './therapy/plan.ts';
export type {
  Administration,
  Allocation,
  BlindedAdministration,
  BlindedComponent,
  BlindedKitView,
  DoseComponent,
  PlanError,
  PlanTherapyInput,
  TherapyPlan,
  Visit,
} from './therapy/plan.ts';
export { assessSafety } from './therapy/safety.ts';
export type { SafetyAssessment, SafetyCheck, SafetyCheckName, SafetyEvidence, SafetyWarning, TherapyPatientFacts } from './therapy/safety.ts';
export { cockcroftGault } from './therapy/renal.ts';
export type { CockcroftGaultInputs, CreatinineClearance, Sex } from './therapy/renal.ts';
