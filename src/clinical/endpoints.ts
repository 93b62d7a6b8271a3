/**
 * Per-patient endpoints of the ImmunoSep statistical analysis plan (shared/spec/CLINICAL.md
 * section 5), derived from a patient's daily total SOFA, death, immune reversal and infection
 * outcome. Pure: no clock, no I/O. Every result explains itself (which days were observed,
 * carried forward or scored as death) and names the endpoint definition id and version.
 *
 * Time axis: the study day. Day 1 is the calendar day blinded treatment starts (the SAP's
 * "day-1 SOFA" is the baseline); day d is the d-th calendar day of the study. Deaths, last
 * contacts and reversals are given as study days, and the time-to-event endpoints use the study
 * day as the event time (an event on day d has time d).
 *
 * The SOFA window rule, stated precisely (definition ENDPOINT_DEFINITIONS below):
 * - Days strictly after the day of death are scored `deathScore` (24), whatever was recorded.
 *   A SOFA value recorded after the day of death is contradictory data and an input error.
 * - The day of death itself keeps its observed value; when missing it is carried forward like
 *   any other day (definition option `deathDay: 'death-score'` scores it 24 instead).
 * - A missing day on or before the day of death (or with no death) takes the last OBSERVED value
 *   on an earlier day no earlier than the baseline day (last observation carried forward).
 *   Screening assessments before the baseline day (day 0) are never carried forward: the SAP's
 *   reference is day 1.
 * - So: day 2 missing with day 1 observed takes the day-1 value (a contribution of 0 to the
 *   change from baseline). Day 1 missing makes the change from baseline, and so the responder
 *   status, not evaluable ("day-1 SOFA missing"); the window mean is still computed when it
 *   can be. A window day with no observation at all before it (day 1 missing and every day up
 *   to it missing) cannot be filled: the mean is then not evaluable either.
 * - The mean is over all window days (8 for days 2-9, 14 for days 2-15), unrounded; the
 *   responder comparison is exact (see `compareChange`).
 */
import type { SourceRef } from './immune/citations.ts';
import type { ReversalAssessment } from './immune/reversal.ts';
import { parseInstant } from './instant.ts';
import { decimalRound, formatExact } from './numeric.ts';
import { type IsoDateTime, type Result, err, ok } from './types.ts';

// ---------------------------------------------------------------------------------------------
// Definition (versioned data)
// ---------------------------------------------------------------------------------------------

export type ResponderOperator = '>' | '>=';

/** Inclusive range of study days. */
export interface SofaWindow {
  firstDay: number;
  lastDay: number;
}

export interface EndpointDefinition {
  id: string;
  /** Semantic version: any change of a rule below is a new version. */
  version: string;
  title: string;
  /** Study day of the baseline SOFA (the SAP's "day-1 SOFA"). */
  baselineDay: number;
  /** Primary endpoint window (days 2-9) and the secondary window (days 2-15). */
  primaryWindow: SofaWindow;
  secondaryWindow: SofaWindow;
  /** The score given to days after death: the maximum total SOFA. */
  deathScore: number;
  /** How the day of death itself is scored when no value was recorded on it. */
  deathDay: 'observed-or-locf' | 'death-score';
  /** Responder when (baseline SOFA - window mean) `operator` `thresholdPoints`. */
  responder: { operator: ResponderOperator; thresholdPoints: number; source: SourceRef };
  /**
   * How a patient whose responder status is not evaluable enters the proportion: excluded from
   * numerator and denominator, or counted as a non-responder (missing = failure).
   */
  notEvaluable: 'exclude' | 'non-responder';
  /** All-cause mortality by these study days (28 and 90). */
  mortalityDays: readonly number[];
  /** Reversal of immune dysfunction by this study day, and the end of time-to-reversal follow-up. */
  reversalByDay: number;
  /** Resolution of the index infection by this study day. */
  infectionResolutionByDay: number;
  sources: readonly SourceRef[];
  /** Choices the public record does not settle; printed in every report that uses the definition. */
  unconfirmed: readonly string[];
}

export const SOFA_TOTAL_MAX = 24;

const SAP_SOURCE: SourceRef = {
  citation: 'clinical-spec',
  locator: 'section 5: statistical analysis plan, primary endpoint ("> 1.4")',
};
const PAPER_SOURCE: SourceRef = {
  citation: 'immunosep',
  locator: 'trial report, primary end point definition (">= 1.4")',
};

const COMMON_UNCONFIRMED = [
  'day-of-death scoring (unconfirmed): the SAP scores 24 for the days AFTER death; the day of death keeps its recorded value (carried forward when missing)',
  'not-evaluable responders (unconfirmed): patients whose change from day 1 cannot be computed (day-1 SOFA missing) are excluded from the responder proportions',
  'study days (unconfirmed): day 1 is the calendar day blinded treatment starts',
  'with whole-number daily SOFA totals the change from day 1 is a multiple of 1/8 (days 2-9) or 1/14 (days 2-15) and never equals 1.4, so "> 1.4" and ">= 1.4" classify every patient alike; they differ only for thresholds that are such multiples',
];

