/**
 * ImmunoSep eligibility screening (CLINICAL.md section 1) over a criteria list that is DATA:
 * each criterion says whether it is an inclusion or an exclusion and how it is evaluated -
 * automatically from patient data, or completed by the site (consent, infection type, DNR...).
 * Items the public record does not settle are marked `unconfirmed`; a site can replace or remove
 * those and add its own items (`customiseCriteria`), never silently drop a confirmed one.
 *
 * Status semantics: a criterion is `met` when its condition is present - for an inclusion that
 * lets the patient in, for an exclusion it keeps the patient out. `passes` states the effect.
 * Overall: not-eligible when any criterion fails (whatever else is unknown), incomplete when
 * none fails but some are unknown, eligible when every criterion passes.
 */
import { HOUR_MS, formatInstant, parseInstant } from './instant.ts';
import { err, ok } from './types.ts';
import type { ImmuneClassName, IsoDateTime, Result } from './types.ts';

export type CriterionKind = 'inclusion' | 'exclusion';

/** How an automatically evaluated criterion reads the facts. */
export type AutomaticRule =
  | { type: 'min-age'; minYears: number }
  | { type: 'sepsis3' }
  | { type: 'immune-class'; classes: ImmuneClassName[] }
  /** Treatment must start strictly less than `maxHours` after Sepsis-3 onset. */
  | { type: 'sepsis3-to-treatment'; maxHours: number }
  /** Met (excluded) when the absolute neutrophil count is strictly below the threshold. */
  | { type: 'neutrophils-below'; thresholdPerMm3: number }
  /** COVID-19 patients may only enter the listed immune-class strata. */
  | { type: 'covid19-classes'; classes: ImmuneClassName[] };

export type CriterionEvaluation = { mode: 'automatic'; rule: AutomaticRule } | { mode: 'site'; question?: string };

export interface Criterion {
  id: string;
  text: string;
  kind: CriterionKind;
  evaluation: CriterionEvaluation;
  citation: string;
  /** Present when the item is not settled in the public record; such items a site may replace or remove. */
  unconfirmed?: string;
  /** Site that added or replaced this item. */
  site?: string;
}

export interface CriteriaSet {
  id: string;
  version: string;
  citation: string;
  criteria: Criterion[];
}

/**
 * A site's answer for a criterion: `present` = the criterion's condition is present (consent
 * given; DNR decision exists). Answers recorded after the evaluation time are ignored.
 */
export interface SiteAnswer {
  present: boolean;
  answeredBy?: string;
  answeredAt?: IsoDateTime;
  note?: string;
}

export interface EligibilityFacts {
  ageYears?: number | null;
  /** YYYY-MM-DD; preferred over ageYears (age is then computed at the evaluation time). */
  birthDate?: string | null;
  /** Structurally compatible with the Sepsis3Assessment of sepsis3.ts. */
  sepsis3?: { met: boolean; onsetTime?: IsoDateTime | null } | null;
  immuneClass?: ImmuneClassName | null;
  /** Planned or actual start of blinded treatment; when absent the evaluation time is the assumed start. */
  treatmentStart?: IsoDateTime | null;
  absoluteNeutrophilCountPerMm3?: number | null;
  covid19?: boolean | null;
  siteAnswers?: Record<string, SiteAnswer>;
}

export interface CriterionEvidence {
  name: string;
  value: number | string | boolean | null;
  unit?: string;
}

export type CriterionStatus = 'met' | 'not-met' | 'unknown';

export interface CriterionResult {
  id: string;
  text: string;
  kind: CriterionKind;
  evaluatedBy: 'automatic' | 'site';
  status: CriterionStatus;
  /** Whether the criterion lets the patient in (inclusion met / exclusion not met); null when unknown. */
  passes: boolean | null;
  reason: string;
  evidence: CriterionEvidence[];
  citation: string;
  unconfirmed?: string;
  /** For the Sepsis-3-to-treatment window: the instant treatment must start before. */
  deadline?: IsoDateTime;
}

