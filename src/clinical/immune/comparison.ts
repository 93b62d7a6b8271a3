/**
 * Evaluating a threshold and saying what was compared. Values are compared unrounded, in the
 * canonical unit, and printed exactly (numeric.ts formatExact) so that the text never
 * misrepresents the decision: 4420.4 is printed 4420.4, not 4420.
 */
import type { IsoDateTime } from '../types.ts';
import { formatExact } from '../numeric.ts';
import type { Comparison, ComparisonOperator, Threshold } from './types.ts';

export function holds(value: number, operator: ComparisonOperator, bound: number): boolean {
  switch (operator) {
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
  }
}

/** "4420 ng/mL"; a unit of "" (unitless) prints the number alone. */
export function quantity(value: number, displayUnit: string): string {
  return displayUnit === '' ? formatExact(value) : `${formatExact(value)} ${displayUnit}`;
}

/** The threshold as clinicians read it: "ferritin > 4420 ng/mL". */
export function describeThreshold(threshold: Threshold): string {
  return `${threshold.label} ${threshold.operator} ${quantity(threshold.value, threshold.displayUnit)}`;
}

export interface CompareOptions {
  time?: IsoDateTime;
  /** Replaces the threshold label in the text, e.g. "HScore (at least)". */
  label?: string;
}

/** Evaluates `value threshold.operator threshold.value` and records it. */
export function compare(threshold: Threshold, value: number, options: CompareOptions = {}): Comparison {
  const result = holds(value, threshold.operator, threshold.value);
  const left = `${options.label ?? threshold.label} ${quantity(value, threshold.displayUnit)}`;
  const right = quantity(threshold.value, threshold.displayUnit);
  return {
    rule: threshold.id,
    input: threshold.input,
    value,
    unit: threshold.unit,
    ...(options.time === undefined ? {} : { time: options.time }),
    operator: threshold.operator,
    threshold: threshold.value,
    thresholdUnit: threshold.unit,
    result,
    text: result ? `${left} ${threshold.operator} ${right}` : `${left} is not ${threshold.operator} ${right}`,
  };
}