function definition(id: string, operator: ResponderOperator, source: SourceRef, title: string): EndpointDefinition {
  return {
    id,
    version: '1.0.0',
    title,
    baselineDay: 1,
    primaryWindow: { firstDay: 2, lastDay: 9 },
    secondaryWindow: { firstDay: 2, lastDay: 15 },
    deathScore: SOFA_TOTAL_MAX,
    deathDay: 'observed-or-locf',
    responder: { operator, thresholdPoints: 1.4, source },
    notEvaluable: 'exclude',
    mortalityDays: [28, 90],
    reversalByDay: 15,
    infectionResolutionByDay: 15,
    sources: [SAP_SOURCE, PAPER_SOURCE],
    unconfirmed: COMMON_UNCONFIRMED,
  };
}

/**
 * The shipped definitions: the SAP's strict "> 1.4" (default) and the trial report's ">= 1.4".
 * Other variants (threshold, operator, windows) are written as data in the trial file and
 * checked by validateEndpointDefinition.
 */
export const ENDPOINT_DEFINITIONS: Readonly<Record<string, EndpointDefinition>> = {
  'immunosep-sap': definition('immunosep-sap', '>', SAP_SOURCE, 'ImmunoSep endpoints, statistical analysis plan (responder: change > 1.4)'),
  'immunosep-paper': definition('immunosep-paper', '>=', PAPER_SOURCE, 'ImmunoSep endpoints as worded in the trial report (responder: change >= 1.4)'),
};
export const DEFAULT_ENDPOINT_DEFINITION = ENDPOINT_DEFINITIONS['immunosep-sap'] as EndpointDefinition;

export interface DefinitionProblem {
  path: string;
  message: string;
}

const isWholeDay = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x);

