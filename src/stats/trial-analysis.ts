/**
 * The full endpoint analysis of a locked trial dataset, as the statistical analysis plan
 * reports it (CLINICAL.md section 5): endpoints derived per patient (src/clinical/endpoints.ts),
 * responder and event proportions per arm with risk difference (Newcombe), odds ratio (Woolf)
 * and Fisher P (analysis.ts), Kaplan-Meier curves, log-rank and Cox hazard ratio, per-stratum
 * subgroup results, the baseline table, SOFA trajectories and the CONSORT counts.
 *
 * Population: modified intention-to-treat, i.e. the randomised patients flagged `analysed`
 * (default true), analysed in the arm they were randomised to.
 *
 * analyseTrialBlinded computes the pooled counterpart from the blinded projection, which has
 * no arm: it cannot compare arms, and nothing it returns depends on the allocation.
 */
import {
  type EndpointDefinition,
  type EndpointSummary,
  endpointDeriver,
  scoredSofaSeries,
} from '../clinical/endpoints.ts';
import type { TargetedClass } from '../clinical/therapy.ts';
import { type Result, err, ok } from '../clinical/types.ts';
import type { ScreeningSummary } from '../trial/screening.ts';
import { type ProportionsComparison, type SurvivalComparison, compareProportions, compareSurvival } from './analysis.ts';
import { type Interval, wilsonInterval } from './proportions.ts';
import { type KaplanMeierCurve, kaplanMeier, medianSurvival, survivalAt } from './survival.ts';
import {
  type Arm,
  type BlindedTrialDataset,
  type BlindedTrialPatient,
  type DataProblem,
  STRATA,
  type TrialDataset,
  type TrialPatient,
} from './trial-data.ts';

/** Times at which numbers at risk are printed under the Kaplan-Meier plot (days). */
export const KM_TICKS_DAYS = [0, 15, 30, 45, 60, 75, 90];
/** Days of the SOFA trajectory plot. */
export const TRAJECTORY_DAYS = { firstDay: 1, lastDay: 15 };

// ---------------------------------------------------------------------------------------------
// Shared pieces (blinded and unblinded)
// ---------------------------------------------------------------------------------------------

/**
 * What the shared summaries need from a patient, never the arm: the few numbers the analysis
 * uses, taken from the derived endpoints, which are then let go (a 10,000-patient analysis
 * would otherwise keep about 60 objects per patient alive).
 */
interface PatientView {
  stratum: TargetedClass;
  site: string;
  baseline: TrialPatient['baseline'];
  deathDay: number | null;
  withdrawn: boolean;
  analysed: boolean;
  /** Day-1 (baseline) SOFA, null when missing. */
  baselineSofa: number | null;
  /** The binary endpoints in BINARY_ENDPOINTS order: 1 event, 0 no event, -1 not evaluable. */
  binary: number[];
  survival: { time: number; event: boolean };
  reversalTime: { time: number; event: boolean } | null;
  /** Endpoint-scored SOFA on TRAJECTORY_DAYS; -1 where no value can be given. */
  trajectory: number[];
}

export const BINARY_ENDPOINTS = [
  { id: 'responder-primary', label: 'SOFA responder, days 2-9 (primary)', primary: true },
  { id: 'responder-secondary', label: 'SOFA responder, days 2-15', primary: false },
  { id: 'mortality-28', label: 'death by day 28', primary: false },
  { id: 'mortality-90', label: 'death by day 90', primary: false },
  { id: 'reversal', label: 'reversal of immune dysfunction by day 15', primary: false },
  { id: 'infection-resolution', label: 'resolution of the index infection by day 15', primary: false },
] as const;
export type BinaryEndpointId = (typeof BINARY_ENDPOINTS)[number]['id'];

