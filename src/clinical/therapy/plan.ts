/**
 * The therapy plan for a classified patient (CLINICAL.md section 3): the full administration
 * calendar from a start instant, the double-dummy companion of every administration, the
 * monitoring visits, and the safety assessment. Two views: the unblinded plan (pharmacy - says
 * which component is active) and the blinded kit view (ward - no arm information at all).
 *
 * Times are absolute instants; intervals are elapsed hours, so calendars do not shift across
 * daylight-saving changes. Output times are UTC.
 */
import { DAY_MS, HOUR_MS, formatInstant, parseInstant } from '../instant.ts';
import { err, ok } from '../types.ts';
import type { ImmuneClassName, IsoDateTime, Result } from '../types.ts';
import { IMMUNOSEP_THERAPY_RULES, regimenInRuleSet } from './rules.ts';
import type { Regimen, Route, TargetedClass, TherapyRuleSet } from './rules.ts';
import { assessSafety } from './safety.ts';
import type { SafetyCheck, SafetyWarning, TherapyPatientFacts } from './safety.ts';
import type { CreatinineClearance } from './renal.ts';

export type Allocation = 'active' | 'placebo';

export interface PlanTherapyInput {
  className: ImmuneClassName;
  /** First dose, ISO 8601 with zone. */
  start: IsoDateTime;
  patient: TherapyPatientFacts;
  /** Trial allocation; 'active' (default) for open treatment. */
  allocation?: Allocation;
  ruleSet?: TherapyRuleSet;
}

export interface DoseComponent {
  route: Route;
  volumeMl: number;
  /** "anakinra 200 mg" or the placebo label (saline). */
  contents: string;
  active: boolean;
}

export interface Administration {
  /** 1-based dose number. */
  number: number;
  time: IsoDateTime;
  hoursFromStart: number;
  studyDay: number;
  iv: DoseComponent;
  sc: DoseComponent;
}

export interface Visit {
  day: number;
  /** The study day's period [windowStart, windowEnd). */
  windowStart: IsoDateTime;
  windowEnd: IsoDateTime;
  assessments: string[];
}

export interface TherapyPlan {
  ruleSet: { id: string; version: string; citation: string };
  className: TargetedClass;
  allocation: Allocation;
  regimen: Regimen;
  start: IsoDateTime;
  /** End of the treatment period (exclusive): start + duration. */
  end: IsoDateTime;
  doseCount: number;
  doseCountRule: string;
  studyDayConvention: string;
  /** Which component carries the active drug; 'none' in the placebo arm. */
  activeComponent: Route | 'none';
  administrations: Administration[];
  visits: Visit[];
  visitsNote?: string;
  safety: { checks: SafetyCheck[]; warnings: SafetyWarning[]; creatinineClearance?: CreatinineClearance };
  /** Always false: safety findings never change the planned dose. */
  doseAdjusted: false;
  explanation: string[];
}

export interface BlindedComponent {
  route: Route;
  volumeMl: number;
  label: string;
}

export interface BlindedAdministration {
  number: number;
  time: IsoDateTime;
  studyDay: number;
  iv: BlindedComponent;
  sc: BlindedComponent;
}

/**
 * What the ward sees: the schedule of blinded kits, visits and safety warnings. Built field by
 * field from the plan (never by copying and deleting) so that no arm information can leak in;
 * the stratum (immune class) is not arm information - investigators know it.
 */
export interface BlindedKitView {
  ruleSet: { id: string; version: string };
  stratum: TargetedClass;
  start: IsoDateTime;
  end: IsoDateTime;
  administrationCount: number;
  administrations: BlindedAdministration[];
  visits: Visit[];
  safetyWarnings: SafetyWarning[];
  note: string;
}

export type PlanError =
  | { kind: 'no-targeted-therapy'; className: ImmuneClassName; message: string }
  | { kind: 'invalid-start'; start: string; message: string }
  | { kind: 'invalid-patient-fact'; field: string; value: unknown; message: string };

/**
 * Number of doses: every dose due at start + (k - 1) x interval inside the half-open period
 * [start, start + duration). Hence ceil(duration / interval) - see the rule set's doseCountRule.
 */
export function doseCount(regimen: Pick<Regimen, 'intervalHours' | 'durationDays'>): number {
  return Math.ceil((regimen.durationDays * 24) / regimen.intervalHours);
}

const NUMERIC_FACTS = [
  'ageYears',
  'weightKg',
  'serumCreatinineMgPerDl',
  'plateletsThousandPerUl',
  'absoluteNeutrophilCountPerMm3',
  'haemoglobinGPerDl',
] as const;

function validateFacts(facts: TherapyPatientFacts): PlanError | null {
  for (const field of NUMERIC_FACTS) {
    const v = facts[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      return { kind: 'invalid-patient-fact', field, value: v, message: `${field} must be a finite number >= 0 (got ${String(v)})` };
    }
  }
  if (facts.sex !== undefined && facts.sex !== null && facts.sex !== 'female' && facts.sex !== 'male') {
    return { kind: 'invalid-patient-fact', field: 'sex', value: facts.sex, message: `sex must be 'female' or 'male' (got ${String(facts.sex)})` };
  }
  return null;
}

function studyDayOf(hoursFromStart: number): number {
  return Math.floor(hoursFromStart / 24) + 1;
}

