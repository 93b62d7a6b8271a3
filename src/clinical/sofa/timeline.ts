/**
 * SOFA over time, from a patient's raw canonical measurements:
 * - days: day k covers [start + 24(k - 1) h, start + 24k h), start defaulting to the patient's
 *   first measurement (any concept); each component is the worst value in the day;
 * - hourly rows: row hr >= 0 scores the 24 h window ending at anchor + hr h (mimic-code's
 *   `sofa` table layout), the window's closed edge set by the preset.
 * Each window reports the six component scores (null when nothing was measured), the total
 * (missing counted 0), the missing components, and the worst input behind each score.
 *
 * Cost: one sort of the measurements, then a sweep over windows in time order. Per component,
 * events enter a heap when the window reaches them and leave it (lazily) once the window has
 * passed them, so a timeline of n measurements and w windows costs O((n + w) log n).
 */
import { DAY_MS, HOUR_MS, formatInstant, parseInstant } from '../instant.ts';
import { type IsoDateTime, type Measurement, type Result, err, ok } from '../types.ts';
import { type Grid, type PreparedPatient, type ScoredEvent, UrineTotals, componentEvents, preparePatient, urineIntervals } from './events.ts';
import { Heap } from './heap.ts';
import { sofaTotal } from './organs.ts';
import { DEFAULT_SOFA_PARAMETERS, type SofaParameters, type WindowClosure, checkSofaParameters, findSofaPreset } from './parameters.ts';
import {
  SOFA_COMPONENTS,
  type SofaComponent,
  type SofaComponentEvidence,
  type SofaComponentScores,
  type SofaDay,
  type SofaHour,
  type SofaInputError,
  type SofaInputRef,
  type SofaMeasurement,
  type SofaWindowScore,
} from './types.ts';

export interface SofaRunInfo {
  patientId: string;
  /** The preset (parameter set) and threshold table used: every output names them. */
  preset: { id: string; version: string };
  thresholds: { id: string; version: string };
}

export interface SofaDaysOptions {
  parameters?: SofaParameters;
  /** Start of day 1 (default: the patient's first measurement). */
  start?: IsoDateTime;
  /** Only days starting before this instant (default: through the day of the last measurement). */
  until?: IsoDateTime;
  /** Number of days (overrides `until`). */
  days?: number;
}

export interface SofaDaysResult extends SofaRunInfo {
  /** Start of day 1; null when there is nothing to score. */
  start: IsoDateTime | null;
  days: SofaDay[];
}

export interface SofaHourlyOptions {
  parameters?: SofaParameters;
  /** Anchor of the hour grid, hr 0 ending there (default: the first measurement; rounded up to the clock hour when the preset says so). */
  anchor?: IsoDateTime;
  /** Last instant to cover (default: the last measurement). */
  until?: IsoDateTime;
}

export interface SofaHourlyResult extends SofaRunInfo {
  /** End of hour row 0; null when there is nothing to score. */
  anchor: IsoDateTime | null;
  hours: SofaHour[];
}

interface Window {
  loMs: number;
  hiMs: number;
}

/** Daily SOFA of ONE patient's measurements. */
export function scoreSofaDays(measurements: readonly SofaMeasurement[], options: SofaDaysOptions = {}): Result<SofaDaysResult, SofaInputError> {
  const setup = begin(measurements, options.parameters);
  if (!setup.ok) return setup;
  const { patient, parameters, info } = setup.value;
  const startMs = options.start === undefined ? patient?.firstMs : parseInstant(options.start);
  if (startMs === null) return err({ kind: 'invalid-time', message: `start "${options.start}" is not an ISO 8601 instant with a time zone` });
  const untilMs = options.until === undefined ? undefined : parseInstant(options.until);
  if (untilMs === null) return err({ kind: 'invalid-time', message: `until "${options.until}" is not an ISO 8601 instant with a time zone` });
  if (options.days !== undefined && !(Number.isInteger(options.days) && options.days >= 0)) {
    return err({ kind: 'invalid-parameters', message: `days must be a whole number >= 0 (got ${options.days})` });
  }
  if (startMs === undefined) return ok({ ...info, start: null, days: [] });
  if (patient === null) return ok({ ...info, start: formatInstant(startMs), days: [] });

  // Through the day holding the last instant covered, or the days starting before `until`.
  const lastMs = untilMs === undefined ? patient.lastMs : untilMs - 1;
  const count = options.days ?? Math.max(0, Math.floor((lastMs - startMs) / DAY_MS) + 1);
  const windows: Window[] = [];
  for (let k = 1; k <= count; k++) windows.push({ loMs: startMs + (k - 1) * DAY_MS, hiMs: startMs + k * DAY_MS });
  const scored = scoreWindows(patient, parameters, { anchorMs: startMs, closure: 'start-inclusive' }, windows);
  return ok({ ...info, start: formatInstant(startMs), days: scored.map((w, i) => ({ day: i + 1, ...w })) });
}