/** The patient's value of a binary endpoint: true (event), false, or null (not evaluable). */
function binaryValue(e: EndpointSummary, id: BinaryEndpointId, d: EndpointDefinition): boolean | null {
  switch (id) {
    case 'responder-primary':
    case 'responder-secondary': {
      const r = id === 'responder-primary' ? e.primaryResponder : e.secondaryResponder;
      return r === null && d.notEvaluable === 'non-responder' ? false : r;
    }
    case 'mortality-28':
    case 'mortality-90': {
      const index = d.mortalityDays.indexOf(id === 'mortality-28' ? 28 : 90);
      return index < 0 ? null : (e.died[index] ?? null);
    }
    case 'reversal':
      return e.reversed;
    case 'infection-resolution':
      return e.infectionResolved;
  }
}

export interface GroupCount {
  events: number;
  /** Patients with a value (the denominator). */
  n: number;
  /** Patients in the population without a value (excluded from n). */
  notEvaluable: number;
}

function binaryValues(e: EndpointSummary, d: EndpointDefinition): number[] {
  return BINARY_ENDPOINTS.map((endpoint) => {
    const v = binaryValue(e, endpoint.id, d);
    return v === null ? -1 : v ? 1 : 0;
  });
}

/** Counts of every binary endpoint (BINARY_ENDPOINTS order), overall and per stratum, in one pass. */
interface EndpointCounts {
  all: GroupCount[];
  byStratum: Record<TargetedClass, GroupCount[]>;
}

function emptyCounts(): GroupCount[] {
  return BINARY_ENDPOINTS.map(() => ({ events: 0, n: 0, notEvaluable: 0 }));
}

function countEndpoints(patients: readonly PatientView[]): EndpointCounts {
  const counts: EndpointCounts = { all: emptyCounts(), byStratum: { MALS: emptyCounts(), immunoparalysis: emptyCounts() } };
  for (const p of patients) {
    const stratum = counts.byStratum[p.stratum];
    for (let i = 0; i < BINARY_ENDPOINTS.length; i++) {
      const v = p.binary[i] as number;
      for (const c of [counts.all[i] as GroupCount, stratum[i] as GroupCount]) {
        if (v < 0) c.notEvaluable++;
        else {
          c.n++;
          c.events += v;
        }
      }
    }
  }
  return counts;
}

// ----- baseline table -----

export interface BaselineCell {
  text: string;
  /** Patients with a value. */
  n: number;
}

export interface BaselineRow {
  label: string;
  /** Indented category row under a heading row (sex, stratum...). */
  level: 0 | 1;
  cells: BaselineCell[];
}

function quantile(sorted: Float64Array, q: number): number {
  // R's default (type 7).
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] as number;
  return a + (h - lo) * (b - a);
}

function meanSd(values: Float64Array): { mean: number; sd: number } {
  const n = values.length;
  let sum = 0;
  for (const x of values) sum += x;
  const mean = sum / n;
  let ss = 0;
  for (const x of values) ss += (x - mean) ** 2;
  return { mean, sd: n > 1 ? Math.sqrt(ss / (n - 1)) : Number.NaN };
}

function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'NA';
}

function numericCell(values: Array<number | null>, kind: 'mean-sd' | 'median-iqr', digits: number): BaselineCell {
  // A typed array sorts numerically in native code.
  const present = Float64Array.from(values.filter((v): v is number => v !== null)).sort();
  if (present.length === 0) return { text: '-', n: 0 };
  if (kind === 'mean-sd') {
    const { mean, sd } = meanSd(present);
    return { text: `${fixed(mean, digits)} (${fixed(sd, digits)})`, n: present.length };
  }
  return {
    text: `${fixed(quantile(present, 0.5), digits)} [${fixed(quantile(present, 0.25), digits)}-${fixed(quantile(present, 0.75), digits)}]`,
    n: present.length,
  };
}

function countCell(k: number, n: number): BaselineCell {
  return { text: n === 0 ? '-' : `${k} (${((100 * k) / n).toFixed(1)}%)`, n };
}

