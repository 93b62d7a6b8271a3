/**
 * SOFA over time from raw canonical measurements: day scores (day k = [start + 24(k-1) h,
 * start + 24k h)) and hourly rolling 24 h scores, each with the six components (null when
 * nothing was measured), the total (missing counted as 0) and the list of missing components,
 * and for every component the input that decided it.
 *
 * Measurements are indexed once per concept (sorted by time); a window then reads only its own
 * slice by binary search, so a long stay costs O(n log n + windows x window size).
 */
import type { IsoDateTime, Measurement, Provenance } from '../types.ts';
import { DEFAULT_SOFA_PRESET, SOFA_COMPONENTS, SOFA_PRESETS, type SofaComponent, type SofaParameters } from './rules.ts';
import {
  type CardiovascularInputs,
  cardiovascularPoints,
  cnsPoints,
  coagulationPoints,
  pfRatio,
  respirationPoints,
  risingPoints,
  urineOutputPoints,
} from './score.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The input behind a component's points, for explanations. */
export interface SofaInput {
  concept: string;
  value: number;
  unit: string;
  time: IsoDateTime;
  endTime?: IsoDateTime;
  provenance?: Provenance;
  note?: string;
}

export interface SofaWindowScore {
  start: IsoDateTime;
  end: IsoDateTime;
  components: Record<SofaComponent, number | null>;
  /** Sum of the components, missing ones counted as 0 (0-24). */
  total: number;
  /** Components with no usable input in the window: scored 0 in the total, never "normal". */
  missing: SofaComponent[];
  /** What decided each component. */
  basis: Partial<Record<SofaComponent, SofaInput[]>>;
}

export interface SofaDay extends SofaWindowScore {
  day: number;
}

export interface SofaHour extends SofaWindowScore {
  /** Hours since the grid start; the window is the 24 h ending at `end`. */
  hr: number;
}

interface Timed {
  ms: number;
  endMs: number | null;
  m: Measurement;
}

/** Measurements of one patient indexed by concept and time. */
export class SofaIndex {
  readonly #byConcept = new Map<string, Timed[]>();
  readonly firstMs: number | null;
  readonly lastMs: number | null;

