/**
 * Shapes of the API answers the app reads (src/server/api/*.ts and src/clinical/*.ts are the
 * authority; the web app talks HTTP only, so the fields it uses are restated here). Fields the
 * app does not use are left out; optional ones are read defensively.
 */

export interface Patient {
  id: string;
  siteId: string;
  birthDate: string | null;
  sex: string | null;
  deceasedAt: string | null;
}

export interface MeasurementRow {
  id: number;
  patientId: string;
  concept: string;
  value: number;
  unit: string;
  effectiveStart: string;
  effectiveEnd?: string | null;
  source: string;
  recordId: string;
  originalValue?: string | null;
  originalUnit?: string | null;
}

export interface RuleSetRef {
  id: string;
  version: string;
}

// --- GET /api/census -----------------------------------------------------------------------

export interface CensusWarning {
  code: string;
  severity: string;
  message: string;
}

export interface CensusRow {
  patientId: string;
  siteId: string;
  ageYears: number | null;
  sex: string | null;
  deceased: boolean;
  immuneClass: string;
  classSummary: string;
  ruleSet: RuleSetRef;
  evidenceAgeHours: number | null;
  sofaToday: number | null;
  sofaMissing: string[];
  /** Totals of the last 7 SOFA days, oldest first (null: no SOFA that day). */
  sofaTrend: Array<number | null>;
  sepsis3: boolean | null;
  eligibility: 'eligible' | 'not-eligible' | 'incomplete' | null;
  therapy: { drug: string; description: string } | null;
  warnings: CensusWarning[];
  dataGaps: string[];
  /** The latest measurement at or before the census time; null: none. */
  lastDataAt: string | null;
  /** In the ICU now as the server infers it (alive, data within currentWindowHours): a display filter. */
  current: boolean;
}

export interface CensusResponse {
  at: string;
  /** How recent a row's last data must be for it to count as current (hours). */
  currentWindowHours: number;
  rows: CensusRow[];
}

// --- GET /api/patients/:id/assessment ------------------------------------------------------

export interface InputEvidence {
  concept: string;
  value: number;
  unit: string;
  time: string;
  ageHours: number;
  reported: { value: number; unit: string };
  provenance?: { source: string; recordId: string };
}

export interface Comparison {
  rule: string;
  input: string;
  value: number;
  unit: string;
  time?: string;
  operator: string;
  threshold: number;
  thresholdUnit: string;
  result: boolean;
  text: string;
}

export interface StaleInput {
  concept: string;
  time: string;
  ageHours: number;
  windowHours: number;
  value: number;
  unit: string;
}

export interface RejectedInput {
  concept: string;
  time: string;
  value: number;
  unit: string;
  reason: string;
  message: string;
}

export interface Classification {
  class: string;
  ruleSet: RuleSetRef;
  evaluatedAt: string;
  evidence: { inputs: InputEvidence[]; comparisons: Comparison[]; score?: { name: string; items: Array<{ item: string; points: number | null; text: string }> } };
  rejected: RejectedInput[];
  summary: string;
  missing?: string[];
  stale?: StaleInput[];
  possible?: string[];
}

export type SofaComponent = 'respiration' | 'coagulation' | 'liver' | 'cardiovascular' | 'cns' | 'renal';

export interface SofaDay {
  day: number;
  start: string;
  end: string;
  total: number;
  components: Record<SofaComponent, number | null>;
  missing: string[];
}

export interface Sepsis3 {
  ruleSet: RuleSetRef;
  met: boolean;
  onsetTime: string | null;
  baseline?: { value: number; assumed: boolean; source: string };
  septicShock?: { met?: boolean | null; explanation?: string[] } & Record<string, unknown>;
  explanation: string[];
}

export interface CriterionResult {
  id: string;
  text: string;
  kind: string;
  evaluatedBy: 'automatic' | 'site';
  status: 'met' | 'not-met' | 'unknown';
  passes: boolean | null;
  reason: string;
  evidence: Array<{ name: string; value: number | string | boolean | null; unit?: string }>;
  citation: string;
  unconfirmed?: string;
  deadline?: string;
}