function sortedKeys(values: Iterable<string>): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The baseline characteristics table: one column per group (arms and total, or pooled only). */
export function baselineTable(groups: ReadonlyArray<readonly PatientView[]>): BaselineRow[] {
  const rows: BaselineRow[] = [];
  const numeric = (label: string, pick: (p: PatientView) => number | null, kind: 'mean-sd' | 'median-iqr', digits: number) =>
    rows.push({ label, level: 0, cells: groups.map((g) => numericCell(g.map(pick), kind, digits)) });
  const categorical = (label: string, pick: (p: PatientView) => string | null) => {
    // One pass per group: patients with a value, and per category.
    const tallies = groups.map((g) => {
      const byCategory = new Map<string, number>();
      let known = 0;
      for (const p of g) {
        const v = pick(p);
        if (v === null) continue;
        known++;
        byCategory.set(v, (byCategory.get(v) ?? 0) + 1);
      }
      return { known, byCategory };
    });
    const categories = sortedKeys(tallies.flatMap((t) => [...t.byCategory.keys()]));
    rows.push({ label, level: 0, cells: tallies.map((t) => ({ text: '', n: t.known })) });
    for (const category of categories) {
      rows.push({ label: category, level: 1, cells: tallies.map((t) => countCell(t.byCategory.get(category) ?? 0, t.known)) });
    }
  };
  rows.push({ label: 'patients', level: 0, cells: groups.map((g) => ({ text: String(g.length), n: g.length })) });
  numeric('age, years, mean (SD)', (p) => p.baseline.ageYears, 'mean-sd', 1);
  categorical('sex', (p) => p.baseline.sex);
  categorical('biomarker stratum', (p) => p.stratum);
  numeric('SOFA on day 1, mean (SD)', (p) => p.baselineSofa, 'mean-sd', 1);
  categorical('index infection', (p) => p.baseline.infection);
  numeric('ferritin, ng/mL, median [IQR]', (p) => p.baseline.ferritinNgPerMl, 'median-iqr', 0);
  numeric('mHLA-DR, molecules/monocyte, median [IQR]', (p) => p.baseline.hlaDrMoleculesPerMonocyte, 'median-iqr', 0);
  categorical('site', (p) => p.site);
  return rows;
}

// ----- SOFA trajectories -----

export interface TrajectoryPoint {
  day: number;
  /** Patients with a scored value that day (observed, carried forward or death-scored). */
  n: number;
  mean: number | null;
  /** mean -+ 1.96 SD / sqrt(n) (normal approximation). */
  ci95: Interval | null;
}

/**
 * One patient's endpoint-scored SOFA on TRAJECTORY_DAYS (-1 where nothing can be given): the
 * days the derivation scored already when they cover the range (the ImmunoSep definitions: day
 * 1 to 15), else scored again.
 */
function trajectoryOf(e: EndpointSummary, sofa: TrialPatient['sofa'], deathDay: number | null, d: EndpointDefinition): number[] {
  const { firstDay, lastDay } = TRAJECTORY_DAYS;
  const scored = e.scoredDays;
  const offset = firstDay - scored.firstDay;
  if (offset >= 0 && lastDay - scored.firstDay < scored.values.length) return scored.values.slice(offset, offset + lastDay - firstDay + 1);
  return scoredSofaSeries(sofa, deathDay, TRAJECTORY_DAYS, d).map((v) => (v === null ? -1 : v.value));
}

