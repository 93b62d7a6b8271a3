/**
 * SOFA conventions as explicit parameters, and the presets that bundle them (CLINICAL.md
 * section 6, "SOFA conventions differ between reference implementations").
 *
 * The printed table says "worst value in 24 h" and little else; implementations choose how to
 * pair PaO2 with FiO2, what "given for at least 1 h" means for an infusion, how much urine
 * charting makes a daily volume, and which column scores a value reported in SI units. Each
 * choice is a parameter here; a preset is a named, versioned, cited set of them. Every output
 * names the preset (id and version) it was computed with.
 *
 * Presets:
 * - `mimic-iv` (the default: issue 3 asks for SOFA "matching the MIMIC-IV sofa concept's
 *   conventions"): the conventions of mimic-code's MIMIC-IV `sofa` concept.
 * - `vincent1996`: the table as printed, SI values on the SI column, catecholamine rates counted
 *   when held >= 1 h, urine volume of the whole window.
 * - `ricu`: the defaults of the R package ricu (FiO2 matched within 2 h, 21 % imputed; vasopressor
 *   runs >= 60 min; urine over >= 12 h scaled to 24 h; sedated GCS 15; a catecholamine counts
 *   only above 0), as parameters of this engine.
 * A trial names its preset in its definition (src/trial/definition.ts) and reports print it.
 * For MIMIC-IV tables, `immunoguide sofa --format mimic-iv` reproduces mimic-code's concept
 * row by row (src/sources/mimic/sofa/); this engine scores canonical measurements from any source
 * with the same parameters. SOFA-2 is a new thresholds kind behind the same interface.
 */
import {
  MIMIC_CODE_SOFA,
  MIMIC_IV_THRESHOLDS,
  RICU_SOFA,
  RICU_THRESHOLDS,
  type SofaThresholds,
  VINCENT_1996,
  VINCENT_1996_THRESHOLDS,
} from './thresholds.ts';

/** Which edge of a window belongs to it. */
export type WindowClosure = 'start-inclusive' | 'end-inclusive';

export type VasopressorDose =
  /** The rate running at the end of each hour of the grid, however briefly (mimic-code). */
  | { kind: 'rate-at-hour-end' }
  /** The highest rate held without interruption for at least `minimumMinutes` ("given for at least 1 h"). */
  | { kind: 'held-rate'; minimumMinutes: number }
  /** Every rate of an uninterrupted run lasting at least `minimumMinutes` (ricu's 60-min runs). */
  | { kind: 'run'; minimumMinutes: number };

export interface SofaParameters {
  /** Preset id ("vincent1996", "mimic-iv") or a name for a custom set. */
  id: string;
  version: string;
  title: string;
  citation: string;
  thresholds: SofaThresholds;
  /**
   * 'reported': a value reported in a unit the table prints a column for (umol/L, kPa) is scored
   * on that column with the reported number. 'conventional': every value is scored in the
   * conventional unit after conversion (units.ts).
   */
  unitColumns: 'reported' | 'conventional';
  /** Hourly rolling output (sofaHourly): which edge of each 24 h window counts, and the grid. */
  hourly: {
    closure: WindowClosure;
    /** Round the grid's anchor up to a whole UTC clock hour (mimic-code's icustay_hourly). */
    alignToClockHour: boolean;
  };
  respiration: {
    /**
     * The FiO2 of a PaO2 at time t: the one charted closest to t within [t - lookbackHours,
     * t + lookaheadHours] (an FiO2 at t itself, from the same gas, comes first). `whenMissing`:
     * the fraction assumed when none is found (0.21 = room air), or null to leave the gas unscored.
     */
    fio2: { lookbackHours: number; lookaheadHours: number; whenMissing: number | null };
    /**
     * A ventilation status charted at a point in time (`mechanical_ventilation` 1/0 without an end)
     * holds until the next status charting if that comes within this many hours; otherwise it
     * covers only its own instant. Interval statuses (with an end) cover [time, endTime].
     */
    ventilationStatusHoldsHours: number;
  };
  vasopressors: {
    dose: VasopressorDose;
    /** Overlapping infusions of the same drug: their rates add up ('sum') or the highest counts ('max'). */
    concurrentSameDrug: 'sum' | 'max';
    /** A rate charted without an end runs until the next charting of that drug, at most this long. */
    rateWithoutEndHoldsHours: number;
  };
  urineOutput: {
    /**
     * 'rolling-at-charting': at each charting time, the volume charted over the previous
     * `lookbackHours` (charting end times in [t - lookback, t]); the window keeps the worst.
     * 'window-total': the volume of the scored window itself (an interval straddling the
     * window's edge contributes pro rata, assuming a constant flow).
     */
    basis: 'rolling-at-charting' | 'window-total';
    lookbackHours: number;
    /** Hours of charting (sum of the intervals) required for a volume to score; else it is ignored. */
    coverageHours: { min: number; max: number };
    /** Scale the volume to 24 h (volume x 24 / hours covered). */
    scaleTo24h: boolean;
    /** 'rolling-at-charting': of several chartings in one grid hour, keep the worst or the best (mimic-code: MAX). */
    withinHour: 'worst' | 'best';
  };
  gcs: {
    /** A GCS whose verbal response is charted as "intubated": scored as 15, or as the charted total. */
    verbalIntubated: 'score-as-15' | 'as-charted';
  };
}