/** Checks a definition read from data (e.g. a trial file) before anything is derived with it. */
export function validateEndpointDefinition(d: EndpointDefinition): Result<EndpointDefinition, DefinitionProblem[]> {
  const problems: DefinitionProblem[] = [];
  const problem = (path: string, message: string) => problems.push({ path, message });
  if (typeof d !== 'object' || d === null) return err([{ path: '', message: 'must be an object' }]);
  if (typeof d.id !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(d.id)) problem('id', 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
  if (typeof d.version !== 'string' || d.version === '') problem('version', 'must be a non-empty string');
  if (typeof d.title !== 'string') problem('title', 'must be a string');
  if (!isWholeDay(d.baselineDay)) problem('baselineDay', 'must be a whole number');
  for (const key of ['primaryWindow', 'secondaryWindow'] as const) {
    const w = d[key];
    if (typeof w !== 'object' || w === null || !isWholeDay(w.firstDay) || !isWholeDay(w.lastDay) || w.lastDay < w.firstDay) {
      problem(key, 'must be {firstDay, lastDay} with whole days, firstDay <= lastDay');
    } else if (isWholeDay(d.baselineDay) && w.firstDay <= d.baselineDay) {
      problem(key, 'must start after the baseline day');
    }
  }
  if (typeof d.deathScore !== 'number' || !Number.isInteger(d.deathScore) || d.deathScore < 0 || d.deathScore > SOFA_TOTAL_MAX) {
    problem('deathScore', `must be a whole number 0-${SOFA_TOTAL_MAX}`);
  }
  if (d.deathDay !== 'observed-or-locf' && d.deathDay !== 'death-score') problem('deathDay', 'must be observed-or-locf or death-score');
  const r = d.responder;
  if (typeof r !== 'object' || r === null) problem('responder', 'must be an object');
  else {
    if (r.operator !== '>' && r.operator !== '>=') problem('responder.operator', 'must be > or >=');
    if (typeof r.thresholdPoints !== 'number' || !Number.isFinite(r.thresholdPoints)) problem('responder.thresholdPoints', 'must be a finite number');
    if (typeof r.source !== 'object' || r.source === null || typeof r.source.locator !== 'string') problem('responder.source', 'must cite a source');
  }
  if (d.notEvaluable !== 'exclude' && d.notEvaluable !== 'non-responder') problem('notEvaluable', 'must be exclude or non-responder');
  if (!Array.isArray(d.mortalityDays) || d.mortalityDays.length === 0 || !d.mortalityDays.every((x) => isWholeDay(x) && x > 0)) {
    problem('mortalityDays', 'must be a non-empty list of positive whole days');
  }
  if (!isWholeDay(d.reversalByDay) || d.reversalByDay < 1) problem('reversalByDay', 'must be a positive whole day');
  if (!isWholeDay(d.infectionResolutionByDay) || d.infectionResolutionByDay < 1) problem('infectionResolutionByDay', 'must be a positive whole day');
  if (!Array.isArray(d.sources)) problem('sources', 'must be a list');
  if (!Array.isArray(d.unconfirmed) || !d.unconfirmed.every((u) => typeof u === 'string')) problem('unconfirmed', 'must be a list of strings');
  return problems.length === 0 ? ok(d) : err(problems);
}

// ---------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------

/** One study day's total SOFA (0-24, a whole number), or null when not assessed. */
export interface DailySofaTotal {
  day: number;
  total: number | null;
}

/**
 * The reversal assessment (src/clinical/immune/reversal.ts) on the study-day axis:
 * `firstReversalAt` is the study day of the first sample meeting the reversal criteria (needed
 * when reversed is "yes"); `assessedThroughDay` the last study day with a valid assessment
 * (censoring of time to reversal; defaults as explained in deriveEndpoints).
 */
export interface ReversalInput {
  reversed: 'yes' | 'no' | 'unknown';
  firstReversalAt: number | null;
  assessedThroughDay?: number | null;
}

export interface PatientOutcomeInput {
  sofa: readonly DailySofaTotal[];
  /** Study day of death; null when the patient was alive at the last contact. */
  deathDay: number | null;
  /** Last study day the patient was known to be alive; required when deathDay is null. */
  lastAliveDay: number | null;
  /** null: no baseline immune dysfunction to reverse, or not assessed. */
  reversal: ReversalInput | null;
  /** Index infection resolved by the definition's day (15); null when not assessed. */
  infectionResolved: boolean | null;
}

export interface EndpointInputProblem {
  field: string;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

export type SofaDaySource = 'observed' | 'locf' | 'death';

export interface SofaDayValue {
  day: number;
  value: number;
  source: SofaDaySource;
  /** For 'locf': the day whose observed value was carried forward. */
  fromDay?: number;
}

export interface ResponderComparison {
  /** e.g. "11 - 9.375 = 1.625 > 1.4". */
  text: string;
  operator: ResponderOperator;
  thresholdPoints: number;
  result: boolean;
}

export interface SofaWindowEndpoint {
  window: SofaWindow;
  baseline: { day: number; value: number | null };
  /** The window days that could be scored, in day order. */
  days: SofaDayValue[];
  observedDays: number[];
  locfDays: number[];
  deathImputedDays: number[];
  /** Window days that could not be filled (no earlier observation): the mean is then null. */
  unfilledDays: number[];
  /** Mean over all window days, unrounded; null when a day could not be filled. */
  mean: number | null;
  /** baseline - mean; null when either is missing. */
  change: number | null;
  responder: boolean | null;
  comparison: ResponderComparison | null;
  explanation: string;
}

export interface MortalityEndpoint {
  day: number;
  /** null when the patient was lost to follow-up alive before this day. */
  died: boolean | null;
  explanation: string;
}

/** Follow-up for a Kaplan-Meier curve: the event (or censoring) time in study days. */
export interface TimeToEvent {
  time: number;
  event: boolean;
  explanation: string;
}

export interface ReversalEndpoint {
  byDay: number;
  reversed: boolean | null;
  /** null when the patient had no reversal assessment at all (reversal input null). */
  timeToReversal: TimeToEvent | null;
  explanation: string;
}

export interface PatientEndpoints {
  definition: { id: string; version: string };
  primary: SofaWindowEndpoint;
  secondary: SofaWindowEndpoint;
  mortality: MortalityEndpoint[];
  /** Time to death, administratively censored at the last mortality day (90). */
  survival: TimeToEvent;
  reversal: ReversalEndpoint;
  infectionResolution: { byDay: number; resolved: boolean | null; explanation: string };
}

// ---------------------------------------------------------------------------------------------
// Derivation
// ---------------------------------------------------------------------------------------------

/** `seen` is scratch space for the duplicate-day check (cleared here), reused across patients. */
function checkInput(input: PatientOutcomeInput, d: EndpointDefinition, seen: Set<number> = new Set<number>()): EndpointInputProblem[] {
  const problems: EndpointInputProblem[] = [];
  seen.clear();
  for (let i = 0; i < input.sofa.length; i++) {
    const entry = input.sofa[i] as DailySofaTotal;
    if (!isWholeDay(entry.day)) {
      problems.push({ field: `sofa[${i}].day`, message: `study day must be a whole number, got ${String(entry.day)}` });
      continue;
    }
    if (seen.has(entry.day)) problems.push({ field: `sofa[${i}].day`, message: `day ${entry.day} appears more than once` });
    seen.add(entry.day);
    const t = entry.total;
    if (t !== null && !(typeof t === 'number' && Number.isInteger(t) && t >= 0 && t <= SOFA_TOTAL_MAX)) {
      problems.push({ field: `sofa[${i}].total`, message: `total SOFA must be a whole number 0-${SOFA_TOTAL_MAX} or null, got ${String(t)}` });
    }
    if (t !== null && input.deathDay !== null && isWholeDay(input.deathDay) && entry.day > input.deathDay) {
      problems.push({ field: `sofa[${i}].total`, message: `a SOFA of ${String(t)} is recorded on day ${entry.day}, after death on day ${input.deathDay}` });
    }
  }
  if (input.deathDay !== null) {
    if (!isWholeDay(input.deathDay)) problems.push({ field: 'deathDay', message: `must be a whole study day or null, got ${String(input.deathDay)}` });
    else if (input.deathDay < d.baselineDay) problems.push({ field: 'deathDay', message: `death on day ${input.deathDay} is before the baseline day ${d.baselineDay}` });
  } else if (input.lastAliveDay === null || !isWholeDay(input.lastAliveDay)) {
    problems.push({ field: 'lastAliveDay', message: 'a whole study day is needed when the patient did not die (deathDay null)' });
  } else if (input.lastAliveDay < d.baselineDay) {
    problems.push({ field: 'lastAliveDay', message: `day ${input.lastAliveDay} is before the baseline day ${d.baselineDay}` });
  }
  const r = input.reversal;
  if (r !== null) {
    if (r.reversed !== 'yes' && r.reversed !== 'no' && r.reversed !== 'unknown') {
      problems.push({ field: 'reversal.reversed', message: 'must be yes, no or unknown' });
    }
    if (r.reversed === 'yes' && !(isWholeDay(r.firstReversalAt) && r.firstReversalAt >= d.baselineDay)) {
      problems.push({ field: 'reversal.firstReversalAt', message: `a reversal needs the study day it was first seen (>= ${d.baselineDay})` });
    }
    if (r.reversed !== 'yes' && r.firstReversalAt !== null && r.firstReversalAt !== undefined) {
      problems.push({ field: 'reversal.firstReversalAt', message: `must be null when reversed is ${r.reversed}` });
    }
    const through = r.assessedThroughDay;
    if (through !== undefined && through !== null && !(isWholeDay(through) && through >= d.baselineDay)) {
      problems.push({ field: 'reversal.assessedThroughDay', message: `must be a whole study day >= ${d.baselineDay} or null` });
    }
    if (r.reversed === 'yes' && input.deathDay !== null && isWholeDay(r.firstReversalAt) && r.firstReversalAt > input.deathDay) {
      problems.push({ field: 'reversal.firstReversalAt', message: `reversal on day ${r.firstReversalAt} is after death on day ${input.deathDay}` });
    }
  }
  if (input.infectionResolved !== null && typeof input.infectionResolved !== 'boolean') {
    problems.push({ field: 'infectionResolved', message: 'must be true, false or null' });
  }
  return problems;
}

const NONE = 0;
const OBSERVED = 1;
const LOCF = 2;
const DEATH = 3;
const SOURCE_NAMES: readonly SofaDaySource[] = ['observed', 'observed', 'locf', 'death'];

/**
 * The scoring rule of the header applied to a range of study days in one scan, into arrays that
 * are reused from patient to patient (a trial analysis scores thousands of patients): per day
 * the scored value, where it came from (observed, carried forward, death) and, when carried
 * forward, from which day. Scanning in day order, the last observation on a day from the
 * baseline day on is exactly the value LOCF carries.
 */
class DayScan {
  readonly first: number;
  readonly last: number;
  readonly observed: Int32Array;
  readonly value: Int32Array;
  readonly source: Uint8Array;
  readonly fromDay: Int32Array;

  constructor(first: number, last: number) {
    this.first = first;
    this.last = last;
    const length = Math.max(0, last - first + 1);
    this.observed = new Int32Array(length);
    this.value = new Int32Array(length);
    this.source = new Uint8Array(length);
    this.fromDay = new Int32Array(length);
  }

  run(sofa: readonly DailySofaTotal[], deathDay: number | null, d: EndpointDefinition): this {
    const { first, last, observed, value, source, fromDay } = this;
    observed.fill(-1);
    for (let k = 0; k < sofa.length; k++) {
      const entry = sofa[k] as DailySofaTotal;
      if (entry.total !== null && entry.day >= first && entry.day <= last) observed[entry.day - first] = entry.total;
    }
    let carriedDay = -1;
    let carried = -1;
    for (let day = first; day <= last; day++) {
      const i = day - first;
      const own = observed[i] as number;
      if (deathDay !== null && (day > deathDay || (day === deathDay && own < 0 && d.deathDay === 'death-score'))) {
        value[i] = d.deathScore;
        source[i] = DEATH;
      } else if (own >= 0) {
        value[i] = own;
        source[i] = OBSERVED;
      } else if (carried >= 0) {
        value[i] = carried;
        source[i] = LOCF;
        fromDay[i] = carriedDay;
      } else {
        value[i] = -1;
        source[i] = NONE;
      }
      if (own >= 0 && day >= d.baselineDay) {
        carried = own;
        carriedDay = day;
      }
    }
    return this;
  }

  /** The observed value of a day in the range, or null. */
  observedOn(day: number): number | null {
    const v = day >= this.first && day <= this.last ? (this.observed[day - this.first] as number) : -1;
    return v >= 0 ? v : null;
  }

  dayValue(day: number): SofaDayValue | null {
    const i = day - this.first;
    const source = this.source[i] as number;
    if (source === NONE) return null;
    const v: SofaDayValue = { day, value: this.value[i] as number, source: SOURCE_NAMES[source] as SofaDaySource };
    if (source === LOCF) v.fromDay = this.fromDay[i] as number;
    return v;
  }
}

function copy(values: Int32Array): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] as number;
  return out;
}