/** Mean daily SOFA as the endpoint scores it (death = 24 after death, LOCF), days 1-15. */
export function sofaTrajectory(patients: readonly PatientView[]): TrajectoryPoint[] {
  const { firstDay, lastDay } = TRAJECTORY_DAYS;
  const length = lastDay - firstDay + 1;
  const sums = new Float64Array(length);
  const squares = new Float64Array(length);
  const counts = new Float64Array(length);
  for (const p of patients) {
    for (let i = 0; i < length; i++) {
      const v = p.trajectory[i] as number;
      if (v < 0) continue;
      sums[i] = (sums[i] as number) + v;
      squares[i] = (squares[i] as number) + v * v;
      counts[i] = (counts[i] as number) + 1;
    }
  }
  return Array.from(counts, (n, i) => {
    const day = firstDay + i;
    if (n === 0) return { day, n, mean: null, ci95: null };
    const mean = (sums[i] as number) / n;
    const variance = n > 1 ? Math.max(0, ((squares[i] as number) - n * mean * mean) / (n - 1)) : 0;
    const half = (1.959963984540054 * Math.sqrt(variance)) / Math.sqrt(n);
    return { day, n, mean, ci95: n > 1 ? ([mean - half, mean + half] as Interval) : null };
  });
}

// ----- Kaplan-Meier curves for plots -----

export interface KmPlotData {
  /** Step points: the curve after each distinct time (starts at time 0, survival 1). */
  steps: Array<{ time: number; survival: number; lower: number | null; upper: number | null }>;
  /** Censoring times (tick marks). */
  censored: number[];
  atRisk: Array<{ time: number; atRisk: number }>;
  n: number;
  events: number;
  median: number | null;
}

function kmPlotData(times: number[], events: boolean[], ticks: readonly number[]): KmPlotData {
  const curve: KaplanMeierCurve = kaplanMeier({ time: times, event: events });
  return {
    steps: [{ time: 0, survival: 1, lower: 1, upper: 1 }, ...curve.rows.map((r) => ({ time: r.time, survival: r.survival, lower: r.lower, upper: r.upper }))],
    censored: curve.rows.filter((r) => r.censored > 0).map((r) => r.time),
    atRisk: survivalAt(curve, ticks).map((r) => ({ time: r.time, atRisk: r.atRisk })),
    n: curve.n,
    events: curve.events,
    median: medianSurvival(curve).median,
  };
}

// ----- CONSORT counts -----

export interface ConsortGroup {
  /** Stratum, and the arm label in an unblinded report (absent in a blinded one). */
  stratum: TargetedClass;
  armLabel?: string;
  allocated: number;
  withdrawn: number;
  /** Alive at the last contact before day 90 and not withdrawn. */
  lostToFollowUp: number;
  analysed: number;
  /** Allocated but not in the analysed (mITT) population. */
  excludedFromAnalysis: number;
}

export interface ConsortData {
  screening: ScreeningSummary | null;
  randomised: number;
  groups: ConsortGroup[];
  /** Inconsistencies between the screening log and the patient records, shown on the diagram. */
  notes: string[];
}

function consortGroup(stratum: TargetedClass, patients: readonly PatientView[], horizon: number, armLabel?: string): ConsortGroup {
  const lost = patients.filter((p) => !p.withdrawn && p.deathDay === null && p.survival.time < horizon).length;
  return {
    stratum,
    ...(armLabel === undefined ? {} : { armLabel }),
    allocated: patients.length,
    withdrawn: patients.filter((p) => p.withdrawn).length,
    lostToFollowUp: lost,
    analysed: patients.filter((p) => p.analysed).length,
    excludedFromAnalysis: patients.filter((p) => !p.analysed).length,
  };
}

function consortNotes(screening: ScreeningSummary | null, randomised: number, withdrawn: number): string[] {
  if (screening === null) return ['no screening log summary in the dataset: screening boxes are not shown'];
  const notes: string[] = [];
  if (screening.randomised !== randomised) notes.push(`the screening log counts ${screening.randomised} randomised, the dataset has ${randomised} patients`);
  if (screening.withdrawn !== withdrawn) notes.push(`the screening log counts ${screening.withdrawn} withdrawn, the dataset ${withdrawn}`);
  return notes;
}

// ----- per-patient derivation -----

export interface AnalysisProblem extends DataProblem {
  patientId?: string;
}