export interface Eligibility {
  criteriaSet: RuleSetRef;
  at: string;
  status: 'eligible' | 'not-eligible' | 'incomplete';
  failing: string[];
  unknown: string[];
  mustStartTreatmentBy?: string;
  results: CriterionResult[];
  explanation: string;
}

export interface Regimen {
  drug: string;
  drugLabel: string;
  doseAmount: number;
  doseUnit: string;
  route: string;
  intervalHours: number;
  durationDays: number;
  description: string;
  citation: string;
}

export interface SafetyWarning {
  code: string;
  severity: 'warning' | 'advisory' | 'not-checked';
  check: string;
  drug: string;
  message: string;
  consider?: string;
  missing?: string[];
  citation: string;
  unconfirmed?: string;
}

export interface SafetyCheck {
  check: string;
  drug: string;
  status: 'flagged' | 'clear' | 'not-checked';
  summary: string;
}

export interface Assessment {
  patientId: string;
  at: string;
  classification: Classification;
  evidenceAgeHours: number | null;
  sofa: { today: SofaDay | null; days: SofaDay[] };
  sepsis3: Sepsis3 | null;
  eligibility: Eligibility | null;
  therapy: { regimen: Regimen; safety: { checks: SafetyCheck[]; warnings: SafetyWarning[] } } | null;
  dataGaps: string[];
}

export interface AssessmentResponse {
  patient: Patient;
  assessment: Assessment;
}

// --- GET /api/patients/:id/therapy-plan ----------------------------------------------------

export interface DoseComponent {
  route: string;
  volumeMl: number;
  contents: string;
  active: boolean;
}

export interface Administration {
  number: number;
  time: string;
  hoursFromStart: number;
  studyDay: number;
  iv: DoseComponent;
  sc: DoseComponent;
}

export interface Visit {
  day: number;
  windowStart: string;
  windowEnd: string;
  assessments: string[];
}

export interface TherapyPlan {
  ruleSet: { id: string; version: string; citation: string };
  className: string;
  allocation: string;
  regimen: Regimen;
  start: string;
  end: string;
  doseCount: number;
  doseCountRule: string;
  studyDayConvention?: string;
  activeComponent: string;
  administrations: Administration[];
  visits: Visit[];
  visitsNote?: string;
  safety: { checks: SafetyCheck[]; warnings: SafetyWarning[] };
  doseAdjusted: false;
  explanation: string[];
}

export interface TherapyPlanResponse {
  classification: Classification;
  plan: TherapyPlan;
}

// --- GET /api/rule-sets --------------------------------------------------------------------

export interface SourceRef {
  citation: string;
  locator: string;
}

export interface RuleThreshold {
  id: string;
  input: string;
  label: string;
  operator: string;
  value: number;
  unit: string;
  displayUnit: string;
  meaning: string;
  source: SourceRef;
}

export interface RuleSetDoc {
  kind: string;
  id: string;
  version: string;
  title: string;
  summary: string;
  citations: string[];
  validityWindow: { hours: number; source: SourceRef };
  notes: string[];
  [field: string]: unknown;
}

export interface Citation {
  id: string;
  short: string;
  text: string;
  doi?: string;
  registry?: string[];
}

export interface RuleSetsResponse {
  default: RuleSetRef;
  ruleSets: RuleSetDoc[];
  citations: Citation[];
}

function isThreshold(value: unknown): value is RuleThreshold {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === 'string' && typeof v.operator === 'string' && typeof v.value === 'number' && typeof v.source === 'object';
}

/** Every threshold in a rule set, wherever its kind keeps them (thresholds, reversal, marker...). */
export function thresholdsOf(ruleSet: RuleSetDoc): RuleThreshold[] {
  const found: RuleThreshold[] = [];
  const walk = (value: unknown, depth: number) => {
    if (depth > 4 || !value || typeof value !== 'object') return;
    if (isThreshold(value)) {
      found.push(value);
      return;
    }
    for (const child of Array.isArray(value) ? value : Object.values(value)) walk(child, depth + 1);
  };
  walk(ruleSet, 0);
  return found;
}

// --- trial desk (src/server/api/trial.ts) ------------------------------------------------------

