/**
 * From raw canonical measurements to SCORED EVENTS: each event is one scoreable value (a
 * platelet count, a PaO2/FiO2 pair, a catecholamine rate held long enough, a 24 h urine volume)
 * with its organ score, the interval of time during which it is present, and the inputs behind
 * it. The timeline (timeline.ts) then keeps, per window, the worst event of each component:
 * because every organ score is monotone in its input, "worst value in the window" is "highest
 * score in the window", and the worst value among equal scores is kept for the explanation.
 *
 * The preset's conventions (parameters.ts) are applied here: FiO2 pairing and ventilation status
 * for respiration, the dose rule for catecholamine infusions, the 24 h urine volume, the GCS of
 * intubated patients, and which column (SI or conventional) scores a value.
 */
import { formatInstant, HOUR_MS, parseInstant } from '../instant.ts';
import { decimalRound, formatExact } from '../numeric.ts';
import { type Concept, type Result, err, ok } from '../types.ts';
import { CONCEPT_UNITS, convertFromCanonical } from '../units.ts';
import {
  pfRatio,
  scaleForUnit,
  scoreCatecholamine,
  scoreCns,
  scoreMap,
  scoreRespiration,
  scoreUrineOutput,
} from './organs.ts';
import type { SofaParameters, WindowClosure } from './parameters.ts';
import { CATECHOLAMINES, type Catecholamine, type ScoringScale, scoreOnScale } from './thresholds.ts';
import type { OrganScoreResult, SofaComponent, SofaInputError, SofaMeasurement } from './types.ts';

const MINUTE_MS = 60_000;

/** The hour grid of an output: instants anchor + k h; which side of a window its edges fall on. */
export interface Grid {
  anchorMs: number;
  closure: WindowClosure;
}

export interface ScoredEvent {
  /** Closed interval [fromMs, toMs] during which the value is present (a point: from = to). */
  fromMs: number;
  toMs: number;
  /** The instant shown in explanations. */
  timeMs: number;
  result: OrganScoreResult;
  /** Input kind, for ties between different inputs of one component (lower first). */
  kind: number;
  /** Within one kind, larger is worse (a lower platelet count, a higher bilirubin). */
  severity: number;
  /** What was done to the inputs, in words; a function when it is costly to write (built for the evidence only). */
  derivation?: string | (() => string);
  inputs: readonly SofaMeasurement[];
}

interface Timed {
  m: SofaMeasurement;
  timeMs: number;
  endMs: number | null;
}

export interface PreparedPatient {
  patientId: string;
  /** Earliest measurement time (any concept). */
  firstMs: number;
  /** Latest instant covered by a measurement (an interval's last instant is just before its end). */
  lastMs: number;
  byConcept: Map<Concept, Timed[]>;
}

/** SOFA inputs, each a concept whose canonical unit the engine relies on. */
export const SOFA_INPUT_CONCEPTS: readonly Concept[] = [
  'pao2',
  'fio2',
  'mechanical_ventilation',
  'platelets',
  'bilirubin',
  'map',
  'norepinephrine',
  'epinephrine',
  'dopamine',
  'dobutamine',
  'gcs',
  'creatinine',
  'urine_output',
];
const SOFA_CONCEPTS: ReadonlySet<Concept> = new Set(SOFA_INPUT_CONCEPTS);