/** Derives every patient's endpoints into a compact view; every problem names its patient. */
function deriveViews<P extends BlindedTrialPatient | TrialPatient>(
  patients: readonly P[],
  d: EndpointDefinition,
  describe: (p: P, i: number) => { path: string; patientId?: string },
): Result<PatientView[], AnalysisProblem[]> {
  const problems: AnalysisProblem[] = [];
  const out: PatientView[] = [];
  const deriver = endpointDeriver(d);
  patients.forEach((p, i) => {
    const r = deriver.summarise({ sofa: p.sofa, deathDay: p.deathDay, lastAliveDay: p.lastAliveDay, reversal: p.reversal, infectionResolved: p.infectionResolved });
    if (r.ok) out.push(view(p, r.value, d));
    else {
      const where = describe(p, i);
      for (const problem of r.error) problems.push({ ...where, path: `${where.path}.${problem.field}`, message: problem.message });
    }
  });
  return problems.length > 0 ? err(problems) : ok(out);
}

function view(p: BlindedTrialPatient | TrialPatient, e: EndpointSummary, d: EndpointDefinition): PatientView {
  return {
    stratum: p.stratum,
    site: p.site,
    baseline: p.baseline,
    deathDay: p.deathDay,
    withdrawn: p.withdrawn,
    analysed: p.analysed,
    baselineSofa: e.baselineSofa,
    binary: binaryValues(e, d),
    survival: e.survival,
    reversalTime: e.timeToReversal,
    trajectory: trajectoryOf(e, p.sofa, p.deathDay, d),
  };
}

// ---------------------------------------------------------------------------------------------
// Unblinded analysis
// ---------------------------------------------------------------------------------------------

export interface BinaryEndpointResult {
  id: BinaryEndpointId;
  label: string;
  primary: boolean;
  active: GroupCount;
  placebo: GroupCount;
  /** Active vs placebo; null when an arm has no evaluable patient. */
  comparison: ProportionsComparison | null;
}

export interface SubgroupResult {
  /** "all" or a stratum. */
  subgroup: 'all' | TargetedClass;
  endpoint: BinaryEndpointId;
  active: GroupCount;
  placebo: GroupCount;
  comparison: ProportionsComparison | null;
}

export interface TrialAnalysis {
  blinded: false;
  trial: TrialDataset['trial'];
  definition: EndpointDefinition;
  population: {
    randomised: Record<Arm, number>;
    analysed: Record<Arm, number>;
    byStratum: Record<TargetedClass, { randomised: Record<Arm, number>; analysed: Record<Arm, number> }>;
  };
  baseline: { columns: string[]; rows: BaselineRow[] };
  binary: BinaryEndpointResult[];
  /** Time to death up to day 90: hazard ratio active vs placebo (placebo is the reference). */
  survival: { comparison: SurvivalComparison | null; note: string | null; curves: Record<Arm, KmPlotData> };
  /** Time to reversal (patients with a reversal assessment). */
  reversalTime: { comparison: SurvivalComparison | null; note: string | null };
  subgroups: SubgroupResult[];
  trajectories: Record<Arm, TrajectoryPoint[]>;
  consort: ConsortData;
}

function compareCounts(active: GroupCount, placebo: GroupCount): ProportionsComparison | null {
  if (active.n === 0 || placebo.n === 0) return null;
  const r = compareProportions({ events: active.events, n: active.n }, { events: placebo.events, n: placebo.n });
  return r.ok ? r.value : null;
}

function survivalComparison(
  records: Array<{ time: number; event: boolean; group: Arm }>,
): { comparison: SurvivalComparison | null; note: string | null } {
  if (records.length === 0) return { comparison: null, note: 'no patients' };
  const r = compareSurvival(records, { reference: 'placebo', at: KM_TICKS_DAYS });
  if (!r.ok) return { comparison: null, note: r.error.message };
  return { comparison: r.value, note: null };
}