/**
 * The daily SOFA series of a study-day range scored as the endpoint scores it (for trajectory
 * plots): one entry per day, null where nothing can be carried forward.
 */
export function scoredSofaSeries(
  sofa: readonly DailySofaTotal[],
  deathDay: number | null,
  days: SofaWindow,
  d: EndpointDefinition = DEFAULT_ENDPOINT_DEFINITION,
): Array<SofaDayValue | null> {
  // Scan from the baseline day at the latest, so what LOCF carries is known.
  const scan = new DayScan(Math.min(days.firstDay, d.baselineDay), days.lastDay).run(sofa, deathDay, d);
  const series: Array<SofaDayValue | null> = [];
  for (let day = days.firstDay; day <= days.lastDay; day++) series.push(scan.dayValue(day));
  return series;
}

function daysText(label: string, days: readonly number[]): string | null {
  return days.length === 0 ? null : `${label} ${days.join(', ')}`;
}

/** n * threshold as the comparison uses it (see compareChange), for a window of n days. */
function scaledThresholdFor(window: SofaWindow, d: EndpointDefinition): number {
  return decimalRound((window.lastDay - window.firstDay + 1) * d.responder.thresholdPoints);
}

/**
 * baseline - mean compared with the threshold, exactly: with whole-number totals,
 * n * baseline - sum is a whole number, and it is compared with n * threshold rounded to 12
 * significant digits (so a threshold that is a multiple of 1/n decides as written in decimal).
 */