const MIMIC_CODE_FILES =
  `${MIMIC_CODE_SOFA}, with the concepts it uses: demographics/icustay_hourly.sql, measurement/bg.sql, ` +
  'measurement/urine_output_rate.sql, measurement/gcs.sql, treatment/ventilation.sql, medication/*.sql';

export const VINCENT_1996_PRESET: SofaParameters = Object.freeze({
  id: 'vincent1996',
  version: '1.0.0',
  title: 'The SOFA table as printed (Vincent 1996; Sepsis-3)',
  citation: `${VINCENT_1996}; CLINICAL.md section 6`,
  thresholds: VINCENT_1996_THRESHOLDS,
  unitColumns: 'reported',
  hourly: Object.freeze({ closure: 'start-inclusive', alignToClockHour: false }),
  respiration: Object.freeze({
    // The printed table does not say how to pair the gas with FiO2: the mimic-code rule is used.
    fio2: Object.freeze({ lookbackHours: 4, lookaheadHours: 0, whenMissing: null }),
    ventilationStatusHoldsHours: 14,
  }),
  vasopressors: Object.freeze({
    // "Adrenergic agents administered for at least 1 h" (Vincent 1996, table footnote).
    dose: Object.freeze({ kind: 'held-rate', minimumMinutes: 60 }),
    concurrentSameDrug: 'sum',
    rateWithoutEndHoldsHours: 1,
  }),
  urineOutput: Object.freeze({
    // "mL/day": the volume of the whole window, which must be charted throughout (24 h of 24 h).
    basis: 'window-total',
    lookbackHours: 24,
    coverageHours: Object.freeze({ min: 24, max: 24 }),
    scaleTo24h: false,
    withinHour: 'worst',
  }),
  gcs: Object.freeze({ verbalIntubated: 'as-charted' }),
});

export const MIMIC_IV_PRESET: SofaParameters = Object.freeze({
  id: 'mimic-iv',
  version: '1.0.0',
  title: "mimic-code's MIMIC-IV sofa concept",
  citation: MIMIC_CODE_FILES,
  thresholds: MIMIC_IV_THRESHOLDS,
  unitColumns: 'conventional',
  // Hour k covers (end - 1 h, end]; the 24 h window is the 24 hourly rows ending at that hour.
  hourly: Object.freeze({ closure: 'end-inclusive', alignToClockHour: true }),
  respiration: Object.freeze({
    // bg.sql: FiO2 of the gas, else the latest charted FiO2 in the 4 h before it; no room-air default.
    fio2: Object.freeze({ lookbackHours: 4, lookaheadHours: 0, whenMissing: null }),
    // ventilation.sql: a status lasts until the next charting unless 14 h pass without one.
    ventilationStatusHoldsHours: 14,
  }),
  vasopressors: Object.freeze({
    // sofa.sql: the infusion running at the hour's end (starttime < end <= endtime), no minimum
    // duration; overlapping rows of one drug: MAX(rate).
    dose: Object.freeze({ kind: 'rate-at-hour-end' }),
    concurrentSameDrug: 'max',
    rateWithoutEndHoldsHours: 1,
  }),
  urineOutput: Object.freeze({
    // urine_output_rate.sql: chartings in [t - 23 h, t] (each taken to cover the hour before
    // it, so about 24 h of urine), scaled to 24 h when 22-30 h are covered; sofa.sql keeps the
    // highest 24 h volume charted within each hour.
    basis: 'rolling-at-charting',
    lookbackHours: 23,
    coverageHours: Object.freeze({ min: 22, max: 30 }),
    scaleTo24h: true,
    withinHour: 'best',
  }),
  // gcs.sql: a verbal response charted as intubated ("No Response-ETT") gives GCS 15.
  gcs: Object.freeze({ verbalIntubated: 'score-as-15' }),
});