export interface EligibilityResult {
  criteriaSet: { id: string; version: string };
  at: IsoDateTime;
  status: 'eligible' | 'not-eligible' | 'incomplete';
  /** Ids of criteria that fail (inclusion not met, exclusion met). */
  failing: string[];
  /** Ids of criteria that could not be decided. */
  unknown: string[];
  /** Treatment must start before this instant (from the Sepsis-3-to-treatment criterion). */
  mustStartTreatmentBy?: IsoDateTime;
  results: CriterionResult[];
  explanation: string;
}

export interface EligibilityError {
  kind: 'invalid-time' | 'invalid-criteria' | 'invalid-fact' | 'invalid-customisation';
  message: string;
}

const PROTOCOL = 'ImmunoSep protocol (Kotsaki et al., BMJ Open 2022); NCT04990232 / EudraCT 2020-005768-74';
const REGISTRY = 'NCT04990232 registry eligibility text';
const UNCONFIRMED_EXCLUSION = 'part of the exclusion list not confirmed in the public record; a site may complete, replace or remove it';

/** The ImmunoSep criteria (CLINICAL.md section 1). */
export const IMMUNOSEP_CRITERIA: CriteriaSet = deepFreeze({
  id: 'immunosep-eligibility',
  version: '1.0.0',
  citation: PROTOCOL,
  criteria: [
    { id: 'age-18', text: 'Age >= 18 years', kind: 'inclusion', evaluation: { mode: 'automatic', rule: { type: 'min-age', minYears: 18 } }, citation: PROTOCOL },
    {
      id: 'infection-type',
      text: 'Infection is community-acquired pneumonia, hospital-acquired pneumonia, ventilator-associated pneumonia or primary bacteremia',
      kind: 'inclusion',
      evaluation: { mode: 'site' },
      citation: PROTOCOL,
    },
    {
      id: 'sepsis3',
      text: 'Sepsis-3: total SOFA >= 2 (emergency department arrivals) or a rise >= 2 from the admission SOFA (in-hospital patients), with suspected infection',
      kind: 'inclusion',
      evaluation: { mode: 'automatic', rule: { type: 'sepsis3' } },
      citation: `${PROTOCOL}; Singer et al. JAMA 2016;315(8):801-810`,
    },
    {
      id: 'immune-class',
      text: 'Immune dysfunction by biomarkers: MALS or immunoparalysis',
      kind: 'inclusion',
      evaluation: { mode: 'automatic', rule: { type: 'immune-class', classes: ['MALS', 'immunoparalysis'] } },
      citation: PROTOCOL,
    },
    {
      id: 'sepsis3-to-treatment-72h',
      text: 'Less than 72 h from meeting Sepsis-3 to the start of blinded treatment',
      kind: 'inclusion',
      evaluation: { mode: 'automatic', rule: { type: 'sepsis3-to-treatment', maxHours: 72 } },
      citation: PROTOCOL,
    },
    {
      id: 'informed-consent',
      text: 'Informed consent (patient, or first-degree relative / spouse)',
      kind: 'inclusion',
      evaluation: { mode: 'site' },
      citation: PROTOCOL,
    },
    {
      id: 'covid19-mals-only',
      text: 'COVID-19 patients may enter the MALS stratum only',
      kind: 'inclusion',
      evaluation: { mode: 'automatic', rule: { type: 'covid19-classes', classes: ['MALS'] } },
      citation: PROTOCOL,
    },
    {
      id: 'excluded-infection',
      text: 'Acute pyelonephritis, intra-abdominal infection, meningitis or skin infection',
      kind: 'exclusion',
      evaluation: { mode: 'site' },
      citation: PROTOCOL,
    },
    { id: 'stage-iv-cancer', text: 'Stage IV cancer of any kind', kind: 'exclusion', evaluation: { mode: 'site' }, citation: PROTOCOL },
    {
      id: 'neutropenia',
      text: 'Neutropenia: absolute neutrophil count < 1500/mm3',
      kind: 'exclusion',
      evaluation: { mode: 'automatic', rule: { type: 'neutrophils-below', thresholdPerMm3: 1500 } },
      citation: REGISTRY,
      unconfirmed: 'registry text says < 1500/mm3; the protocol may say < 1000/mm3',
    },
    { id: 'dnr', text: 'Any do-not-resuscitate decision', kind: 'exclusion', evaluation: { mode: 'site' }, citation: PROTOCOL },
    {
      id: 'skin-commensal-or-catheter',
      text: 'Bacteremia with coagulase-negative staphylococci / skin commensals only, or catheter-related infection',
      kind: 'exclusion',
      evaluation: { mode: 'site' },
      citation: PROTOCOL,
    },
    { id: 'pregnancy-lactation', text: 'Pregnancy or lactation', kind: 'exclusion', evaluation: { mode: 'site' }, citation: PROTOCOL },
    {
      id: 'systemic-corticosteroids',
      text: 'Systemic corticosteroid treatment',
      kind: 'exclusion',
      evaluation: { mode: 'site' },
      citation: PROTOCOL,
      unconfirmed: UNCONFIRMED_EXCLUSION,
    },
    { id: 'hiv', text: 'HIV infection', kind: 'exclusion', evaluation: { mode: 'site' }, citation: PROTOCOL, unconfirmed: UNCONFIRMED_EXCLUSION },
    {
      id: 'biologics',
      text: 'Treatment with biological immunomodulators (e.g. anti-cytokine agents)',
      kind: 'exclusion',
      evaluation: { mode: 'site' },
      citation: PROTOCOL,
      unconfirmed: UNCONFIRMED_EXCLUSION,
    },
  ],
});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Checks a criteria set: unique non-empty ids and texts, sane rule parameters. */
export function validateCriteria(set: CriteriaSet): Result<CriteriaSet, EligibilityError> {
  const seen = new Set<string>();
  for (const c of set.criteria) {
    if (!c.id || !c.text) return err({ kind: 'invalid-criteria', message: `criterion '${c.id}' needs an id and a text` });
    if (seen.has(c.id)) return err({ kind: 'invalid-criteria', message: `duplicate criterion id '${c.id}'` });
    seen.add(c.id);
    if (c.kind !== 'inclusion' && c.kind !== 'exclusion') return err({ kind: 'invalid-criteria', message: `criterion '${c.id}': kind must be inclusion or exclusion` });
    if (c.evaluation.mode === 'automatic') {
      const r = c.evaluation.rule;
      const bad =
        (r.type === 'min-age' && !(r.minYears >= 0)) ||
        (r.type === 'sepsis3-to-treatment' && !(r.maxHours > 0)) ||
        (r.type === 'neutrophils-below' && !(r.thresholdPerMm3 > 0)) ||
        ((r.type === 'immune-class' || r.type === 'covid19-classes') && r.classes.length === 0);
      if (bad) return err({ kind: 'invalid-criteria', message: `criterion '${c.id}': invalid parameters for rule ${r.type}` });
    }
  }
  return ok(set);
}