/** The unblinded analysis: for the statistician and unblinded roles only. */
export function analyseTrial(data: TrialDataset): Result<TrialAnalysis, AnalysisProblem[]> {
  const d = data.endpointDefinition;
  const derived = deriveViews(data.patients, d, (p, i) => ({ path: `patients[${i}]`, patientId: p.id }));
  if (!derived.ok) return err(derived.error);
  const all = data.patients.map((p, i) => ({ arm: p.arm, view: derived.value[i] as PatientView }));
  const analysed = all.filter((p) => p.view.analysed);
  // Every patient in its arm, randomised and analysed, in one pass.
  const randomisedBy: Record<Arm, PatientView[]> = { active: [], placebo: [] };
  const analysedBy: Record<Arm, PatientView[]> = { active: [], placebo: [] };
  for (const p of all) {
    randomisedBy[p.arm].push(p.view);
    if (p.view.analysed) analysedBy[p.arm].push(p.view);
  }
  const active = analysedBy.active;
  const placebo = analysedBy.placebo;
  const inStratum = (list: readonly PatientView[], s: TargetedClass) => list.filter((p) => p.stratum === s);

  const population = {
    randomised: { active: randomisedBy.active.length, placebo: randomisedBy.placebo.length },
    analysed: { active: active.length, placebo: placebo.length },
    byStratum: Object.fromEntries(
      STRATA.map((s) => [
        s,
        {
          randomised: { active: inStratum(randomisedBy.active, s).length, placebo: inStratum(randomisedBy.placebo, s).length },
          analysed: { active: inStratum(active, s).length, placebo: inStratum(placebo, s).length },
        },
      ]),
    ) as TrialAnalysis['population']['byStratum'],
  };

  const countsActive = countEndpoints(active);
  const countsPlacebo = countEndpoints(placebo);
  const binary = BINARY_ENDPOINTS.map((e, i): BinaryEndpointResult => {
    const a = countsActive.all[i] as GroupCount;
    const p = countsPlacebo.all[i] as GroupCount;
    return { id: e.id, label: e.label, primary: e.primary, active: a, placebo: p, comparison: compareCounts(a, p) };
  });

  const subgroups: SubgroupResult[] = [];
  BINARY_ENDPOINTS.forEach((e, i) => {
    for (const subgroup of ['all', ...STRATA] as const) {
      const a = (subgroup === 'all' ? countsActive.all : countsActive.byStratum[subgroup])[i] as GroupCount;
      const p = (subgroup === 'all' ? countsPlacebo.all : countsPlacebo.byStratum[subgroup])[i] as GroupCount;
      subgroups.push({ subgroup, endpoint: e.id, active: a, placebo: p, comparison: subgroup === 'all' ? (binary[i]?.comparison ?? null) : compareCounts(a, p) });
    }
  });

  const deathRecords = analysed.map((p) => ({ time: p.view.survival.time, event: p.view.survival.event, group: p.arm }));
  const curve = (arm: Arm) => {
    const r = deathRecords.filter((x) => x.group === arm);
    return kmPlotData(
      r.map((x) => x.time),
      r.map((x) => x.event),
      KM_TICKS_DAYS,
    );
  };
  const reversalRecords = analysed.flatMap((p) => {
    const t = p.view.reversalTime;
    return t === null ? [] : [{ time: t.time, event: t.event, group: p.arm }];
  });

  const withdrawn = all.filter((p) => p.view.withdrawn).length;
  const groups: ConsortGroup[] = [];
  for (const s of STRATA) {
    for (const arm of ['active', 'placebo'] as const) {
      groups.push(consortGroup(s, inStratum(randomisedBy[arm], s), Math.max(...d.mortalityDays), data.trial.armLabels[arm]));
    }
  }

  return ok({
    blinded: false,
    trial: data.trial,
    definition: d,
    population,
    baseline: { columns: [data.trial.armLabels.active, data.trial.armLabels.placebo, 'total'], rows: baselineTable([active, placebo, [...active, ...placebo]]) },
    binary,
    survival: { ...survivalComparison(deathRecords), curves: { active: curve('active'), placebo: curve('placebo') } },
    reversalTime: survivalComparison(reversalRecords),
    subgroups,
    trajectories: { active: sofaTrajectory(active), placebo: sofaTrajectory(placebo) },
    consort: { screening: data.screening, randomised: all.length, groups, notes: consortNotes(data.screening, all.length, withdrawn) },
  });
}

