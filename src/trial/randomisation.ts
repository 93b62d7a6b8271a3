/**
 * Whether a patient may be randomised, decided on frozen evidence only: the immune
 * classification and the eligibility screening as the clinical engine produced them (plain
 * JSON). A patient is randomised only when eligibility says eligible with no criterion unmet
 * or unknown, and the class has a stratum in the trial. The evidence is stored with the
 * allocation and its SHA-256 goes into the audit chain, so what the decision rested on can
 * never change afterwards.
 *
 * Refusals name the reason and never anything about arms (nothing here knows an arm).
 */
import type { EligibilityResult } from '../clinical/eligibility.ts';
import type { ImmuneClassification } from '../clinical/immune/types.ts';
import type { TargetedClass } from '../clinical/therapy.ts';
import { type Result, err, ok } from '../clinical/types.ts';
import { type JsonValue, canonicalJson, jsonProblem, sha256Hex } from './canonical.ts';
import { type TrialDefinition, armsOf, stratumKey } from './definition.ts';

/**
 * The evidence as the clinical engine produces it (immune/classify.ts, eligibility.ts),
 * serialised to JSON. Only `class`, `ruleSet`, and the eligibility `status`, `criteriaSet`,
 * `failing`, `unknown` and `results[].passes` are relied on; the rest is kept verbatim. An
 * optional `patientId` on either part must name the patient being randomised.
 */
export interface RandomisationEvidence {
  classification: ImmuneClassification;
  eligibility: EligibilityResult;
}

export type RandomisationRefusal =
  | { kind: 'invalid-evidence'; message: string }
  | { kind: 'evidence-patient-mismatch'; message: string }
  | { kind: 'not-eligible'; message: string; failing: string[]; unknown: string[] }
  | { kind: 'no-stratum'; message: string; className: string }
  | { kind: 'invalid-factor'; message: string };

export interface RandomisationDecision {
  immuneClass: TargetedClass;
  stratumKey: string;
  factors: Record<string, string>;
  evidenceSha256: string;
}

export interface RandomisationRequest {
  patientId: string;
  /** The patient's site, from the patient record (never from the request body). */
  siteId: string;
  evidence: unknown;
  /** Optional extra stratification factors the definition declares (immuneClass and site are derived). */
  extraFactors?: Readonly<Record<string, string>>;
}

export function decideRandomisation(definition: TrialDefinition, request: RandomisationRequest): Result<RandomisationDecision, RandomisationRefusal> {
  const evidence = request.evidence;
  const shape = evidenceShapeProblem(evidence);
  if (shape !== undefined) return err({ kind: 'invalid-evidence', message: `evidence ${shape}` });
  const { classification, eligibility } = evidence as RandomisationEvidence;

  for (const [name, part] of [['classification', classification], ['eligibility', eligibility]] as const) {
    const patientId = (part as { patientId?: unknown }).patientId;
    if (patientId !== undefined && patientId !== request.patientId) {
      return err({ kind: 'evidence-patient-mismatch', message: `the ${name} evidence is for another patient` });
    }
  }

  const { failing, unknown } = eligibility;
  const allPass = eligibility.results.every((r) => r.passes === true);
  if (eligibility.status !== 'eligible' || failing.length > 0 || unknown.length > 0 || !allPass) {
    const detail = [
      failing.length > 0 ? `failing: ${failing.join(', ')}` : '',
      unknown.length > 0 ? `unknown: ${unknown.join(', ')}` : '',
    ].filter((d) => d !== '');
    const under = `${eligibility.criteriaSet.id} ${eligibility.criteriaSet.version}`;
    const state = eligibility.status === 'incomplete' ? 'not yet known to be eligible (screening incomplete)' : 'not eligible';
    const message =
      eligibility.status === 'eligible'
        ? `eligibility evidence is inconsistent: it says eligible but not every criterion passes (${under})`
        : `the patient is ${state} under ${under}${detail.length > 0 ? `: ${detail.join('; ')}` : ''}`;
    return err({ kind: 'not-eligible', message, failing: [...failing], unknown: [...unknown] });
  }

  const className: string = classification.class;
  if (className !== 'MALS' && className !== 'immunoparalysis') {
    const why =
      className === 'unclassified'
        ? 'unclassified patients have no targeted therapy and are not randomised'
        : className === 'indeterminate'
          ? 'the immune class is indeterminate (not enough valid data): classify again before randomising'
          : `"${className}" is not an immune class`;
    return err({ kind: 'no-stratum', message: why, className });
  }
  if (armsOf(definition, className) === undefined) {
    return err({ kind: 'no-stratum', message: `trial ${definition.id} does not randomise ${className} patients`, className });
  }

  for (const derived of ['immuneClass', 'site']) {
    if (request.extraFactors !== undefined && Object.hasOwn(request.extraFactors, derived)) {
      return err({ kind: 'invalid-factor', message: `"${derived}" is derived from the evidence and the patient record; do not pass it` });
    }
  }
  const factors = { ...request.extraFactors, immuneClass: className, site: request.siteId };
  const key = stratumKey(definition, factors);
  if (!key.ok) return err({ kind: 'invalid-factor', message: key.error });
  return ok({ immuneClass: className, stratumKey: key.value, factors, evidenceSha256: evidenceDigest(evidence as JsonValue) });
}

/** SHA-256 of the canonical JSON of the evidence: what the audit entry commits to. */
export function evidenceDigest(evidence: JsonValue): string {
  return sha256Hex(canonicalJson(evidence));
}

function evidenceShapeProblem(evidence: unknown): string | undefined {
  const problem = jsonProblem(evidence);
  if (problem !== undefined) return `is not plain JSON (${problem})`;
  if (!isObject(evidence)) return 'must be an object with classification and eligibility';
  const { classification, eligibility } = evidence;
  if (!isObject(classification) || typeof classification.class !== 'string') return 'classification.class is missing';
  if (!isRuleSet(classification.ruleSet)) return 'classification.ruleSet {id, version} is missing';
  if (!isObject(eligibility) || typeof eligibility.status !== 'string') return 'eligibility.status is missing';
  if (!isRuleSet(eligibility.criteriaSet)) return 'eligibility.criteriaSet {id, version} is missing';
  for (const list of ['failing', 'unknown'] as const) {
    const ids = eligibility[list];
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) return `eligibility.${list} must be a list of criterion ids`;
  }
  if (!Array.isArray(eligibility.results) || !eligibility.results.every((r) => isObject(r) && typeof r.id === 'string')) {
    return 'eligibility.results must be a list of criterion results';
  }
  for (const part of [classification, eligibility]) {
    if (part.patientId !== undefined && typeof part.patientId !== 'string') return 'patientId must be a string';
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRuleSet(value: unknown): boolean {
  return isObject(value) && typeof value.id === 'string' && typeof value.version === 'string';
}