function compareChange(baseline: number, sum: number, n: number, d: EndpointDefinition, mean: number, scaledThreshold: number): Comparison {
  const { operator, thresholdPoints } = d.responder;
  const scaledChange = n * baseline - sum;
  const result = operator === '>' ? scaledChange > scaledThreshold : scaledChange >= scaledThreshold;
  return new Comparison(operator, thresholdPoints, result, baseline, mean, scaledChange / n);
}

/**
 * Results are small classes whose texts are getters: a trial analysis derives endpoints for
 * thousands of patients and reads few explanations, so the texts are written only when read.
 * toJSON puts them in the JSON like any other field.
 */
class Comparison implements ResponderComparison {
  readonly operator: ResponderOperator;
  readonly thresholdPoints: number;
  readonly result: boolean;
  readonly #baseline: number;
  readonly #mean: number;
  readonly #change: number;

  constructor(operator: ResponderOperator, thresholdPoints: number, result: boolean, baseline: number, mean: number, change: number) {
    this.operator = operator;
    this.thresholdPoints = thresholdPoints;
    this.result = result;
    this.#baseline = baseline;
    this.#mean = mean;
    this.#change = change;
  }

  get text(): string {
    const rel = this.result ? this.operator : this.operator === '>' ? '<=' : '<';
    return `${this.#baseline} - ${formatMean(this.#mean)} = ${formatMean(this.#change)} ${rel} ${formatExact(this.thresholdPoints)}`;
  }

  toJSON(): ResponderComparison {
    return { text: this.text, operator: this.operator, thresholdPoints: this.thresholdPoints, result: this.result };
  }
}

class WindowResult implements SofaWindowEndpoint {
  readonly window: SofaWindow;
  readonly baseline: { day: number; value: number | null };
  readonly days: SofaDayValue[];
  readonly observedDays: number[];
  readonly locfDays: number[];
  readonly deathImputedDays: number[];
  readonly unfilledDays: number[];
  readonly mean: number | null;
  readonly change: number | null;
  readonly responder: boolean | null;
  readonly comparison: ResponderComparison | null;
  readonly #definition: EndpointDefinition;

  constructor(fields: Omit<SofaWindowEndpoint, 'explanation'>, definition: EndpointDefinition) {
    this.window = fields.window;
    this.baseline = fields.baseline;
    this.days = fields.days;
    this.observedDays = fields.observedDays;
    this.locfDays = fields.locfDays;
    this.deathImputedDays = fields.deathImputedDays;
    this.unfilledDays = fields.unfilledDays;
    this.mean = fields.mean;
    this.change = fields.change;
    this.responder = fields.responder;
    this.comparison = fields.comparison;
    this.#definition = definition;
  }