export const RICU_PRESET: SofaParameters = Object.freeze({
  id: 'ricu',
  version: '1.0.0',
  title: "The R package ricu's SOFA defaults",
  citation: `${RICU_SOFA}; R/callback-cncpt.R: pafi (match_win 2 h, fix_na_fio2), vaso60, urine24 (min_win 12 h), gcs (sed_impute max), vent_ind (match_win 6 h)`,
  thresholds: RICU_THRESHOLDS,
  unitColumns: 'conventional',
  // ricu's hourly steps are [h, h + 1) on a clock counted from ICU admission, not clock hours.
  hourly: Object.freeze({ closure: 'start-inclusive', alignToClockHour: false }),
  respiration: Object.freeze({
    // pafi(): PaO2 and FiO2 matched within 2 h either way; a missing FiO2 is 21 %.
    fio2: Object.freeze({ lookbackHours: 2, lookaheadHours: 2, whenMissing: 0.21 }),
    // vent_ind(): a ventilation charting without an end lasts up to 6 h.
    ventilationStatusHoldsHours: 6,
  }),
  vasopressors: Object.freeze({
    // vaso60(): rates count only inside administration runs of at least 60 min.
    dose: Object.freeze({ kind: 'run', minimumMinutes: 60 }),
    concurrentSameDrug: 'max',
    rateWithoutEndHoldsHours: 1,
  }),
  urineOutput: Object.freeze({
    // urine24(): a 24 h moving sum, scaled to 24 h when at least 12 h of the window have data.
    basis: 'window-total',
    lookbackHours: 24,
    coverageHours: Object.freeze({ min: 12, max: 24 }),
    scaleTo24h: true,
    withinHour: 'worst',
  }),
  // gcs(sed_impute = "max"): a sedated (intubated) patient's GCS is 15.
  gcs: Object.freeze({ verbalIntubated: 'score-as-15' }),
});

/** The presets, by id. */
export const SOFA_PRESETS: Readonly<Record<string, SofaParameters>> = Object.freeze({
  'mimic-iv': MIMIC_IV_PRESET,
  ricu: RICU_PRESET,
  vincent1996: VINCENT_1996_PRESET,
});

/** Id of the preset used when none is named. */
export const DEFAULT_SOFA_PRESET = 'mimic-iv';
export const DEFAULT_SOFA_PARAMETERS: SofaParameters = MIMIC_IV_PRESET;

export function findSofaPreset(id: string): SofaParameters | undefined {
  return Object.hasOwn(SOFA_PRESETS, id) ? SOFA_PRESETS[id] : undefined;
}

/** Problems of a (custom) parameter set, in words; empty when it is usable. */
export function checkSofaParameters(p: SofaParameters): string[] {
  const problems: string[] = [];
  const nonNegative = (name: string, value: number) => {
    if (!Number.isFinite(value) || value < 0) problems.push(`${name} must be a number >= 0 (got ${value})`);
  };
  nonNegative('respiration.fio2.lookbackHours', p.respiration.fio2.lookbackHours);
  nonNegative('respiration.fio2.lookaheadHours', p.respiration.fio2.lookaheadHours);
  nonNegative('respiration.ventilationStatusHoldsHours', p.respiration.ventilationStatusHoldsHours);
  const missing = p.respiration.fio2.whenMissing;
  if (missing !== null && !(missing >= 0.21 && missing <= 1)) problems.push(`respiration.fio2.whenMissing must be null or a fraction 0.21-1 (got ${missing})`);
  if (p.vasopressors.dose.kind !== 'rate-at-hour-end') nonNegative('vasopressors.dose.minimumMinutes', p.vasopressors.dose.minimumMinutes);
  nonNegative('vasopressors.rateWithoutEndHoldsHours', p.vasopressors.rateWithoutEndHoldsHours);
  nonNegative('urineOutput.lookbackHours', p.urineOutput.lookbackHours);
  nonNegative('urineOutput.coverageHours.min', p.urineOutput.coverageHours.min);
  if (!(p.urineOutput.coverageHours.max >= p.urineOutput.coverageHours.min)) {
    problems.push('urineOutput.coverageHours.max must be >= urineOutput.coverageHours.min');
  }
  return problems;
}