export function planTherapy(input: PlanTherapyInput): Result<TherapyPlan, PlanError> {
  const rules = input.ruleSet ?? IMMUNOSEP_THERAPY_RULES;
  const allocation = input.allocation ?? 'active';
  const regimen = regimenInRuleSet(input.className, rules);
  if (regimen === null) {
    return err({
      kind: 'no-targeted-therapy',
      className: input.className,
      message: `no targeted therapy for immune class '${input.className}' (rule set ${rules.id} ${rules.version}: only MALS and immunoparalysis are treated)`,
    });
  }
  const className = input.className as TargetedClass;
  const startMs = parseInstant(input.start);
  if (startMs === null) {
    return err({ kind: 'invalid-start', start: input.start, message: `start '${input.start}' is not an ISO 8601 instant with a time zone` });
  }
  const factError = validateFacts(input.patient);
  if (factError) return err(factError);

  const dd = rules.doubleDummy;
  const activeContents = `${regimen.drug} ${regimen.doseAmount} ${regimen.doseUnit}`;
  const component = (route: Route): DoseComponent => {
    const active = allocation === 'active' && route === regimen.route;
    return {
      route,
      volumeMl: route === 'IV' ? dd.ivInfusionVolumeMl : dd.scInjectionVolumeMl,
      contents: active ? activeContents : dd.placeboLabel,
      active,
    };
  };

  const count = doseCount(regimen);
  const administrations: Administration[] = [];
  for (let k = 1; k <= count; k++) {
    const hoursFromStart = (k - 1) * regimen.intervalHours;
    administrations.push({
      number: k,
      time: formatInstant(startMs + hoursFromStart * HOUR_MS),
      hoursFromStart,
      studyDay: studyDayOf(hoursFromStart),
      iv: component('IV'),
      sc: component('SC'),
    });
  }

  const visits: Visit[] = rules.visits.schedule.map((v) => ({
    day: v.day,
    windowStart: formatInstant(startMs + (v.day - 1) * DAY_MS),
    windowEnd: formatInstant(startMs + v.day * DAY_MS),
    assessments: [...v.assessments],
  }));

  const safety = assessSafety(regimen, input.patient, rules);
  const last = administrations[administrations.length - 1];
  const activeComponent = allocation === 'active' ? regimen.route : 'none';
  const flagged = safety.checks.filter((c) => c.status === 'flagged').length;
  const notChecked = safety.checks.filter((c) => c.status === 'not-checked').length;

  const explanation = [
    `Immune class ${className} -> ${regimen.description} (rule set ${rules.id} ${rules.version}).`,
    `${count} doses = ceil(${regimen.durationDays} days x 24 h / ${regimen.intervalHours} h): first ${administrations[0]?.time}, last ${last?.time} (study day ${last?.studyDay}); treatment period ends ${formatInstant(startMs + regimen.durationDays * DAY_MS)} (exclusive).`,
    allocation === 'active'
      ? `Double dummy: the ${regimen.route} component carries ${activeContents}; the ${regimen.route === 'IV' ? 'SC' : 'IV'} component is ${dd.placeboLabel}.`
      : `Double dummy, placebo arm: both the IV and the SC components are ${dd.placeboLabel}.`,
    `Safety: ${flagged} check(s) flagged, ${notChecked} not checked for missing inputs; the planned dose is never changed by a safety finding.`,
  ];

  return ok({
    ruleSet: { id: rules.id, version: rules.version, citation: rules.citation },
    className,
    allocation,
    regimen,
    start: formatInstant(startMs),
    end: formatInstant(startMs + regimen.durationDays * DAY_MS),
    doseCount: count,
    doseCountRule: rules.doseCountRule,
    studyDayConvention: rules.studyDayConvention,
    activeComponent,
    administrations,
    visits,
    ...(rules.visits.unconfirmed === undefined ? {} : { visitsNote: `(unconfirmed) ${rules.visits.unconfirmed}` }),
    safety,
    doseAdjusted: false,
    explanation,
  });
}

const BLINDED_IV_LABEL = 'blinded study infusion';
const BLINDED_SC_LABEL = 'blinded study injection';

/** The blinded kit view of a plan: the same for the active and the placebo arm. */
export function blindedKitView(plan: TherapyPlan): BlindedKitView {
  return {
    ruleSet: { id: plan.ruleSet.id, version: plan.ruleSet.version },
    stratum: plan.className,
    start: plan.start,
    end: plan.end,
    administrationCount: plan.administrations.length,
    administrations: plan.administrations.map((a) => ({
      number: a.number,
      time: a.time,
      studyDay: a.studyDay,
      iv: { route: 'IV', volumeMl: a.iv.volumeMl, label: BLINDED_IV_LABEL },
      sc: { route: 'SC', volumeMl: a.sc.volumeMl, label: BLINDED_SC_LABEL },
    })),
    visits: plan.visits.map((v) => ({ ...v, assessments: [...v.assessments] })),
    // Safety findings depend on the stratum's drug and the patient, never on the allocation.
    safetyWarnings: plan.safety.warnings.map((w) => structuredClone(w)),
    note: `Every administration is one IV infusion (${plan.administrations[0]?.iv.volumeMl} mL) and one SC injection (${plan.administrations[0]?.sc.volumeMl} mL) from the patient's kit; contents are blinded.`,
  };
}