export interface SiteCustomisation {
  siteId: string;
  /** Version of the site's customisation, appended to the base version. */
  version: string;
  /** New site items (site-completed or automatic). */
  add?: Criterion[];
  /** Replacements for unconfirmed items, matched by id (e.g. neutropenia at < 1000/mm3). */
  replace?: Criterion[];
  /** Ids of unconfirmed items the site does not use. */
  remove?: string[];
}

/**
 * A site's criteria set: base plus additions, with unconfirmed items replaced or removed.
 * Confirmed protocol items cannot be replaced or removed.
 */
export function customiseCriteria(base: CriteriaSet, custom: SiteCustomisation): Result<CriteriaSet, EligibilityError> {
  const byId = new Map(base.criteria.map((c) => [c.id, c]));
  for (const id of [...(custom.remove ?? []), ...(custom.replace ?? []).map((c) => c.id)]) {
    const c = byId.get(id);
    if (!c) return err({ kind: 'invalid-customisation', message: `no criterion '${id}' in ${base.id} ${base.version}` });
    if (c.unconfirmed === undefined) {
      return err({ kind: 'invalid-customisation', message: `criterion '${id}' is a confirmed protocol item; a site may only replace or remove unconfirmed items` });
    }
  }
  const removed = new Set(custom.remove ?? []);
  const replacements = new Map((custom.replace ?? []).map((c) => [c.id, c]));
  const criteria: Criterion[] = [];
  for (const c of base.criteria) {
    if (removed.has(c.id)) continue;
    const r = replacements.get(c.id);
    criteria.push(r ? { ...r, site: custom.siteId } : c);
  }
  for (const c of custom.add ?? []) criteria.push({ ...c, site: custom.siteId });
  return validateCriteria({
    id: `${base.id}+${custom.siteId}`,
    version: `${base.version}+${custom.version}`,
    citation: `${base.citation}; completed by site ${custom.siteId}`,
    criteria,
  });
}

