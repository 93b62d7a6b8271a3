/**
 * Decision of score rule sets (HScore). Each item scores from its table row; an item whose
 * inputs are missing or stale contributes anywhere between its lowest and highest points.
 * The class is given only when that uncertainty cannot change it:
 * - MALS when the score counting missing items as their minimum already passes the cut-off;
 * - unclassified when even the maximum possible score does not;
 * - indeterminate otherwise, naming what is missing.
 */
import type { Concept } from '../types.ts';
import { compare, holds, quantity } from './comparison.ts';
import { type Decision, unavailable } from './decision.ts';
import type { InputSelection } from './samples.ts';
import type {
  BandBound,
  Comparison,
  InputEvidence,
  ScoreBand,
  ScoreItem,
  ScoreItemEvidence,
  ScoreRuleSet,
} from './types.ts';

export function scoreInputs(ruleSet: ScoreRuleSet): Concept[] {
  return [...new Set(ruleSet.items.flatMap(itemConcepts))];
}

function itemConcepts(item: ScoreItem): Concept[] {
  if (item.kind === 'bands') return [item.concept];
  return item.criteria.map((c) => (c.kind === 'finding' ? c.concept : c.threshold.input));
}

interface ItemOutcome {
  evidence: ScoreItemEvidence;
  inputs: InputEvidence[];
  comparisons: Comparison[];
}

export function decideScore(ruleSet: ScoreRuleSet, selection: InputSelection): Decision {
  const outcomes = ruleSet.items.map((item) => scoreItem(item, selection));
  const minPoints = outcomes.reduce((sum, o) => sum + o.evidence.minPoints, 0);
  const maxPoints = outcomes.reduce((sum, o) => sum + o.evidence.maxPoints, 0);
  const complete = outcomes.every((o) => o.evidence.points !== null);
  const name = ruleSet.scoreName;

  const atLeast = compare(ruleSet.malsScore, minPoints, { label: complete ? name : `${name} (at least)` });
  const atMost = compare(ruleSet.malsScore, maxPoints, { label: complete ? name : `${name} (at most)` });
  const evidenceWith = (comparison: Comparison) => ({
    inputs: outcomes.flatMap((o) => o.inputs),
    comparisons: [...outcomes.flatMap((o) => o.comparisons), comparison],
    score: { name, minPoints, maxPoints, items: outcomes.map((o) => o.evidence) },
  });

  if (atLeast.result) return { class: 'MALS', evidence: evidenceWith(atLeast), because: atLeast.text };
  if (!atMost.result) return { class: 'unclassified', evidence: evidenceWith(atMost), because: atMost.text };
  const unscored = outcomes.filter((o) => o.evidence.points === null).map((o) => o.evidence.item);
  return {
    class: 'indeterminate',
    evidence: evidenceWith(atLeast),
    because:
      `${name} between ${minPoints} and ${maxPoints} points, cut-off ${ruleSet.malsScore.operator} ` +
      `${quantity(ruleSet.malsScore.value, ruleSet.malsScore.displayUnit)}: not scored: ${unscored.join(', ')}`,
    ...unavailable(selection, scoreInputs(ruleSet)),
    possible: ['MALS', 'unclassified'],
  };
}

function scoreItem(item: ScoreItem, selection: InputSelection): ItemOutcome {
  return item.kind === 'bands' ? scoreBands(item, selection) : scoreCount(item, selection);
}

function scoreBands(item: Extract<ScoreItem, { kind: 'bands' }>, selection: InputSelection): ItemOutcome {
  const input = selection.usable.get(item.concept);
  const allPoints = item.bands.map((b) => b.points);
  if (!input) {
    const minPoints = Math.min(...allPoints);
    const maxPoints = Math.max(...allPoints);
    return {
      evidence: { item: item.id, points: null, minPoints, maxPoints, text: `${item.label}: not available (${minPoints}-${maxPoints} points)` },
      inputs: [],
      comparisons: [],
    };
  }
  const band = bandOf(item.bands, input.value);
  return {
    evidence: {
      item: item.id,
      points: band.points,
      minPoints: band.points,
      maxPoints: band.points,
      text: `${item.label} ${quantity(input.value, item.displayUnit)} (${describeBand(band, item.displayUnit)}): ${band.points} points`,
    },
    inputs: [input],
    comparisons: [],
  };
}

/** The band containing the value; the table's bands partition the line (checked by tests). */
export function bandOf(bands: readonly ScoreBand[], value: number): ScoreBand {
  const band = bands.find((b) => inside(b.lower, value) && inside(b.upper, value));
  if (band === undefined) throw new RangeError(`score bands do not cover ${value}`);
  return band;
}

function inside(bound: BandBound | undefined, value: number): boolean {
  return bound === undefined || holds(value, bound.operator, bound.value);
}

export function describeBand(band: ScoreBand, displayUnit: string): string {
  const parts = [band.lower, band.upper].filter((b): b is BandBound => b !== undefined);
  return parts.map((b) => `${b.operator} ${quantity(b.value, displayUnit)}`).join(' and ');
}

function scoreCount(item: Extract<ScoreItem, { kind: 'count' }>, selection: InputSelection): ItemOutcome {
  const inputs: InputEvidence[] = [];
  const comparisons: Comparison[] = [];
  const texts: string[] = [];
  let met = 0;
  let unknown = 0;
  for (const criterion of item.criteria) {
    const concept = criterion.kind === 'finding' ? criterion.concept : criterion.threshold.input;
    const input = selection.usable.get(concept);
    if (!input) {
      unknown += 1;
      texts.push(`${criterion.kind === 'finding' ? criterion.label : criterion.threshold.label}: not available`);
      continue;
    }
    inputs.push(input);
    if (criterion.kind === 'finding') {
      const present = input.value === 1;
      if (present) met += 1;
      texts.push(`${criterion.label}: ${present ? 'present' : 'absent'}`);
    } else {
      const comparison = compare(criterion.threshold, input.value, { time: input.time });
      comparisons.push(comparison);
      if (comparison.result) met += 1;
      texts.push(comparison.text);
    }
  }
  const possible = item.pointsByCount.slice(met, met + unknown + 1);
  const minPoints = Math.min(...possible);
  const maxPoints = Math.max(...possible);
  const points = unknown === 0 ? pointsFor(item.pointsByCount, met) : null;
  return {
    evidence: {
      item: item.id,
      points,
      minPoints,
      maxPoints,
      text: `${item.criteria.length === 1 ? '' : `${item.label}: `}${texts.join('; ')}: ${points === null ? `${minPoints}-${maxPoints}` : points} points`,
    },
    inputs,
    comparisons,
  };
}

function pointsFor(pointsByCount: readonly number[], count: number): number {
  const points = pointsByCount[count];
  if (points === undefined) throw new RangeError(`no points for a count of ${count}`);
  return points;
}