  get explanation(): string {
    return windowExplanation(this, this.#definition);
  }

  toJSON(): SofaWindowEndpoint {
    return {
      window: this.window,
      baseline: this.baseline,
      days: this.days,
      observedDays: this.observedDays,
      locfDays: this.locfDays,
      deathImputedDays: this.deathImputedDays,
      unfilledDays: this.unfilledDays,
      mean: this.mean,
      change: this.change,
      responder: this.responder,
      comparison: this.comparison,
      explanation: this.explanation,
    };
  }
}

/** Means of whole numbers over a few days, without binary noise (9.375, 10.2142857143). */
function formatMean(x: number): string {
  return formatExact(Number(x.toPrecision(12)));
}

/** Sum and unfilled count of a window from a scan (no allocation). */
function windowSum(scan: DayScan, window: SofaWindow): { sum: number; unfilled: number } {
  let sum = 0;
  let unfilled = 0;
  for (let day = window.firstDay; day <= window.lastDay; day++) {
    const i = day - scan.first;
    if (scan.source[i] === NONE) unfilled++;
    else sum += scan.value[i] as number;
  }
  return { sum, unfilled };
}

function windowEndpoint(scan: DayScan, window: SofaWindow, d: EndpointDefinition, scaledThreshold: number): SofaWindowEndpoint {
  const days: SofaDayValue[] = [];
  const unfilledDays: number[] = [];
  const observedDays: number[] = [];
  const locfDays: number[] = [];
  const deathImputedDays: number[] = [];
  let sum = 0;
  for (let day = window.firstDay; day <= window.lastDay; day++) {
    const scored = scan.dayValue(day);
    if (scored === null) {
      unfilledDays.push(day);
      continue;
    }
    days.push(scored);
    sum += scored.value;
    (scored.source === 'observed' ? observedDays : scored.source === 'locf' ? locfDays : deathImputedDays).push(day);
  }
  const baselineValue = scan.observedOn(d.baselineDay);
  const n = window.lastDay - window.firstDay + 1;
  const mean = unfilledDays.length === 0 ? sum / n : null;
  const comparison = mean === null || baselineValue === null ? null : compareChange(baselineValue, sum, n, d, mean, scaledThreshold);
  return new WindowResult(
    {
      window: { firstDay: window.firstDay, lastDay: window.lastDay },
      baseline: { day: d.baselineDay, value: baselineValue },
      days,
      observedDays,
      locfDays,
      deathImputedDays,
      unfilledDays,
      mean,
      change: mean === null || baselineValue === null ? null : baselineValue - mean,
      responder: comparison === null ? null : comparison.result,
      comparison,
    },
    d,
  );
}

/** The responder decision of a window without building its result (same rule as compareChange). */
function windowResponder(scan: DayScan, window: SofaWindow, baseline: number | null, d: EndpointDefinition, scaledThreshold: number): boolean | null {
  const { sum, unfilled } = windowSum(scan, window);
  if (unfilled > 0 || baseline === null) return null;
  const scaledChange = (window.lastDay - window.firstDay + 1) * baseline - sum;
  return d.responder.operator === '>' ? scaledChange > scaledThreshold : scaledChange >= scaledThreshold;
}

function windowExplanation(e: SofaWindowEndpoint, d: EndpointDefinition): string {
  const name = `days ${e.window.firstDay}-${e.window.lastDay}`;
  const filling = [
    daysText('observed on day(s)', e.observedDays),
    e.locfDays.length === 0
      ? null
      : `last observation carried forward on day(s) ${e.days
          .filter((v) => v.source === 'locf')
          .map((v) => `${v.day} (from day ${v.fromDay})`)
          .join(', ')}`,
    e.deathImputedDays.length === 0 ? null : `scored ${d.deathScore} after death on day(s) ${e.deathImputedDays.join(', ')}`,
    daysText('not fillable (no earlier observation) on day(s)', e.unfilledDays),
  ]
    .filter((t): t is string => t !== null)
    .join('; ');
  let verdict: string;
  if (e.mean === null) verdict = `mean SOFA ${name} not evaluable; responder status not evaluable`;
  else if (e.comparison === null) verdict = `mean SOFA ${name} ${formatMean(e.mean)}; day-${d.baselineDay} SOFA missing: responder status not evaluable`;
  else verdict = `day-${d.baselineDay} SOFA - mean SOFA ${name}: ${e.comparison.text}: ${e.comparison.result ? 'responder' : 'non-responder'}`;
  return `${verdict} (${filling}; definition ${d.id} ${d.version})`;
}

/** Dead by `day` (true), alive on it (false), or unknown: lost to follow-up before it (null). */
function diedBy(day: number, deathDay: number | null, lastAliveDay: number | null): boolean | null {
  if (deathDay !== null) return deathDay <= day;
  return (lastAliveDay as number) >= day ? false : null;
}

class MortalityResult implements MortalityEndpoint {
  readonly day: number;
  readonly died: boolean | null;
  readonly #deathDay: number | null;
  readonly #lastAliveDay: number | null;

  constructor(day: number, deathDay: number | null, lastAliveDay: number | null) {
    this.day = day;
    this.died = diedBy(day, deathDay, lastAliveDay);
    this.#deathDay = deathDay;
    this.#lastAliveDay = lastAliveDay;
  }

  get explanation(): string {
    const { day } = this;
    if (this.#deathDay !== null) {
      return this.died ? `died on day ${this.#deathDay}, on or before day ${day}` : `alive on day ${day} (died later, on day ${this.#deathDay})`;
    }
    return this.died === false
      ? `alive on day ${day} (last known alive on day ${this.#lastAliveDay})`
      : `unknown: last known alive on day ${this.#lastAliveDay}, before day ${day} (lost to follow-up)`;
  }

  toJSON(): MortalityEndpoint {
    return { day: this.day, died: this.died, explanation: this.explanation };
  }
}

/** Why a time-to-event record ends where it does (the explanation is written from it on demand). */
type FollowUpEnd =
  | { kind: 'death' }
  | { kind: 'end-of-follow-up' }
  | { kind: 'last-alive' }
  | { kind: 'reversal' }
  | { kind: 'reversal-late'; day: number; byDay: number }
  | { kind: 'no-reversal' }
  | { kind: 'no-assessment' };

class TimeToEventResult implements TimeToEvent {
  readonly time: number;
  readonly event: boolean;
  readonly #end: FollowUpEnd;

  constructor(time: number, event: boolean, end: FollowUpEnd) {
    this.time = time;
    this.event = event;
    this.#end = end;
  }