/** The conventions of a parameter set in words (for documents and reports), as [name, meaning] pairs. */
export function describeConventions(p: SofaParameters): Array<[string, string]> {
  const { fio2 } = p.respiration;
  const dose = p.vasopressors.dose;
  const uo = p.urineOutput;
  const hours = (h: number) => `${h} h`;
  return [
    ['Threshold table', `${p.thresholds.id} ${p.thresholds.version}`],
    [
      'SI-reported values',
      p.unitColumns === 'reported'
        ? 'scored on the printed SI column with the reported number (umol/L, kPa)'
        : 'converted to conventional units (mg/dL, mmHg) and scored on the conventional column',
    ],
    [
      'Day k',
      '[start + 24(k - 1) h, start + 24k h), start = the given start or the first measurement; worst value of each component in the day',
    ],
    [
      'Hourly rows',
      `24 h window ending at each hour of the grid, ${p.hourly.closure === 'end-inclusive' ? '(end - 24 h, end]' : '[end - 24 h, end)'}; ` +
        (p.hourly.alignToClockHour ? 'grid anchored on the first measurement rounded up to the clock hour' : 'grid anchored on the first measurement'),
    ],
    [
      'PaO2/FiO2 pairing',
      `FiO2 charted closest to the gas within ${hours(fio2.lookbackHours)} before${fio2.lookaheadHours > 0 ? ` and ${hours(fio2.lookaheadHours)} after` : ''} it; ` +
        (fio2.whenMissing === null ? 'no FiO2: gas not scored (no room-air default)' : `no FiO2: ${fio2.whenMissing} assumed`),
    ],
    [
      'Respiratory support',
      `respiration 3-4 only for gases during invasive ventilation (mechanical_ventilation = 1); a charted status holds until the next one within ${hours(p.respiration.ventilationStatusHoldsHours)}`,
    ],
    [
      'Catecholamines',
      (dose.kind === 'rate-at-hour-end'
        ? 'rate running at the end of each hour, no minimum duration'
        : dose.kind === 'held-rate'
          ? `highest rate held without interruption for >= ${dose.minimumMinutes} min`
          : `rates of uninterrupted runs lasting >= ${dose.minimumMinutes} min`) +
        `; overlapping infusions of one drug: ${p.vasopressors.concurrentSameDrug === 'sum' ? 'rates added' : 'highest rate'}` +
        `; a rate without an end runs until the next charting, at most ${hours(p.vasopressors.rateWithoutEndHoldsHours)}`,
    ],
    [
      'Urine output',
      (uo.basis === 'rolling-at-charting'
        ? `at each charting, volume charted in the previous ${hours(uo.lookbackHours)} (charting ends in [t - ${uo.lookbackHours} h, t])` +
          (uo.withinHour === 'best' ? ', the highest of each hour kept' : '')
        : 'volume charted within the window (intervals pro rata)') +
        `; scored when ${uo.coverageHours.min === uo.coverageHours.max ? `${hours(uo.coverageHours.min)} are` : `${uo.coverageHours.min}-${uo.coverageHours.max} h are`} charted` +
        (uo.scaleTo24h ? ', scaled to 24 h' : ', not scaled'),
    ],
    [
      'GCS with intubated verbal response',
      p.gcs.verbalIntubated === 'score-as-15' ? 'scored as GCS 15' : 'scored as charted',
    ],
    ['Missing component', 'null in the output and listed under "missing"; counts 0 in the total'],
  ];
}