/** Hourly rolling 24 h SOFA of ONE patient's measurements. */
export function scoreSofaHours(measurements: readonly SofaMeasurement[], options: SofaHourlyOptions = {}): Result<SofaHourlyResult, SofaInputError> {
  const setup = begin(measurements, options.parameters);
  if (!setup.ok) return setup;
  const { patient, parameters, info } = setup.value;
  let anchorMs = options.anchor === undefined ? patient?.firstMs : parseInstant(options.anchor);
  if (anchorMs === null) return err({ kind: 'invalid-time', message: `anchor "${options.anchor}" is not an ISO 8601 instant with a time zone` });
  const untilMs = options.until === undefined ? patient?.lastMs : parseInstant(options.until);
  if (untilMs === null) return err({ kind: 'invalid-time', message: `until "${options.until}" is not an ISO 8601 instant with a time zone` });
  if (anchorMs === undefined) return ok({ ...info, anchor: null, hours: [] });
  if (parameters.hourly.alignToClockHour) anchorMs = Math.ceil(anchorMs / HOUR_MS) * HOUR_MS;
  if (patient === null || untilMs === undefined) return ok({ ...info, anchor: formatInstant(anchorMs), hours: [] });

  const closure = parameters.hourly.closure;
  const offset = (untilMs - anchorMs) / HOUR_MS;
  const last = closure === 'end-inclusive' ? Math.ceil(offset) : Math.floor(offset) + 1;
  const windows: Window[] = [];
  for (let hr = 0; hr <= last; hr++) {
    const endMs = anchorMs + hr * HOUR_MS;
    windows.push({ loMs: endMs - DAY_MS, hiMs: endMs });
  }
  const scored = scoreWindows(patient, parameters, { anchorMs, closure }, windows);
  return ok({
    ...info,
    anchor: formatInstant(anchorMs),
    hours: scored.map((w, hr) => ({ hr, hourStart: formatInstant(anchorMs + (hr - 1) * HOUR_MS), ...w })),
  });
}

/** Daily SOFA of every patient in `measurements`, in order of first appearance. */
export function sofaDaysByPatient(
  measurements: readonly SofaMeasurement[],
  options: SofaDaysOptions = {},
): Result<SofaDaysResult[], SofaInputError & { patientId: string }> {
  const results: SofaDaysResult[] = [];
  for (const [patientId, own] of groupByPatient(measurements)) {
    const result = scoreSofaDays(own, options);
    if (!result.ok) return err({ ...result.error, patientId });
    results.push(result.value);
  }
  return ok(results);
}

/** Measurements grouped by patient, patients in order of first appearance. */
export function groupByPatient<M extends SofaMeasurement>(measurements: readonly M[]): Map<string, M[]> {
  const groups = new Map<string, M[]>();
  for (const m of measurements) {
    let list = groups.get(m.patientId);
    if (list === undefined) groups.set(m.patientId, (list = []));
    list.push(m);
  }
  return groups;
}

function begin(
  measurements: readonly SofaMeasurement[],
  chosen: SofaParameters | undefined,
): Result<{ patient: PreparedPatient | null; parameters: SofaParameters; info: SofaRunInfo }, SofaInputError> {
  const parameters = chosen ?? DEFAULT_SOFA_PARAMETERS;
  const problems = checkSofaParameters(parameters);
  if (problems.length > 0) return err({ kind: 'invalid-parameters', message: `SOFA parameters ${parameters.id}: ${problems.join('; ')}` });
  const info: SofaRunInfo = {
    patientId: measurements[0]?.patientId ?? '',
    preset: { id: parameters.id, version: parameters.version },
    thresholds: { id: parameters.thresholds.id, version: parameters.thresholds.version },
  };
  if (measurements.length === 0) return ok({ patient: null, parameters, info });
  const patient = preparePatient(measurements);
  if (!patient.ok) return patient;
  return ok({ patient: patient.value, parameters, info });
}

/** `a` is the worse input: higher score; then, within an input kind, the worse value; then the earlier. */
function worse(a: ScoredEvent, b: ScoredEvent): boolean {
  if (a.result.score !== b.result.score) return a.result.score > b.result.score;
  if (a.kind !== b.kind) return a.kind < b.kind;
  if (a.severity !== b.severity) return a.severity > b.severity;
  return a.timeMs < b.timeMs;
}

/**
 * Scores windows given in time order (both edges non-decreasing). `grid` places the hour-based
 * conventions (vasopressor rate at the hour's end, urine per hour) and its closure says which
 * edge of each window belongs to it.
 */