interface Outcome {
  status: CriterionStatus;
  reason: string;
  evidence: CriterionEvidence[];
  deadline?: IsoDateTime;
  /** True when the automatic evaluation lacked data (a site answer may then complete it). */
  missingData?: boolean;
}

const known = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;

/** Completed years between a birth date (YYYY-MM-DD) and an instant, on the UTC calendar. */
function completedYears(birthDate: string, atMs: number): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
  if (!m) return null;
  const birthMs = parseInstant(`${birthDate}T00:00:00Z`);
  if (birthMs === null) return null;
  const at = new Date(atMs);
  const [by, bm, bd] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let years = at.getUTCFullYear() - by;
  const month = at.getUTCMonth() + 1;
  if (month < bm || (month === bm && at.getUTCDate() < bd)) years -= 1;
  return years;
}

function evaluateAutomatic(rule: AutomaticRule, facts: EligibilityFacts, atMs: number): Outcome {
  switch (rule.type) {
    case 'min-age': {
      let age: number | null = null;
      const evidence: CriterionEvidence[] = [];
      if (known(facts.birthDate)) {
        age = completedYears(facts.birthDate, atMs);
        evidence.push({ name: 'birth date', value: facts.birthDate });
      } else if (known(facts.ageYears)) {
        age = facts.ageYears;
      }
      if (age === null) return { status: 'unknown', reason: 'age missing', evidence, missingData: true };
      evidence.push({ name: 'age', value: age, unit: 'years' });
      return age >= rule.minYears
        ? { status: 'met', reason: `age ${age} >= ${rule.minYears}`, evidence }
        : { status: 'not-met', reason: `age ${age} < ${rule.minYears}`, evidence };
    }
    case 'sepsis3': {
      const s = facts.sepsis3;
      if (!known(s)) return { status: 'unknown', reason: 'Sepsis-3 assessment missing', evidence: [], missingData: true };
      const evidence: CriterionEvidence[] = [
        { name: 'Sepsis-3 met', value: s.met },
        { name: 'Sepsis-3 onset', value: s.onsetTime ?? null },
      ];
      return s.met ? { status: 'met', reason: `Sepsis-3 met (onset ${s.onsetTime ?? 'unknown'})`, evidence } : { status: 'not-met', reason: 'Sepsis-3 criteria not met', evidence };
    }
    case 'immune-class': {
      const c = facts.immuneClass;
      if (!known(c)) return { status: 'unknown', reason: 'immune class missing', evidence: [], missingData: true };
      const evidence = [{ name: 'immune class', value: c }];
      if (rule.classes.includes(c)) return { status: 'met', reason: `immune class ${c} is one of ${rule.classes.join(', ')}`, evidence };
      if (c === 'indeterminate') return { status: 'unknown', reason: 'immune class indeterminate: not enough valid biomarker data', evidence, missingData: true };
      return { status: 'not-met', reason: `immune class ${c} is not one of ${rule.classes.join(', ')}`, evidence };
    }
    case 'sepsis3-to-treatment': {
      const s = facts.sepsis3;
      if (!known(s)) return { status: 'unknown', reason: 'Sepsis-3 assessment missing', evidence: [], missingData: true };
      if (!s.met) return { status: 'not-met', reason: 'Sepsis-3 not met: there is no onset to count from', evidence: [{ name: 'Sepsis-3 met', value: false }] };
      const onsetMs = known(s.onsetTime) ? parseInstant(s.onsetTime) : null;
      if (onsetMs === null) return { status: 'unknown', reason: 'Sepsis-3 onset time missing', evidence: [], missingData: true };
      const deadlineMs = onsetMs + rule.maxHours * HOUR_MS;
      const deadline = formatInstant(deadlineMs);
      const startMs = known(facts.treatmentStart) ? parseInstant(facts.treatmentStart) : null;
      const evidence: CriterionEvidence[] = [{ name: 'Sepsis-3 onset', value: formatInstant(onsetMs) }];
      if (startMs !== null) {
        const hours = (startMs - onsetMs) / HOUR_MS;
        evidence.push({ name: 'treatment start', value: formatInstant(startMs) }, { name: 'hours from Sepsis-3 to treatment', value: hours, unit: 'h' });
        if (hours < 0) return { status: 'not-met', reason: `treatment start is ${-hours} h before Sepsis-3 onset`, evidence, deadline };
        return hours < rule.maxHours
          ? { status: 'met', reason: `treatment starts ${hours} h after Sepsis-3 onset (< ${rule.maxHours} h)`, evidence, deadline }
          : { status: 'not-met', reason: `treatment starts ${hours} h after Sepsis-3 onset (not < ${rule.maxHours} h)`, evidence, deadline };
      }
      const elapsed = (atMs - onsetMs) / HOUR_MS;
      evidence.push({ name: 'hours since Sepsis-3 at evaluation', value: elapsed, unit: 'h' });
      if (elapsed < 0) return { status: 'unknown', reason: 'Sepsis-3 onset is after the evaluation time', evidence, deadline };
      return elapsed < rule.maxHours
        ? { status: 'met', reason: `treatment not yet started: ${elapsed} h since Sepsis-3 onset; must start before ${deadline} (${rule.maxHours - elapsed} h left)`, evidence, deadline }
        : { status: 'not-met', reason: `${elapsed} h since Sepsis-3 onset and treatment not started: the ${rule.maxHours} h window closed at ${deadline}`, evidence, deadline };
    }
    case 'neutrophils-below': {
      const anc = facts.absoluteNeutrophilCountPerMm3;
      if (!known(anc)) return { status: 'unknown', reason: 'absolute neutrophil count missing', evidence: [], missingData: true };
      const evidence = [{ name: 'absolute neutrophil count', value: anc, unit: '/mm3' }];
      return anc < rule.thresholdPerMm3
        ? { status: 'met', reason: `ANC ${anc}/mm3 < ${rule.thresholdPerMm3}/mm3`, evidence }
        : { status: 'not-met', reason: `ANC ${anc}/mm3 is not < ${rule.thresholdPerMm3}/mm3`, evidence };
    }
    case 'covid19-classes': {
      const covid = facts.covid19;
      const c = facts.immuneClass;
      const evidence: CriterionEvidence[] = [
        { name: 'COVID-19', value: known(covid) ? covid : null },
        { name: 'immune class', value: known(c) ? c : null },
      ];
      if (known(c) && rule.classes.includes(c)) return { status: 'met', reason: `immune class ${c} is open to COVID-19 patients`, evidence };
      if (covid === false) return { status: 'met', reason: 'no COVID-19', evidence };
      if (covid === true) {
        if (!known(c) || c === 'indeterminate') return { status: 'unknown', reason: 'COVID-19 patient with immune class not yet known', evidence, missingData: true };
        return { status: 'not-met', reason: `COVID-19 patient in class ${c}: COVID-19 patients may enter ${rule.classes.join(', ')} only`, evidence };
      }
      return { status: 'unknown', reason: `COVID-19 status missing and immune class is not ${rule.classes.join('/')}`, evidence, missingData: true };
    }
  }
}