export interface TrialSummary {
  id: string;
  title: string;
  version: string;
  sofaPreset?: string;
  createdAt: string;
}

export interface KitComponent {
  route: string;
  volumeMl: number;
  contents: string;
  active: boolean;
}

/** What every blinded role sees: no field can hold an arm. */
export interface BlindedAllocation {
  view: 'blinded';
  trialId: string;
  patientId: string;
  siteId: string;
  immuneClass: string;
  stratumKey: string;
  kitNumber: string;
  randomisedAt: string;
  randomisedBy: string;
  unblinded: boolean;
  withdrawn: boolean;
}

/** The pharmacist's view (and the emergency-unblinding answer). */
export interface UnblindedAllocation extends Omit<BlindedAllocation, 'view'> {
  view: 'unblinded';
  arm: { id: string; label: string; allocation: string };
  kitContents: { iv: KitComponent; sc: KitComponent };
}

export type AllocationRow = BlindedAllocation | UnblindedAllocation;

export interface ScreeningEntry {
  trialId: string;
  patientId: string;
  siteId: string;
  at: string;
  outcome: string;
  reasons: string[];
}

export type AuditVerification =
  | { ok: true; entries: number; head: { sequence?: number; hash?: string; [field: string]: unknown } }
  | { ok: false; entries: number; firstBadEntry: { kind?: string; message?: string; [field: string]: unknown } };

// --- analysis (src/stats/trial-analysis.ts) ------------------------------------------------------

export type Interval = [number, number];

export interface GroupCount {
  events: number;
  n: number;
  notEvaluable: number;
}

export interface ProportionsComparison {
  treated: { events: number; n: number; proportion: number; ci95: Interval };
  control: { events: number; n: number; proportion: number; ci95: Interval };
  riskDifference: { estimate: number; ci95: Interval; method: string };
  oddsRatio: { estimate: number | null; ci95: Interval | null; method: string; correction: string | null; note?: string };
  fisherP: number;
}

export interface KmPlotData {
  steps: Array<{ time: number; survival: number; lower: number | null; upper: number | null }>;
  censored: number[];
  atRisk: Array<{ time: number; atRisk: number }>;
  n: number;
  events: number;
  median: number | null;
}

export interface TrajectoryPoint {
  day: number;
  n: number;
  mean: number | null;
  ci95: Interval | null;
}

export interface SurvivalComparison {
  logRank: { chiSquare: number; df: number; p: number };
  cox: { hazardRatio: number | null; ci95: Interval | null; p: number | null; note?: string };
}

interface AnalysisBase {
  trial: { id: string; title: string; sofaPreset: string; armLabels?: { active: string; placebo: string } };
  definition: { id?: string; version?: string; [field: string]: unknown };
  baseline: { columns: string[]; rows: Array<{ label: string; cells: Array<{ text: string; n: number }> }> };
}

export interface UnblindedAnalysis extends AnalysisBase {
  blinded: false;
  population: { randomised: Record<'active' | 'placebo', number>; analysed: Record<'active' | 'placebo', number> };
  binary: Array<{ id: string; label: string; primary: boolean; active: GroupCount; placebo: GroupCount; comparison: ProportionsComparison | null }>;
  survival: { comparison: SurvivalComparison | null; note: string | null; curves: Record<'active' | 'placebo', KmPlotData> };
  subgroups: Array<{ subgroup: string; endpoint: string; active: GroupCount; placebo: GroupCount; comparison: ProportionsComparison | null }>;
  trajectories: Record<'active' | 'placebo', TrajectoryPoint[]>;
}

export interface BlindedAnalysis extends AnalysisBase {
  blinded: true;
  population: { randomised: number; analysed: number; byStratum: Record<string, { randomised: number; analysed: number }> };
  binary: Array<{ id: string; label: string; primary: boolean; count: GroupCount; proportion: number | null; ci95: Interval | null }>;
  byStratum: Array<{ stratum: string; endpoint: string; count: GroupCount }>;
  survival: KmPlotData;
  trajectory: TrajectoryPoint[];
}

export type TrialAnalysisView = UnblindedAnalysis | BlindedAnalysis;