/** Parses times, checks units and groups one patient's measurements by concept, each sorted by time. */
export function preparePatient(measurements: readonly SofaMeasurement[]): Result<PreparedPatient, SofaInputError> {
  const byConcept = new Map<Concept, Timed[]>();
  let firstMs = Infinity;
  let lastMs = -Infinity;
  const patientId = measurements[0]?.patientId ?? '';
  // Charts repeat instants (several values per hour): parse each distinct time text once.
  const parsed = new Map<string, number | null>();
  const parse = (text: string): number | null => {
    let ms = parsed.get(text);
    if (ms === undefined) parsed.set(text, (ms = parseInstant(text)));
    return ms;
  };
  for (const m of measurements) {
    if (m.patientId !== patientId) {
      return err({ kind: 'mixed-patients', message: `measurements of several patients (${patientId}, ${m.patientId}): score one patient at a time` });
    }
    const timeMs = parse(m.time);
    if (timeMs === null) return err({ kind: 'invalid-time', message: `${m.concept} at "${m.time}": not an ISO 8601 instant with a time zone` });
    let endMs: number | null = null;
    if (m.endTime !== undefined) {
      endMs = parse(m.endTime);
      if (endMs === null) return err({ kind: 'invalid-time', message: `${m.concept} ending "${m.endTime}": not an ISO 8601 instant with a time zone` });
      if (endMs < timeMs) return err({ kind: 'invalid-time', message: `${m.concept} at ${m.time} ends before it starts (${m.endTime})` });
    }
    firstMs = Math.min(firstMs, timeMs);
    lastMs = Math.max(lastMs, endMs !== null && endMs > timeMs ? endMs - 1 : timeMs);
    if (!SOFA_CONCEPTS.has(m.concept)) continue;
    const canonical = CONCEPT_UNITS[m.concept].canonicalUnit;
    if (m.unit !== canonical) {
      return err({
        kind: 'not-canonical-unit',
        message: `${m.concept} ${m.value} "${m.unit}" at ${m.time}: the SOFA engine needs values in the canonical unit "${canonical}" (normalise with units.ts first)`,
      });
    }
    let list = byConcept.get(m.concept);
    if (list === undefined) byConcept.set(m.concept, (list = []));
    list.push({ m, timeMs, endMs });
  }
  for (const list of byConcept.values()) list.sort((a, b) => a.timeMs - b.timeMs);
  return ok({ patientId, firstMs, lastMs, byConcept });
}

// ---------------------------------------------------------------------------------------------
// Scale (column) selection
// ---------------------------------------------------------------------------------------------

/** Picks the column of a table for a measurement, remembering unit comparisons for the call. */
class Columns {
  readonly #same = new Map<string, boolean>();
  readonly #useReported: boolean;

  constructor(parameters: SofaParameters) {
    this.#useReported = parameters.unitColumns === 'reported';
  }

  /**
   * The scale and the number to compare: the reported number on a column in the reported unit
   * when the preset scores SI values on the SI column, else the canonical value on the first
   * (conventional) column.
   */
  pick(m: SofaMeasurement, scales: readonly ScoringScale[]): { scale: ScoringScale; value: number } {
    const conventional = scales[0] as ScoringScale;
    const reported = this.reported(m);
    if (reported !== null) {
      for (const scale of scales.slice(1)) {
        if (this.sameUnit(m.concept, reported.unit, scale.unit)) return { scale, value: reported.value };
      }
    }
    return { scale: conventional, value: m.value };
  }