// ---------------------------------------------------------------------------------------------
// Blinded (pooled) analysis
// ---------------------------------------------------------------------------------------------

export interface PooledProportion {
  id: BinaryEndpointId;
  label: string;
  primary: boolean;
  count: GroupCount;
  proportion: number | null;
  ci95: Interval | null;
}

export interface BlindedTrialAnalysis {
  blinded: true;
  trial: BlindedTrialDataset['trial'];
  definition: EndpointDefinition;
  population: { randomised: number; analysed: number; byStratum: Record<TargetedClass, { randomised: number; analysed: number }> };
  baseline: { columns: string[]; rows: BaselineRow[] };
  binary: PooledProportion[];
  /** Pooled by stratum as well (strata are not arms). */
  byStratum: Array<{ stratum: TargetedClass; endpoint: BinaryEndpointId; count: GroupCount }>;
  survival: KmPlotData;
  trajectory: TrajectoryPoint[];
  consort: ConsortData;
}

function pooled(count: GroupCount): { proportion: number | null; ci95: Interval | null } {
  return count.n === 0 ? { proportion: null, ci95: null } : { proportion: count.events / count.n, ci95: wilsonInterval({ events: count.events, n: count.n }) };
}

/** The blinded pooled analysis: from the arm-free projection only. */
export function analyseTrialBlinded(data: BlindedTrialDataset): Result<BlindedTrialAnalysis, AnalysisProblem[]> {
  const d = data.endpointDefinition;
  const derived = deriveViews(data.patients, d, (_p, i) => ({ path: `patients (blinded order) [${i}]` }));
  if (!derived.ok) return err(derived.error);
  const all = derived.value;
  const analysed = all.filter((p) => p.analysed);
  const withdrawn = all.filter((p) => p.withdrawn).length;
  const horizon = Math.max(...d.mortalityDays);
  const counts = countEndpoints(analysed);
  return ok({
    blinded: true,
    trial: data.trial,
    definition: d,
    population: {
      randomised: all.length,
      analysed: analysed.length,
      byStratum: Object.fromEntries(
        STRATA.map((s) => [s, { randomised: all.filter((p) => p.stratum === s).length, analysed: analysed.filter((p) => p.stratum === s).length }]),
      ) as BlindedTrialAnalysis['population']['byStratum'],
    },
    baseline: { columns: ['all patients'], rows: baselineTable([analysed]) },
    binary: BINARY_ENDPOINTS.map((e, i) => {
      const count = counts.all[i] as GroupCount;
      return { id: e.id, label: e.label, primary: e.primary, count, ...pooled(count) };
    }),
    byStratum: STRATA.flatMap((s) => BINARY_ENDPOINTS.map((e, i) => ({ stratum: s, endpoint: e.id, count: counts.byStratum[s][i] as GroupCount }))),
    survival: kmPlotData(
      analysed.map((p) => p.survival.time),
      analysed.map((p) => p.survival.event),
      KM_TICKS_DAYS,
    ),
    trajectory: sofaTrajectory(analysed),
    consort: {
      screening: data.screening,
      randomised: all.length,
      groups: STRATA.map((s) => consortGroup(s, all.filter((p) => p.stratum === s), horizon)),
      notes: consortNotes(data.screening, all.length, withdrawn),
    },
  });
}