function siteOutcome(answer: SiteAnswer | undefined, atMs: number, criterion: Criterion): Outcome | null {
  if (!answer) return null;
  if (known(answer.answeredAt)) {
    const t = parseInstant(answer.answeredAt);
    if (t !== null && t > atMs) return null;
  }
  const evidence: CriterionEvidence[] = [{ name: 'site answer', value: answer.present }];
  if (answer.answeredBy) evidence.push({ name: 'answered by', value: answer.answeredBy });
  if (answer.answeredAt) evidence.push({ name: 'answered at', value: answer.answeredAt });
  const what = criterion.kind === 'inclusion' ? (answer.present ? 'confirmed' : 'not fulfilled') : answer.present ? 'present' : 'absent';
  return {
    status: answer.present ? 'met' : 'not-met',
    reason: `site-completed: ${what}${answer.note ? ` (${answer.note})` : ''}`,
    evidence,
  };
}

function passes(kind: CriterionKind, status: CriterionStatus): boolean | null {
  if (status === 'unknown') return null;
  return kind === 'inclusion' ? status === 'met' : status === 'not-met';
}

/**
 * Screens a patient against a criteria set at an evaluation instant. Each criterion is met /
 * not met / unknown with evidence and reason; site answers complete site items and automatic
 * items whose data are missing.
 */