  get explanation(): string {
    const end = this.#end;
    const t = this.time;
    switch (end.kind) {
      case 'death':
        return `death on day ${t}`;
      case 'end-of-follow-up':
        return `alive on day ${t}: censored at the end of follow-up`;
      case 'last-alive':
        return `last known alive on day ${t}: censored`;
      case 'reversal':
        return `reversal first seen on day ${t}`;
      case 'reversal-late':
        return `reversal on day ${end.day} is after day ${end.byDay}: censored on day ${t}`;
      case 'no-reversal':
        return `no reversal through day ${t}: censored`;
      case 'no-assessment':
        return `no valid reversal assessment after day ${t}: censored on day ${t}`;
    }
  }

  toJSON(): TimeToEvent {
    return { time: this.time, event: this.event, explanation: this.explanation };
  }
}

function survivalEndpoint(input: PatientOutcomeInput, horizon: number): TimeToEvent {
  if (input.deathDay !== null && input.deathDay <= horizon) return new TimeToEventResult(input.deathDay, true, { kind: 'death' });
  if (input.deathDay !== null || (input.lastAliveDay as number) >= horizon) return new TimeToEventResult(horizon, false, { kind: 'end-of-follow-up' });
  return new TimeToEventResult(input.lastAliveDay as number, false, { kind: 'last-alive' });
}

class ReversalResult implements ReversalEndpoint {
  readonly byDay: number;
  readonly reversed: boolean | null;
  readonly timeToReversal: TimeToEvent | null;
  /** The assessment as given, for the explanation. */
  readonly #input: ReversalInput | null;

  constructor(byDay: number, reversed: boolean | null, timeToReversal: TimeToEvent | null, input: ReversalInput | null) {
    this.byDay = byDay;
    this.reversed = reversed;
    this.timeToReversal = timeToReversal;
    this.#input = input;
  }

  get explanation(): string {
    const r = this.#input;
    if (r === null) return 'no reversal assessment (no baseline immune dysfunction recorded)';
    if (r.reversed === 'yes') {
      return this.reversed ? `reversed on day ${r.firstReversalAt}, by day ${this.byDay}` : `not reversed by day ${this.byDay} (reversal first seen on day ${r.firstReversalAt})`;
    }
    return r.reversed === 'no' ? `not reversed by day ${this.byDay}` : 'reversal unknown (no valid assessment)';
  }

  toJSON(): ReversalEndpoint {
    return { byDay: this.byDay, reversed: this.reversed, timeToReversal: this.timeToReversal, explanation: this.explanation };
  }
}

function reversalEndpoint(input: PatientOutcomeInput, d: EndpointDefinition): ReversalEndpoint {
  const byDay = d.reversalByDay;
  const r = input.reversal;
  if (r === null) return new ReversalResult(byDay, null, null, null);
  // Censoring of time to reversal: the last day with a valid assessment, never after death or
  // the end of the reversal window; a death ends follow-up for reversal (cause-specific).
  const endOfFollowUp = Math.min(byDay, input.deathDay ?? Number.POSITIVE_INFINITY);
  if (r.reversed === 'yes') {
    const day = r.firstReversalAt as number;
    return day <= byDay
      ? new ReversalResult(byDay, true, new TimeToEventResult(day, true, { kind: 'reversal' }), r)
      : new ReversalResult(byDay, false, new TimeToEventResult(endOfFollowUp, false, { kind: 'reversal-late', day, byDay }), r);
  }
  if (r.reversed === 'no') {
    const through = Math.min(r.assessedThroughDay ?? byDay, endOfFollowUp);
    return new ReversalResult(byDay, false, new TimeToEventResult(through, false, { kind: 'no-reversal' }), r);
  }
  const through = Math.min(r.assessedThroughDay ?? d.baselineDay, endOfFollowUp);
  return new ReversalResult(byDay, null, new TimeToEventResult(through, false, { kind: 'no-assessment' }), r);
}

class InfectionResult {
  readonly byDay: number;
  readonly resolved: boolean | null;

  constructor(byDay: number, resolved: boolean | null) {
    this.byDay = byDay;
    this.resolved = resolved;
  }

  get explanation(): string {
    return this.resolved === null
      ? `resolution of the index infection by day ${this.byDay} not assessed`
      : `index infection ${this.resolved ? '' : 'not '}resolved by day ${this.byDay}`;
  }

