/**
 * Per-organ SOFA points from one value (or one set of simultaneous values). Pure arithmetic on
 * the bands of rules.ts; the timeline decides which value is the worst of a window.
 */
import { FIXED_BANDS, type RisingBands } from './rules.ts';

/**
 * The P/F ratio, computed so that it never falls a hair below a band edge: PaO2 and FiO2 are
 * decimal measurements, so the quotient is rounded to 10 significant digits (far below any
 * clinical precision) before it is compared. Without this, 220 / 0.55 is 399.99999999999994
 * in binary floating point and would score 1 instead of 0.
 */
export function pfRatio(pao2: number, fio2Fraction: number): number {
  return Number((pao2 / fio2Fraction).toPrecision(10));
}

/** Respiration from a P/F ratio; 3 and 4 only with respiratory support (else capped at 2). */
export function respirationPoints(ratio: number, ventilated: boolean, unit: 'mmHg' | 'kPa' = 'mmHg'): number {
  for (const [points, below] of FIXED_BANDS.respiration[unit]) {
    if (ratio < below) return points >= 3 && !ventilated ? 2 : points;
  }
  return 0;
}

export function coagulationPoints(plateletsThousandPerUl: number): number {
  for (const [points, below] of FIXED_BANDS.coagulation) if (plateletsThousandPerUl < below) return points;
  return 0;
}

/** Bands where a higher value is worse (bilirubin, creatinine). */
export function risingPoints(value: number, bands: RisingBands): number {
  for (const [points, bound] of bands.bands) {
    const top = points === bands.bands[0]![0];
    if (top ? (bands.topInclusive ? value >= bound : value > bound) : value >= bound) return points;
  }
  return 0;
}

export function cnsPoints(gcs: number): number {
  for (const [points, atMost] of FIXED_BANDS.cns) if (gcs <= atMost) return points;
  return 0;
}

export function urineOutputPoints(mlPerDay: number): number {
  for (const [points, below] of FIXED_BANDS.urineOutput) if (mlPerDay < below) return points;
  return 0;
}

/** Worst simultaneous catecholamine rates (ug/kg/min) and MAP of a window. */
export interface CardiovascularInputs {
  mapMmHg: number | null;
  dopamine: number | null;
  dobutamine: number | null;
  epinephrine: number | null;
  norepinephrine: number | null;
}

/**
 * Cardiovascular points, as mimic-code orders the tests (the printed table's "dopamine <= 5 or
 * dobutamine (any dose)" = 2, "dopamine > 5 or epinephrine <= 0.1 or norepinephrine <= 0.1" =
 * 3, "dopamine > 15 or epinephrine > 0.1 or norepinephrine > 0.1" = 4, "MAP < 70" = 1).
 */
export function cardiovascularPoints(inputs: CardiovascularInputs): number {
  const cv = FIXED_BANDS.cardiovascular;
  const positive = (rate: number | null): rate is number => rate !== null && rate > 0;
  if (
    (positive(inputs.dopamine) && inputs.dopamine > cv.dopamineAbove4) ||
    (positive(inputs.epinephrine) && inputs.epinephrine > cv.epinephrineOrNorepinephrineAbove4) ||
    (positive(inputs.norepinephrine) && inputs.norepinephrine > cv.epinephrineOrNorepinephrineAbove4)
  ) {
    return 4;
  }
  if ((positive(inputs.dopamine) && inputs.dopamine > cv.dopamineAbove3) || positive(inputs.epinephrine) || positive(inputs.norepinephrine)) return 3;
  if (positive(inputs.dopamine) || positive(inputs.dobutamine)) return 2;
  if (inputs.mapMmHg !== null && inputs.mapMmHg < cv.mapBelowMmHg) return 1;
  return 0;
}