export function screenEligibility(
  facts: EligibilityFacts,
  criteria: CriteriaSet,
  at: IsoDateTime,
): Result<EligibilityResult, EligibilityError> {
  const atMs = parseInstant(at);
  if (atMs === null) return err({ kind: 'invalid-time', message: `evaluation time '${at}' is not an ISO 8601 instant with a time zone` });
  const valid = validateCriteria(criteria);
  if (!valid.ok) return valid;
  for (const [name, v] of [
    ['treatmentStart', facts.treatmentStart],
    ['sepsis3.onsetTime', facts.sepsis3?.onsetTime],
  ] as const) {
    if (known(v) && parseInstant(v) === null) return err({ kind: 'invalid-fact', message: `${name} '${v}' is not an ISO 8601 instant with a time zone` });
  }
  if (known(facts.birthDate) && completedYears(facts.birthDate, atMs) === null) {
    return err({ kind: 'invalid-fact', message: `birthDate '${facts.birthDate}' is not a YYYY-MM-DD date` });
  }
  for (const [id, a] of Object.entries(facts.siteAnswers ?? {})) {
    if (known(a.answeredAt) && parseInstant(a.answeredAt) === null) {
      return err({ kind: 'invalid-fact', message: `site answer for '${id}': answeredAt '${a.answeredAt}' is not an ISO 8601 instant with a time zone` });
    }
  }

  const results: CriterionResult[] = criteria.criteria.map((c) => {
    const answer = facts.siteAnswers?.[c.id];
    let outcome: Outcome;
    let evaluatedBy: 'automatic' | 'site' = c.evaluation.mode;
    if (c.evaluation.mode === 'automatic') {
      outcome = evaluateAutomatic(c.evaluation.rule, facts, atMs);
      if (outcome.status === 'unknown' && outcome.missingData) {
        const site = siteOutcome(answer, atMs, c);
        if (site) {
          outcome = { ...site, reason: `${site.reason}; automatic check impossible: ${outcome.reason}` };
          evaluatedBy = 'site';
        }
      }
    } else {
      outcome = siteOutcome(answer, atMs, c) ?? {
        status: 'unknown',
        reason: answer ? 'awaiting site completion (the recorded answer is later than the evaluation time)' : 'awaiting site completion',
        evidence: [],
      };
    }
    return {
      id: c.id,
      text: c.text,
      kind: c.kind,
      evaluatedBy,
      status: outcome.status,
      passes: passes(c.kind, outcome.status),
      reason: outcome.reason,
      evidence: outcome.evidence,
      citation: c.citation,
      ...(c.unconfirmed === undefined ? {} : { unconfirmed: c.unconfirmed }),
      ...(outcome.deadline === undefined ? {} : { deadline: outcome.deadline }),
    };
  });

  const failing = results.filter((r) => r.passes === false).map((r) => r.id);
  const unknown = results.filter((r) => r.passes === null).map((r) => r.id);
  const status = failing.length > 0 ? 'not-eligible' : unknown.length > 0 ? 'incomplete' : 'eligible';
  const deadline = results.find((r) => r.deadline !== undefined && r.status === 'met')?.deadline;
  const explanation =
    status === 'eligible'
      ? `Eligible under ${criteria.id} ${criteria.version}: all ${results.length} criteria pass${deadline ? `; blinded treatment must start before ${deadline}` : ''}.`
      : status === 'not-eligible'
        ? `Not eligible under ${criteria.id} ${criteria.version}: ${failing.join(', ')} fail${unknown.length > 0 ? `; also unknown: ${unknown.join(', ')}` : ''}.`
        : `Incomplete under ${criteria.id} ${criteria.version}: nothing fails yet, but ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} unknown.`;

  return ok({
    criteriaSet: { id: criteria.id, version: criteria.version },
    at: formatInstant(atMs),
    status,
    failing,
    unknown,
    ...(deadline === undefined ? {} : { mustStartTreatmentBy: deadline }),
    results,
    explanation,
  });
}