  toJSON(): PatientEndpoints['infectionResolution'] {
    return { byDay: this.byDay, resolved: this.resolved, explanation: this.explanation };
  }
}

/**
 * All endpoints of one patient under an endpoint definition; an error value listing every
 * inconsistency of the input (a day that is not whole, a duplicate day, a total outside 0-24,
 * a SOFA recorded after death, a missing follow-up).
 */
export function deriveEndpoints(
  input: PatientOutcomeInput,
  d: EndpointDefinition = DEFAULT_ENDPOINT_DEFINITION,
): Result<PatientEndpoints, EndpointInputProblem[]> {
  return endpointDeriver(d).derive(input);
}

/**
 * The numbers of all endpoints of one patient, without explanations or per-day detail: what a
 * trial analysis needs, computed by the same scan and rules as deriveEndpoints (a property test
 * checks they agree).
 */
export interface EndpointSummary {
  baselineSofa: number | null;
  primaryResponder: boolean | null;
  secondaryResponder: boolean | null;
  /** Per mortality day of the definition (28, 90): died by then, or null when unknown. */
  died: Array<boolean | null>;
  survival: { time: number; event: boolean };
  reversed: boolean | null;
  timeToReversal: { time: number; event: boolean } | null;
  infectionResolved: boolean | null;
  /** Endpoint-scored SOFA of study days firstDay, firstDay + 1, ... (-1 where none). */
  scoredDays: { firstDay: number; values: number[] };
}

export interface EndpointDeriver {
  /** All endpoints of one patient, explained (deriveEndpoints). */
  derive(input: PatientOutcomeInput): Result<PatientEndpoints, EndpointInputProblem[]>;
  /** The same endpoints as numbers only (for analysing many patients). */
  summarise(input: PatientOutcomeInput): Result<EndpointSummary, EndpointInputProblem[]>;
}

/**
 * Endpoint derivation for many patients under one definition: what depends only on the
 * definition (scaled responder thresholds, the follow-up horizon, the scan arrays) is set up
 * once.
 */
export function endpointDeriver(d: EndpointDefinition): EndpointDeriver {
  const primaryThreshold = scaledThresholdFor(d.primaryWindow, d);
  const secondaryThreshold = scaledThresholdFor(d.secondaryWindow, d);
  const horizon = Math.max(...d.mortalityDays);
  const definitionRef = { id: d.id, version: d.version };
  const seen = new Set<number>();
  const scan = new DayScan(
    Math.min(d.baselineDay, d.primaryWindow.firstDay, d.secondaryWindow.firstDay),
    Math.max(d.baselineDay, d.primaryWindow.lastDay, d.secondaryWindow.lastDay),
  );
  return {
    derive(input) {
      const problems = checkInput(input, d, seen);
      if (problems.length > 0) return err(problems);
      scan.run(input.sofa, input.deathDay, d);
      return ok({
        definition: definitionRef,
        primary: windowEndpoint(scan, d.primaryWindow, d, primaryThreshold),
        secondary: windowEndpoint(scan, d.secondaryWindow, d, secondaryThreshold),
        mortality: d.mortalityDays.map((day) => new MortalityResult(day, input.deathDay, input.lastAliveDay)),
        survival: survivalEndpoint(input, horizon),
        reversal: reversalEndpoint(input, d),
        infectionResolution: new InfectionResult(d.infectionResolutionByDay, input.infectionResolved),
      });
    },
    summarise(input) {
      const problems = checkInput(input, d, seen);
      if (problems.length > 0) return err(problems);
      scan.run(input.sofa, input.deathDay, d);
      const baseline = scan.observedOn(d.baselineDay);
      const survival = survivalEndpoint(input, horizon);
      const reversal = reversalEndpoint(input, d);
      const t = reversal.timeToReversal;
      return ok({
        baselineSofa: baseline,
        primaryResponder: windowResponder(scan, d.primaryWindow, baseline, d, primaryThreshold),
        secondaryResponder: windowResponder(scan, d.secondaryWindow, baseline, d, secondaryThreshold),
        died: d.mortalityDays.map((day) => diedBy(day, input.deathDay, input.lastAliveDay)),
        survival: { time: survival.time, event: survival.event },
        reversed: reversal.reversed,
        timeToReversal: t === null ? null : { time: t.time, event: t.event },
        infectionResolved: input.infectionResolved,
        scoredDays: { firstDay: scan.first, values: copy(scan.value) },
      });
    },
  };
}

/**
 * The study day of an instant, given when study day 1 starts (an ISO instant): day 1 covers
 * [start, start + 24 h). For converting a ReversalAssessment's firstReversalAt or evaluatedAt.
 */
export function studyDayOf(instantMs: number, day1StartMs: number): number {
  return Math.floor((instantMs - day1StartMs) / 86_400_000) + 1;
}

/**
 * A reversal assessment of the immune engine (assessReversal, evaluated at the end of the
 * reversal window) on the study-day axis. `day1StartsAt` is the instant study day 1 begins.
 */
export function reversalInputFromAssessment(assessment: ReversalAssessment, day1StartsAt: IsoDateTime): Result<ReversalInput, string> {
  const start = parseInstant(day1StartsAt);
  if (start === null) return err(`day1StartsAt is not an ISO instant with a time zone: ${day1StartsAt}`);
  const evaluated = parseInstant(assessment.evaluatedAt);
  if (evaluated === null) return err(`evaluatedAt is not an ISO instant: ${assessment.evaluatedAt}`);
  const evaluatedDay = studyDayOf(evaluated, start);
  if (assessment.status === 'yes') {
    const first = parseInstant(assessment.firstReversalAt);
    if (first === null) return err(`firstReversalAt is not an ISO instant: ${assessment.firstReversalAt}`);
    return ok({ reversed: 'yes', firstReversalAt: studyDayOf(first, start), assessedThroughDay: evaluatedDay });
  }
  if (assessment.status === 'no') return ok({ reversed: 'no', firstReversalAt: null, assessedThroughDay: evaluatedDay });
  return ok({ reversed: 'unknown', firstReversalAt: null, assessedThroughDay: null });
}