export function scoreWindows(patient: PreparedPatient, parameters: SofaParameters, grid: Grid, windows: readonly Window[]): SofaWindowScore[] {
  const events = componentEvents(patient, parameters, grid);
  const urine = parameters.urineOutput.basis === 'window-total' ? new UrineTotals(urineIntervals(patient)) : null;
  const startInclusive = grid.closure === 'start-inclusive';
  const cursors = SOFA_COMPONENTS.map((component) => ({ component, list: events[component], next: 0, heap: new Heap<ScoredEvent>(worse) }));
  // One event usually decides many consecutive hourly windows: its evidence is built once and
  // shared (outputs are read-only), as are instants printed many times.
  const explained = new Map<ScoredEvent, SofaComponentEvidence>();
  const refs = new Map<SofaMeasurement, SofaInputRef>();
  const instants = new Map<number, IsoDateTime>();
  const instant = (ms: number): IsoDateTime => {
    let text = instants.get(ms);
    if (text === undefined) instants.set(ms, (text = formatInstant(ms)));
    return text;
  };
  const evidenceOf = (component: SofaComponent, e: ScoredEvent): SofaComponentEvidence => {
    let evidence = explained.get(e);
    if (evidence === undefined) explained.set(e, (evidence = explain(component, e, instant, refs)));
    return evidence;
  };
  const out: SofaWindowScore[] = [];
  for (const { loMs, hiMs } of windows) {
    const components = {} as SofaComponentScores;
    const evidence: Partial<Record<SofaComponent, SofaComponentEvidence>> = {};
    const missing: SofaComponent[] = [];
    for (const cursor of cursors) {
      const { list, heap } = cursor;
      while (cursor.next < list.length) {
        const e = list[cursor.next] as ScoredEvent;
        if (startInclusive ? e.fromMs >= hiMs : e.fromMs > hiMs) break;
        heap.push(e);
        cursor.next++;
      }
      for (let top = heap.peek(); top !== undefined && (startInclusive ? top.toMs < loMs : top.toMs <= loMs); top = heap.peek()) heap.pop();
      let winner = heap.peek() ?? null;
      if (cursor.component === 'renal' && urine !== null) {
        const total = urine.window(loMs, hiMs, grid.closure, parameters);
        if (total !== null && (winner === null || worse(total, winner))) winner = total;
      }
      if (winner === null) {
        components[cursor.component] = null;
        missing.push(cursor.component);
      } else {
        components[cursor.component] = winner.result.score;
        evidence[cursor.component] = evidenceOf(cursor.component, winner);
      }
    }
    out.push({
      start: instant(loMs),
      end: instant(hiMs),
      interval: intervalOf(grid.closure),
      total: sofaTotal(components),
      components,
      missing,
      evidence,
    });
  }
  return out;
}

function intervalOf(closure: WindowClosure): SofaWindowScore['interval'] {
  return closure === 'start-inclusive' ? '[start, end)' : '(start, end]';
}

function explain(
  component: SofaComponent,
  e: ScoredEvent,
  instant: (ms: number) => IsoDateTime,
  refs: Map<SofaMeasurement, SofaInputRef>,
): SofaComponentEvidence {
  return {
    component,
    ...e.result,
    time: instant(e.timeMs),
    ...(e.derivation === undefined ? {} : { derivation: typeof e.derivation === 'function' ? e.derivation() : e.derivation }),
    inputs: e.inputs.map((m) => {
      let ref = refs.get(m);
      if (ref === undefined) refs.set(m, (ref = inputRef(m)));
      return ref;
    }),
  };
}

function inputRef(m: SofaMeasurement): SofaInputRef {
  return {
    concept: m.concept,
    value: m.value,
    unit: m.unit,
    time: m.time,
    ...(m.endTime === undefined ? {} : { endTime: m.endTime }),
    ...(m.reported === undefined ? {} : { reported: m.reported }),
    ...(m.provenance === undefined ? {} : { provenance: m.provenance }),
  };
}

// ---------------------------------------------------------------------------------------------
// Conveniences for callers whose measurements are already validated (store, parsers)
// ---------------------------------------------------------------------------------------------

/** Options naming a preset by id instead of passing parameters. */
export interface SofaPresetOption {
  preset?: string;
}

function parametersOf(options: SofaPresetOption & { parameters?: SofaParameters }): SofaParameters {
  if (options.parameters !== undefined) return options.parameters;
  if (options.preset === undefined) return DEFAULT_SOFA_PARAMETERS;
  const preset = findSofaPreset(options.preset);
  if (preset === undefined) throw new RangeError(`unknown SOFA preset "${options.preset}"`);
  return preset;
}

/**
 * The days of scoreSofaDays for one patient, throwing a RangeError on invalid input (unknown
 * preset, unparseable time, mixed patients). For shells and the assessment, whose measurements
 * come from the store or a parser and are valid by construction.
 */
export function sofaDays(measurements: readonly Measurement[], options: SofaDaysOptions & SofaPresetOption = {}): SofaDay[] {
  const result = scoreSofaDays(measurements, { ...options, parameters: parametersOf(options) });
  if (!result.ok) throw new RangeError(result.error.message);
  return result.value.days;
}

/** The hourly rows of scoreSofaHours, throwing a RangeError on invalid input (see sofaDays). */
export function sofaHours(measurements: readonly Measurement[], options: SofaHourlyOptions & SofaPresetOption = {}): SofaHour[] {
  const result = scoreSofaHours(measurements, { ...options, parameters: parametersOf(options) });
  if (!result.ok) throw new RangeError(result.error.message);
  return result.value.hours;
}