  constructor(measurements: readonly Measurement[]) {
    let first: number | null = null;
    let last: number | null = null;
    for (const m of measurements) {
      const ms = Date.parse(m.time);
      if (Number.isNaN(ms)) throw new RangeError(`measurement time "${m.time}" is not an ISO 8601 instant`);
      const endMs = m.endTime === undefined ? null : Date.parse(m.endTime);
      let list = this.#byConcept.get(m.concept);
      if (!list) this.#byConcept.set(m.concept, (list = []));
      list.push({ ms, endMs, m });
      first = first === null ? ms : Math.min(first, ms);
      last = last === null ? Math.max(ms, endMs ?? ms) : Math.max(last, ms, endMs ?? ms);
    }
    for (const list of this.#byConcept.values()) list.sort((a, b) => a.ms - b.ms);
    this.firstMs = first;
    this.lastMs = last;
  }

  all(concept: string): readonly Timed[] {
    return this.#byConcept.get(concept) ?? [];
  }

  /** Entries with time in [fromMs, toMs] (both inclusive; callers apply the window's closure). */
  range(concept: string, fromMs: number, toMs: number): readonly Timed[] {
    const list = this.all(concept);
    return list.slice(lowerBound(list, fromMs), upperBound(list, toMs));
  }

  /** The newest entry at or before `ms`. */
  latestAtOrBefore(concept: string, ms: number): Timed | undefined {
    const list = this.all(concept);
    const index = upperBound(list, ms) - 1;
    return index >= 0 ? list[index] : undefined;
  }
}

function lowerBound(list: readonly Timed[], ms: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.ms < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(list: readonly Timed[], ms: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.ms <= ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function inputOf(entry: Timed, note?: string): SofaInput {
  const m = entry.m;
  return {
    concept: m.concept,
    value: m.reported?.value ?? m.value,
    unit: m.reported?.unit ?? m.unit,
    time: m.time,
    ...(m.endTime !== undefined ? { endTime: m.endTime } : {}),
    ...(m.provenance !== undefined ? { provenance: m.provenance } : {}),
    ...(note !== undefined ? { note } : {}),
  };
}

const isMolar = (unit: string | undefined): boolean => unit !== undefined && /mol/i.test(unit);
const isKiloPascal = (unit: string | undefined): boolean => unit !== undefined && /^k?Pa$/i.test(unit.trim());

export type WindowClosure = SofaParameters['hourlyWindowClosure'];

/** Scores one window, [fromMs, toMs) or (fromMs, toMs]. */
export function scoreWindow(index: SofaIndex, fromMs: number, toMs: number, parameters: SofaParameters, closure: WindowClosure = 'closed-open'): SofaWindowScore {
  const inWindow =
    closure === 'closed-open' ? (ms: number) => ms >= fromMs && ms < toMs : (ms: number) => ms > fromMs && ms <= toMs;
  const slice = (concept: string): Timed[] => index.range(concept, fromMs, toMs).filter((e) => inWindow(e.ms));
  const components = {} as Record<SofaComponent, number | null>;
  const basis: Partial<Record<SofaComponent, SofaInput[]>> = {};
  const set = (component: SofaComponent, points: number | null, inputs: SofaInput[]): void => {
    components[component] = points;
    if (points !== null) basis[component] = inputs;
  };

  // Respiration: each arterial PaO2 paired with its FiO2, scored with the ventilation status then.
  let respiration: { points: number; ratio: number; inputs: SofaInput[] } | null = null;
  for (const pao2 of slice('pao2')) {
    const fio2 = fio2For(index, pao2.ms, parameters);
    if (fio2 === null) continue;
    const ventilated = isVentilated(index, pao2.ms, parameters);
    const kPa = isKiloPascal(pao2.m.reported?.unit);
    const ratio = pfRatio(kPa ? pao2.m.reported!.value : pao2.m.value, fio2.value);
    const points = respirationPoints(ratio, ventilated, kPa ? 'kPa' : 'mmHg');
    if (!respiration || points > respiration.points || (points === respiration.points && ratio < respiration.ratio)) {
      const note = `P/F ${ratio} ${kPa ? 'kPa' : 'mmHg'}${ventilated ? ', ventilated' : ', not ventilated'}`;
      respiration = { points, ratio, inputs: [inputOf(pao2, note), fio2.input] };
    }
  }
  set('respiration', respiration?.points ?? null, respiration?.inputs ?? []);

  // Coagulation: lowest platelet count.
  const platelets = minBy(slice('platelets'), (e) => e.m.value);
  set('coagulation', platelets ? coagulationPoints(platelets.m.value) : null, platelets ? [inputOf(platelets)] : []);

  // Liver: highest bilirubin points, each value against the column of the unit it was reported in.
  const liver = maxPoints(slice('bilirubin'), (e) =>
    isMolar(e.m.reported?.unit) ? risingPoints(e.m.reported!.value, parameters.liver.si) : risingPoints(e.m.value, parameters.liver.conventional),
  );
  set('liver', liver?.points ?? null, liver ? [inputOf(liver.entry)] : []);

  // Cardiovascular: lowest MAP and the highest catecholamine rate of each drug.
  const map = minBy(slice('map'), (e) => e.m.value);
  const rates = vasopressorRates(index, fromMs, toMs, parameters);
  const cvInputs: CardiovascularInputs = {
    mapMmHg: map?.m.value ?? null,
    dopamine: rates.dopamine?.rate ?? null,
    dobutamine: rates.dobutamine?.rate ?? null,
    epinephrine: rates.epinephrine?.rate ?? null,
    norepinephrine: rates.norepinephrine?.rate ?? null,
  };
  const anyCv = map !== undefined || Object.values(rates).some((r) => r !== undefined);
  set(
    'cardiovascular',
    anyCv ? cardiovascularPoints(cvInputs) : null,
    [...(map ? [inputOf(map)] : []), ...Object.values(rates).flatMap((r) => (r ? [r.input] : []))],
  );

  // CNS: lowest Glasgow coma score.
  const gcs = minBy(slice('gcs'), (e) => e.m.value);
  set('cns', gcs ? cnsPoints(gcs.m.value) : null, gcs ? [inputOf(gcs)] : []);

  // Renal: the worse of creatinine and 24 h urine output.
  const creatinine = maxPoints(slice('creatinine'), (e) =>
    isMolar(e.m.reported?.unit)
      ? risingPoints(e.m.reported!.value, parameters.renalCreatinine.si)
      : risingPoints(e.m.value, parameters.renalCreatinine.conventional),
  );
  const urine = urineOutput(index, toMs, inWindow, parameters);
  const urinePoints = urine === null ? null : urineOutputPoints(urine.mlPerDay);
  if (creatinine === undefined && urinePoints === null) set('renal', null, []);
  else if (urinePoints !== null && (creatinine === undefined || urinePoints > creatinine.points)) set('renal', urinePoints, urine!.inputs);
  else set('renal', creatinine!.points, [inputOf(creatinine!.entry)]);

  const missing = SOFA_COMPONENTS.filter((c) => components[c] === null);
  const total = SOFA_COMPONENTS.reduce((sum, c) => sum + (components[c] ?? 0), 0);
  return { start: new Date(fromMs).toISOString(), end: new Date(toMs).toISOString(), components, total, missing, basis };
}

function minBy(entries: readonly Timed[], value: (e: Timed) => number): Timed | undefined {
  let best: Timed | undefined;
  for (const e of entries) if (!best || value(e) < value(best)) best = e;
  return best;
}

function maxPoints(entries: readonly Timed[], points: (e: Timed) => number): { points: number; entry: Timed } | undefined {
  let best: { points: number; entry: Timed } | undefined;
  for (const entry of entries) {
    const p = points(entry);
    if (!best || p > best.points || (p === best.points && entry.m.value > best.entry.m.value)) best = { points: p, entry };
  }
  return best;
}

/** FiO2 (fraction) for a PaO2 at `ms`: charted at the same time, else the latest within the lookback; else the default. */
function fio2For(index: SofaIndex, ms: number, parameters: SofaParameters): { value: number; input: SofaInput } | null {
  const latest = index.latestAtOrBefore('fio2', ms);
  if (latest && ms - latest.ms <= parameters.respiration.fio2LookbackHours * HOUR_MS) {
    return { value: latest.m.value, input: inputOf(latest) };
  }
  const fallback = parameters.respiration.fio2Default;
  if (fallback === null) return null;
  return { value: fallback, input: { concept: 'fio2', value: fallback, unit: '1', time: new Date(ms).toISOString(), note: 'no FiO2 charted: room air assumed' } };
}

/** Invasive ventilation at `ms`: inside a ventilation interval, or the latest 1/0 flag (held for a while). */
function isVentilated(index: SofaIndex, ms: number, parameters: SofaParameters): boolean {
  let latestPoint: Timed | undefined;
  for (const entry of index.all('mechanical_ventilation')) {
    if (entry.ms > ms) break;
    if (entry.endMs !== null) {
      if (entry.m.value === 1 && ms >= entry.ms && ms <= entry.endMs) return true;
    } else {
      latestPoint = entry;
    }
  }
  return latestPoint !== undefined && latestPoint.m.value === 1 && ms - latestPoint.ms <= parameters.respiration.ventilationFlagHoldHours * HOUR_MS;
}

type Drug = 'norepinephrine' | 'epinephrine' | 'dopamine' | 'dobutamine';
const DRUGS: readonly Drug[] = ['norepinephrine', 'epinephrine', 'dopamine', 'dobutamine'];

interface Segment {
  startMs: number;
  endMs: number;
  rate: number;
  entry: Timed;
}

/** Infusion segments of a drug: charted intervals as given; a point rate holds until the next charting (bounded). */
function segments(index: SofaIndex, drug: Drug, parameters: SofaParameters): Segment[] {
  const list = index.all(drug);
  const out: Segment[] = [];
  for (let i = 0; i < list.length; i++) {
    const entry = list[i]!;
    if (!(entry.m.value > 0)) continue;
    let endMs = entry.endMs;
    if (endMs === null) {
      let j = i + 1;
      while (j < list.length && list[j]!.ms <= entry.ms) j++;
      endMs = Math.min(list[j]?.ms ?? Number.POSITIVE_INFINITY, entry.ms + parameters.vasopressors.pointRateHoldHours * HOUR_MS);
    }
    if (endMs > entry.ms) out.push({ startMs: entry.ms, endMs, rate: entry.m.value, entry });
  }
  return out;
}

function vasopressorRates(
  index: SofaIndex,
  fromMs: number,
  toMs: number,
  parameters: SofaParameters,
): Record<Drug, { rate: number; input: SofaInput } | undefined> {
  const result = {} as Record<Drug, { rate: number; input: SofaInput } | undefined>;
  for (const drug of DRUGS) {
    const segs = segments(index, drug, parameters);
    let best: Segment | undefined;
    if (parameters.vasopressors.sampling === 'hour-end') {
      // The infusion running at each hour's end (start < end <= stop), as mimic-code samples rates.
      for (let end = fromMs + HOUR_MS; end <= toMs; end += HOUR_MS) {
        for (const s of segs) if (s.startMs < end && end <= s.endMs && (!best || s.rate > best.rate)) best = s;
      }
    } else {
      // Runs of contiguous infusion of at least the minimum duration, overlapping the window.
      const minimum = parameters.vasopressors.minimumMinutes * 60_000;
      let run: Segment[] = [];
      const flush = (): void => {
        if (run.length > 0 && run[run.length - 1]!.endMs - run[0]!.startMs >= minimum) {
          for (const s of run) if (s.startMs < toMs && s.endMs > fromMs && (!best || s.rate > best.rate)) best = s;
        }
        run = [];
      };
      for (const s of [...segs].sort((a, b) => a.startMs - b.startMs)) {
        if (run.length > 0 && s.startMs > Math.max(...run.map((r) => r.endMs))) flush();
        run.push(s);
      }
      flush();
    }
    result[drug] = best ? { rate: best.rate, input: inputOf(best.entry, `${drug} ${best.rate} ug/kg/min`) } : undefined;
  }
  return result;
}

/**
 * Urine output of the window in mL/day: the volumes charted in the window, over the hours their
 * collection intervals cover, scaled to 24 h, and only when the coverage is within the preset's
 * bounds (22-30 h): less charting would understate oliguria, a guess is never made.
 */
function urineOutput(
  index: SofaIndex,
  toMs: number,
  inWindow: (ms: number) => boolean,
  parameters: SofaParameters,
): { mlPerDay: number; inputs: SofaInput[] } | null {
  const all = index.all('urine_output');
  let volume = 0;
  let coveredMs = 0;
  const inputs: SofaInput[] = [];
  for (let i = 0; i < all.length; i++) {
    const entry = all[i]!;
    // A collection is charted at its end; a point charting covers the time since the previous one.
    const endMs = entry.endMs ?? entry.ms;
    if (!inWindow(endMs)) continue;
    const startMs = entry.endMs !== null ? entry.ms : i > 0 ? (all[i - 1]!.endMs ?? all[i - 1]!.ms) : null;
    if (startMs === null) continue;
    volume += entry.m.value;
    coveredMs += endMs - startMs;
    inputs.push(inputOf(entry));
  }
  const hours = coveredMs / HOUR_MS;
  if (inputs.length === 0 || hours < parameters.urineOutput.minCoverageHours || hours > parameters.urineOutput.maxCoverageHours) return null;
  const mlPerDay = (volume * 24) / hours;
  inputs.unshift({
    concept: 'urine_output_24h',
    value: Number(mlPerDay.toPrecision(10)),
    unit: 'mL/d',
    time: new Date(toMs).toISOString(),
    note: `${volume} mL over ${Number(hours.toFixed(3))} h charted, scaled to 24 h`,
  });
  return { mlPerDay, inputs };
}

export interface SofaDaysOptions {
  /** Start of day 1 (default: the first measurement). */
  start?: IsoDateTime;
  /** Number of days (default: through the last measurement, or `until`). */
  days?: number;
  /** No day starts at or after this instant. */
  until?: IsoDateTime;
  preset?: string;
  parameters?: SofaParameters;
}

function parametersOf(options: { preset?: string; parameters?: SofaParameters }): SofaParameters {
  if (options.parameters) return options.parameters;
  const preset = SOFA_PRESETS[options.preset ?? DEFAULT_SOFA_PRESET];
  if (!preset) throw new RangeError(`unknown SOFA preset "${options.preset}"`);
  return preset;
}

/** Day scores: day k is [start + 24(k-1) h, start + 24k h) (closure by preset). */
export function sofaDays(measurements: readonly Measurement[], options: SofaDaysOptions = {}): SofaDay[] {
  const parameters = parametersOf(options);
  const index = new SofaIndex(measurements);
  if (index.firstMs === null) return [];
  const startMs = options.start !== undefined ? Date.parse(options.start) : index.firstMs;
  if (Number.isNaN(startMs)) throw new RangeError(`start "${options.start}" is not an ISO 8601 instant`);
  const lastMs = options.until !== undefined ? Date.parse(options.until) - 1 : index.lastMs!;
  const count = options.days ?? Math.max(0, Math.floor((lastMs - startMs) / DAY_MS) + 1);
  const days: SofaDay[] = [];
  for (let k = 1; k <= count; k++) {
    const from = startMs + (k - 1) * DAY_MS;
    days.push({ day: k, ...scoreWindow(index, from, from + DAY_MS, parameters, 'closed-open') });
  }
  return days;
}

export interface SofaHoursOptions {
  /** Hour 0 ends one hour after this instant. */
  start: IsoDateTime;
  hours: number;
  preset?: string;
  parameters?: SofaParameters;
}

/** Hourly rolling scores: hour h is scored on the 24 h window ending at start + (h + 1) h. */
export function sofaHours(measurements: readonly Measurement[], options: SofaHoursOptions): SofaHour[] {
  const parameters = parametersOf(options);
  const index = new SofaIndex(measurements);
  const startMs = Date.parse(options.start);
  const hours: SofaHour[] = [];
  for (let hr = 0; hr < options.hours; hr++) {
    const end = startMs + (hr + 1) * HOUR_MS;
    hours.push({ hr, ...scoreWindow(index, end - DAY_MS, end, parameters, parameters.hourlyWindowClosure) });
  }
  return hours;
}