  /** The reported value and unit when the preset reads them and they are usable. */
  reported(m: SofaMeasurement): { value: number; unit: string } | null {
    if (!this.#useReported || m.reported === undefined || !Number.isFinite(m.reported.value)) return null;
    return m.reported;
  }

  /** Whether two spellings name the same unit for a concept (umol/L, µmol/L), via units.ts. */
  sameUnit(concept: Concept, a: string, b: string): boolean {
    if (a === b) return true;
    const key = `${concept}\u0000${a}\u0000${b}`;
    let same = this.#same.get(key);
    if (same === undefined) {
      const x = convertFromCanonical(concept, 1000, a);
      const y = convertFromCanonical(concept, 1000, b);
      same = x.ok && y.ok && x.value === y.value;
      this.#same.set(key, same);
    }
    return same;
  }
}

function onScale(scale: ScoringScale, value: number): OrganScoreResult {
  const decision = scoreOnScale(scale, value);
  return { score: decision.score, scale: scale.id, value, unit: scale.unit, comparison: decision.comparison };
}

// ---------------------------------------------------------------------------------------------
// Components
// ---------------------------------------------------------------------------------------------

export type ComponentEvents = Record<SofaComponent, ScoredEvent[]>;

/** Every scored event of every component, each list sorted by `fromMs`. */
export function componentEvents(patient: PreparedPatient, parameters: SofaParameters, grid: Grid): ComponentEvents {
  const columns = new Columns(parameters);
  const events: ComponentEvents = {
    respiration: respirationEvents(patient, parameters, columns),
    coagulation: labEvents(patient.byConcept.get('platelets'), parameters.thresholds.coagulation.platelets, columns, -1),
    liver: labEvents(patient.byConcept.get('bilirubin'), parameters.thresholds.liver.bilirubin, columns, 1),
    cardiovascular: cardiovascularEvents(patient, parameters, grid),
    cns: cnsEvents(patient, parameters),
    renal: [
      ...labEvents(patient.byConcept.get('creatinine'), parameters.thresholds.renal.creatinine, columns, 1),
      ...(parameters.urineOutput.basis === 'rolling-at-charting' ? rollingUrineEvents(patient, parameters, grid) : []),
    ],
  };
  for (const list of Object.values(events)) list.sort((a, b) => a.fromMs - b.fromMs);
  return events;
}

function point(t: Timed, result: OrganScoreResult, kind: number, severity: number, inputs: readonly SofaMeasurement[], derivation?: string | (() => string)): ScoredEvent {
  return { fromMs: t.timeMs, toMs: t.timeMs, timeMs: t.timeMs, result, kind, severity, inputs, ...(derivation === undefined ? {} : { derivation }) };
}

/** Labs: each value is an event at its time. `direction` -1: lower is worse; 1: higher is worse. */
function labEvents(list: readonly Timed[] | undefined, scales: readonly ScoringScale[], columns: Columns, direction: 1 | -1): ScoredEvent[] {
  if (list === undefined) return [];
  return list.map((t) => {
    const { scale, value } = columns.pick(t.m, scales);
    return point(t, onScale(scale, value), 0, direction * t.m.value, [t.m]);
  });
}

function cnsEvents(patient: PreparedPatient, parameters: SofaParameters): ScoredEvent[] {
  const list = patient.byConcept.get('gcs') ?? [];
  return list.map((t) => {
    const intubated = t.m.qualifiers?.gcsVerbalIntubated === true;
    if (intubated && parameters.gcs.verbalIntubated === 'score-as-15') {
      const derivation = `verbal response charted as intubated (charted total ${formatExact(t.m.value)}): scored as GCS 15 (${parameters.id} convention)`;
      return point(t, scoreCns(15, parameters.thresholds), 0, -15, [t.m], derivation);
    }
    const derivation = intubated ? 'verbal response charted as intubated: scored as charted' : undefined;
    return point(t, scoreCns(t.m.value, parameters.thresholds), 0, -t.m.value, [t.m], derivation);
  });
}

// --- respiration ------------------------------------------------------------------------------

/** Closed intervals of invasive ventilation, merged and sorted. */
function ventilationIntervals(list: readonly Timed[], holdsHours: number): Array<[number, number]> {
  const intervals: Array<[number, number]> = [];
  const points = list.filter((t) => t.endMs === null);
  for (const t of list) if (t.endMs !== null && t.m.value === 1) intervals.push([t.timeMs, t.endMs]);
  const holdMs = holdsHours * HOUR_MS;
  points.forEach((t, i) => {
    if (t.m.value !== 1) return;
    // Of several statuses charted at one instant, the next different instant ends this one.
    let j = i + 1;
    while (j < points.length && (points[j] as Timed).timeMs === t.timeMs) j++;
    const next = points[j];
    const end = next !== undefined && next.timeMs - t.timeMs < holdMs ? next.timeMs : t.timeMs;
    intervals.push([t.timeMs, end]);
  });
  intervals.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [from, to] of intervals) {
    const last = merged[merged.length - 1];
    if (last !== undefined && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

function within(intervals: ReadonlyArray<[number, number]>, ms: number): boolean {
  let lo = 0;
  let hi = intervals.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [from, to] = intervals[mid] as [number, number];
    if (ms < from) hi = mid - 1;
    else if (ms > to) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Index of the last element with timeMs <= ms, or -1. */
function lastAtOrBefore(list: readonly Timed[], ms: number): number {
  let lo = 0;
  let hi = list.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as Timed).timeMs <= ms) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * The FiO2 of a gas at `ms`: the charting closest in time within [ms - lookback, ms + lookahead],
 * the earlier one on a tie; of several chartings at one instant, the highest (the worse P/F).
 */
function pairFio2(fio2: readonly Timed[], ms: number, parameters: SofaParameters): Timed | null {
  const { lookbackHours, lookaheadHours } = parameters.respiration.fio2;
  let before: Timed | null = null;
  const i = lastAtOrBefore(fio2, ms);
  if (i >= 0 && ms - (fio2[i] as Timed).timeMs <= lookbackHours * HOUR_MS) {
    before = fio2[i] as Timed;
    for (let j = i - 1; j >= 0 && (fio2[j] as Timed).timeMs === before.timeMs; j--) {
      if ((fio2[j] as Timed).m.value > before.m.value) before = fio2[j] as Timed;
    }
  }
  let after: Timed | null = null;
  const k = i + 1;
  if (k < fio2.length && (fio2[k] as Timed).timeMs - ms <= lookaheadHours * HOUR_MS) {
    after = fio2[k] as Timed;
    for (let j = k + 1; j < fio2.length && (fio2[j] as Timed).timeMs === after.timeMs; j++) {
      if ((fio2[j] as Timed).m.value > after.m.value) after = fio2[j] as Timed;
    }
  }
  if (before !== null && after !== null) return after.timeMs - ms < ms - before.timeMs ? after : before;
  return before ?? after;
}

function respirationEvents(patient: PreparedPatient, parameters: SofaParameters, columns: Columns): ScoredEvent[] {
  const gases = patient.byConcept.get('pao2') ?? [];
  if (gases.length === 0) return [];
  const fio2 = patient.byConcept.get('fio2') ?? [];
  const ventilation = ventilationIntervals(patient.byConcept.get('mechanical_ventilation') ?? [], parameters.respiration.ventilationStatusHoldsHours);
  const { thresholds } = parameters;
  const kpaScale = scaleForUnit(thresholds.respiration.ratio, 'kPa');
  const events: ScoredEvent[] = [];
  for (const gas of gases) {
    const paired = pairFio2(fio2, gas.timeMs, parameters);
    const fraction = paired?.m.value ?? parameters.respiration.fio2.whenMissing;
    if (fraction === null || !(fraction > 0)) continue;
    const ventilated = within(ventilation, gas.timeMs);
    const reported = columns.reported(gas.m);
    const inKpa = kpaScale !== undefined && reported !== null && columns.sameUnit('pao2', reported.unit, 'kPa');
    const pao2 = inKpa && reported !== null ? reported.value : gas.m.value;
    const ratio = pfRatio(pao2, fraction);
    const scored = scoreRespiration({ value: ratio, unit: inKpa ? 'kPa' : 'mm[Hg]' }, ventilated, thresholds);
    if (!scored.ok) continue; // unreachable: both units are columns of the table
    const fio2Text =
      paired === null
        ? `FiO2 ${formatExact(fraction)} assumed (none charted within ${parameters.respiration.fio2.lookbackHours} h)`
        : paired.timeMs === gas.timeMs
          ? `FiO2 ${formatExact(fraction)} of the same time`
          : `FiO2 ${formatExact(fraction)} charted ${formatInstant(paired.timeMs)}`;
    const derivation = () =>
      `PaO2 ${formatExact(pao2)} ${inKpa ? 'kPa' : 'mmHg'} / ${fio2Text} = ${formatExact(ratio)} ${inKpa ? 'kPa' : 'mmHg'}; ` +
      (ventilated ? 'on invasive ventilation' : 'not on invasive ventilation');
    // Severity on the canonical (mmHg) ratio so that gases scored on different columns compare.
    events.push(point(gas, scored.value, 0, -pfRatio(gas.m.value, fraction), paired === null ? [gas.m] : [gas.m, paired.m], derivation));
  }
  return events;
}

// --- cardiovascular ---------------------------------------------------------------------------

/** A stretch of constant combined rate of one drug. */
interface Piece {
  fromMs: number;
  toMs: number;
  rate: number;
  sources: SofaMeasurement[];
}

/**
 * The combined rate of one drug over time, as pieces of constant rate [from, to): infusions with
 * an end run [time, endTime); a rate without an end runs until the next charting of the drug,
 * at most `rateWithoutEndHoldsHours`. Overlapping infusions add up or the highest counts.
 */
function ratePieces(list: readonly Timed[], parameters: SofaParameters): Piece[] {
  const holdMs = parameters.vasopressors.rateWithoutEndHoldsHours * HOUR_MS;
  const segments: Array<{ from: number; to: number; rate: number; m: SofaMeasurement }> = [];
  list.forEach((t, i) => {
    let to = t.endMs;
    if (to === null) {
      let j = i + 1;
      while (j < list.length && (list[j] as Timed).timeMs === t.timeMs) j++;
      const next = list[j];
      to = Math.min(t.timeMs + holdMs, next === undefined ? Infinity : next.timeMs);
    }
    if (to > t.timeMs) segments.push({ from: t.timeMs, to, rate: t.m.value, m: t.m });
  });
  if (segments.length === 0) return [];
  const cuts = [...new Set(segments.flatMap((s) => [s.from, s.to]))].sort((a, b) => a - b);
  segments.sort((a, b) => a.from - b.from);
  const pieces: Piece[] = [];
  let active: typeof segments = [];
  let next = 0;
  for (let c = 0; c + 1 < cuts.length; c++) {
    const from = cuts[c] as number;
    const to = cuts[c + 1] as number;
    active = active.filter((s) => s.to > from);
    while (next < segments.length && (segments[next] as (typeof segments)[number]).from <= from) active.push(segments[next++] as (typeof segments)[number]);
    if (active.length === 0) continue;
    const rate =
      parameters.vasopressors.concurrentSameDrug === 'sum'
        ? decimalRound(active.reduce((sum, s) => sum + s.rate, 0))
        : Math.max(...active.map((s) => s.rate));
    const last = pieces[pieces.length - 1];
    if (last !== undefined && last.toMs === from && last.rate === rate) {
      last.toMs = to;
      for (const s of active) if (!last.sources.includes(s.m)) last.sources.push(s.m);
    } else pieces.push({ fromMs: from, toMs: to, rate, sources: active.map((s) => s.m) });
  }
  return pieces;
}

/** Runs of pieces without a gap. */
function runs(pieces: readonly Piece[]): Piece[][] {
  const out: Piece[][] = [];
  for (const piece of pieces) {
    const run = out[out.length - 1];
    const last = run?.[run.length - 1];
    if (run !== undefined && last !== undefined && last.toMs === piece.fromMs) run.push(piece);
    else out.push([piece]);
  }
  return out;
}

const DRUG_KIND: Record<Catecholamine, number> = { norepinephrine: 0, epinephrine: 1, dopamine: 2, dobutamine: 3 };
const MAP_KIND = 4;

function cardiovascularEvents(patient: PreparedPatient, parameters: SofaParameters, grid: Grid): ScoredEvent[] {
  const { thresholds } = parameters;
  const events: ScoredEvent[] = [];
  for (const t of patient.byConcept.get('map') ?? []) {
    events.push(point(t, scoreMap(t.m.value, thresholds), MAP_KIND, -t.m.value, [t.m]));
  }
  for (const drug of CATECHOLAMINES) {
    const list = patient.byConcept.get(drug);
    if (list === undefined) continue;
    const pieces = ratePieces(list, parameters);
    const dose = parameters.vasopressors.dose;
    const event = (fromMs: number, toMs: number, timeMs: number, rate: number, sources: readonly SofaMeasurement[], derivation: () => string): ScoredEvent => ({
      fromMs,
      toMs,
      timeMs,
      result: scoreCatecholamine(drug, rate, thresholds),
      kind: DRUG_KIND[drug],
      severity: rate,
      derivation,
      inputs: sources,
    });
    if (dose.kind === 'rate-at-hour-end') {
      // The rate running at each hour's end g (from < g <= to). In a window that holds its
      // start, the hour ending at g is [g - 1 h, g): the sample is placed at g - 1 h.
      const shift = grid.closure === 'end-inclusive' ? 0 : HOUR_MS;
      for (const piece of pieces) {
        const first = Math.floor((piece.fromMs - grid.anchorMs) / HOUR_MS) + 1;
        const last = Math.floor((piece.toMs - grid.anchorMs) / HOUR_MS);
        for (let k = first; k <= last; k++) {
          const g = grid.anchorMs + k * HOUR_MS;
          events.push(event(g - shift, g - shift, g, piece.rate, piece.sources, () => `${drug} rate running at the end of the hour ending ${formatInstant(g)}`));
        }
      }
    } else if (dose.kind === 'held-rate') {
      const minimumMs = dose.minimumMinutes * MINUTE_MS;
      for (const run of runs(pieces)) {
        for (const held of heldLevels(run)) {
          if (held.toMs - held.fromMs < minimumMs) continue;
          const derivation = () => `${drug} >= ${formatExact(held.rate)} ug/kg/min held from ${formatInstant(held.fromMs)} to ${formatInstant(held.toMs)} (at least ${dose.minimumMinutes} min required)`;
          events.push(event(held.fromMs + minimumMs, held.toMs, held.fromMs + minimumMs, held.rate, held.sources, derivation));
        }
      }
    } else {
      const minimumMs = dose.minimumMinutes * MINUTE_MS;
      for (const run of runs(pieces)) {
        const first = run[0] as Piece;
        const last = run[run.length - 1] as Piece;
        if (last.toMs - first.fromMs < minimumMs) continue;
        for (const piece of run) {
          const derivation = () => `${drug} ${formatExact(piece.rate)} ug/kg/min in a run from ${formatInstant(first.fromMs)} to ${formatInstant(last.toMs)} (at least ${dose.minimumMinutes} min required)`;
          events.push(event(piece.fromMs, piece.toMs, piece.fromMs, piece.rate, piece.sources, derivation));
        }
      }
    }
  }
  return events;
}

/**
 * For each piece of a gap-free run, the longest stretch around it where the rate stays at or
 * above the piece's rate: that rate is "held" over the stretch. The highest rate held for at
 * least D at time t (the minimum over [t - D, t)) is then the highest level whose stretch
 * [from, to) satisfies from + D <= t <= to. Nearest lower rate on each side by monotonic stacks
 * keeps this linear in the number of pieces.
 */
function heldLevels(run: readonly Piece[]): Piece[] {
  const n = run.length;
  const left = new Array<number>(n);
  const right = new Array<number>(n);
  const stack: number[] = [];
  for (let i = 0; i < n; i++) {
    while (stack.length > 0 && (run[stack[stack.length - 1] as number] as Piece).rate >= (run[i] as Piece).rate) stack.pop();
    left[i] = stack.length === 0 ? 0 : (stack[stack.length - 1] as number) + 1;
    stack.push(i);
  }
  stack.length = 0;
  for (let i = n - 1; i >= 0; i--) {
    while (stack.length > 0 && (run[stack[stack.length - 1] as number] as Piece).rate >= (run[i] as Piece).rate) stack.pop();
    right[i] = stack.length === 0 ? n - 1 : (stack[stack.length - 1] as number) - 1;
    stack.push(i);
  }
  const seen = new Set<string>();
  const levels: Piece[] = [];
  for (let i = 0; i < n; i++) {
    const from = (run[left[i] as number] as Piece).fromMs;
    const to = (run[right[i] as number] as Piece).toMs;
    const rate = (run[i] as Piece).rate;
    const key = `${from}:${to}:${rate}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const sources = run.slice(left[i], (right[i] as number) + 1).flatMap((p) => p.sources);
    levels.push({ fromMs: from, toMs: to, rate, sources: [...new Set(sources)] });
  }
  return levels;
}

// --- renal: urine output ----------------------------------------------------------------------

export interface UrineInterval {
  fromMs: number;
  toMs: number;
  volumeMl: number;
  m: SofaMeasurement;
}

/**
 * Urine chartings as intervals, sorted by end: [time, endTime) when the end is charted; else the
 * volume charted at `time` covers the time since the previous urine charting (the first one:
 * since the patient's first measurement), as mimic-code's urine_output_rate.sql does.
 */
export function urineIntervals(patient: PreparedPatient): UrineInterval[] {
  const list = patient.byConcept.get('urine_output') ?? [];
  const charted = [...list].sort((a, b) => (a.endMs ?? a.timeMs) - (b.endMs ?? b.timeMs));
  const out: UrineInterval[] = [];
  let previousEnd = patient.firstMs;
  for (const t of charted) {
    const end = t.endMs ?? t.timeMs;
    const start = t.endMs !== null ? t.timeMs : Math.min(previousEnd, end);
    out.push({ fromMs: start, toMs: end, volumeMl: t.m.value, m: t.m });
    previousEnd = end;
  }
  return out;
}

/**
 * The 24 h urine volume of `volumeMl` charted over `coveredMs`, or null outside the coverage
 * range. `text` writes it in words; a function because most volumes never reach an explanation
 * (every charting is scored, one per window wins) and writing exact decimals is the dear part.
 */
function urineResult(volumeMl: number, coveredMs: number, parameters: SofaParameters): { mlPerDay: number; text: () => string } | null {
  const { coverageHours, scaleTo24h } = parameters.urineOutput;
  if (coveredMs < coverageHours.min * HOUR_MS || coveredMs > coverageHours.max * HOUR_MS) return null;
  const hours = coveredMs / HOUR_MS;
  const charted = () => `${formatExact(decimalRound(volumeMl))} mL charted over ${formatExact(decimalRound(hours))} h`;
  if (!scaleTo24h) return { mlPerDay: decimalRound(volumeMl), text: charted };
  const mlPerDay = decimalRound((volumeMl * 24 * HOUR_MS) / coveredMs);
  return { mlPerDay, text: () => `${charted()}, scaled to 24 h: ${formatExact(mlPerDay)} mL` };
}

/**
 * 'rolling-at-charting': at each charting end t, the volume of the chartings ending in
 * [t - lookback, t] and the hours they cover; scored when the coverage is in range. With
 * `withinHour: 'best'`, of the volumes charted within one hour of the grid only the highest is
 * kept (mimic-code: MAX(uo_24hr) per hour, then the worst hour of the 24).
 */
function rollingUrineEvents(patient: PreparedPatient, parameters: SofaParameters, grid: Grid): ScoredEvent[] {
  const intervals = urineIntervals(patient);
  const lookbackMs = parameters.urineOutput.lookbackHours * HOUR_MS;
  const events: ScoredEvent[] = [];
  let first = 0;
  let added = 0;
  for (let j = 0; j < intervals.length; j++) {
    // Chartings ending at the same instant are evaluated together, at their first index.
    if (j < added) continue;
    const t = (intervals[j] as UrineInterval).toMs;
    while (added < intervals.length && (intervals[added] as UrineInterval).toMs <= t) added++;
    while (first < added && (intervals[first] as UrineInterval).toMs < t - lookbackMs) first++;
    // Summed afresh (at most a day of chartings) rather than kept as a running sum that drifts.
    let volume = 0;
    let covered = 0;
    for (let k = first; k < added; k++) {
      const u = intervals[k] as UrineInterval;
      volume += u.volumeMl;
      covered += u.toMs - u.fromMs;
    }
    const scored = urineResult(volume, covered, parameters);
    if (scored === null) continue;
    const inputs = intervals.slice(first, added).map((u) => u.m);
    // The volume describes the time up to t: in windows that hold their start, it belongs to the
    // window holding the instant just before t (a charting at 08:00 closes the day ending 08:00).
    const position = grid.closure === 'start-inclusive' ? t - 1 : t;
    events.push({
      fromMs: position,
      toMs: position,
      timeMs: t,
      result: scoreUrineOutput(scored.mlPerDay, parameters.thresholds),
      kind: 1,
      severity: -scored.mlPerDay,
      derivation: () => `${scored.text()} (chartings ending ${formatInstant(t - lookbackMs)} to ${formatInstant(t)})`,
      inputs,
    });
  }
  if (parameters.urineOutput.withinHour === 'worst') return events;
  // mimic-code keeps the highest 24 h volume charted within each hour of its grid.
  const best = new Map<number, ScoredEvent>();
  for (const e of events) {
    const offset = (e.fromMs - grid.anchorMs) / HOUR_MS;
    const hour = grid.closure === 'end-inclusive' ? Math.ceil(offset) : Math.floor(offset);
    const kept = best.get(hour);
    if (kept === undefined || e.severity < kept.severity) best.set(hour, e);
  }
  return [...best.values()];
}

/**
 * 'window-total': the urine volume of any window, from cumulative volume and coverage functions
 * (piecewise linear in time; an interval contributes its volume evenly over its duration).
 * Zero-length chartings count their volume at their instant and cover no time.
 */
export class UrineTotals {
  readonly #times: number[] = [];
  readonly #volume: number[] = [];
  readonly #volumeSlope: number[] = [];
  readonly #covered: number[] = [];
  readonly #coveredSlope: number[] = [];
  readonly #points: UrineInterval[];
  readonly #intervals: UrineInterval[];
  readonly #longestMs: number;

  constructor(intervals: readonly UrineInterval[]) {
    this.#intervals = intervals.filter((u) => u.toMs > u.fromMs).sort((a, b) => a.fromMs - b.fromMs);
    this.#points = intervals.filter((u) => u.toMs === u.fromMs).sort((a, b) => a.fromMs - b.fromMs);
    this.#longestMs = this.#intervals.reduce((max, u) => Math.max(max, u.toMs - u.fromMs), 0);
    const changes = new Map<number, { volume: number; covered: number }>();
    const change = (ms: number, volume: number, covered: number) => {
      const c = changes.get(ms) ?? { volume: 0, covered: 0 };
      c.volume += volume;
      c.covered += covered;
      changes.set(ms, c);
    };
    for (const u of this.#intervals) {
      const slope = u.volumeMl / (u.toMs - u.fromMs);
      change(u.fromMs, slope, 1);
      change(u.toMs, -slope, -1);
    }
    let volume = 0;
    let covered = 0;
    let volumeSlope = 0;
    let coveredSlope = 0;
    let previous = -Infinity;
    for (const ms of [...changes.keys()].sort((a, b) => a - b)) {
      if (previous !== -Infinity) {
        volume += volumeSlope * (ms - previous);
        covered += coveredSlope * (ms - previous);
      }
      const c = changes.get(ms) as { volume: number; covered: number };
      volumeSlope += c.volume;
      coveredSlope += c.covered;
      this.#times.push(ms);
      this.#volume.push(volume);
      this.#covered.push(covered);
      this.#volumeSlope.push(volumeSlope);
      this.#coveredSlope.push(coveredSlope);
      previous = ms;
    }
  }

  /** Cumulative volume and covered milliseconds up to `ms`. */
  #at(ms: number): { volume: number; covered: number } {
    let lo = 0;
    let hi = this.#times.length - 1;
    let i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((this.#times[mid] as number) <= ms) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (i < 0) return { volume: 0, covered: 0 };
    const dt = ms - (this.#times[i] as number);
    return {
      volume: (this.#volume[i] as number) + (this.#volumeSlope[i] as number) * dt,
      covered: (this.#covered[i] as number) + (this.#coveredSlope[i] as number) * dt,
    };
  }

  /** The scored urine output of the window [loMs, hiMs] (closure for zero-length chartings), or null. */
  window(loMs: number, hiMs: number, closure: WindowClosure, parameters: SofaParameters): ScoredEvent | null {
    const inWindow = (ms: number) => (closure === 'start-inclusive' ? ms >= loMs && ms < hiMs : ms > loMs && ms <= hiMs);
    const a = this.#at(loMs);
    const b = this.#at(hiMs);
    let volume = b.volume - a.volume;
    const covered = Math.round(b.covered - a.covered);
    const points = this.#points.filter((u) => inWindow(u.fromMs));
    for (const u of points) volume += u.volumeMl;
    if (covered === 0 && points.length === 0) return null;
    const scored = urineResult(volume, covered, parameters);
    if (scored === null) return null;
    const inputs: SofaMeasurement[] = [];
    for (const u of this.#intervals) {
      if (u.fromMs >= hiMs) break;
      if (u.fromMs + this.#longestMs <= loMs) continue;
      if (u.toMs > loMs) inputs.push(u.m);
    }
    inputs.push(...points.map((u) => u.m));
    return {
      fromMs: hiMs,
      toMs: hiMs,
      timeMs: hiMs,
      result: scoreUrineOutput(scored.mlPerDay, parameters.thresholds),
      kind: 1,
      severity: -scored.mlPerDay,
      derivation: () => `${scored.text()} within ${formatInstant(loMs)} to ${formatInstant(hiMs)}`,
      inputs,
    };
  }
}
