/**
 * The immune classification rule sets as Markdown for clinicians (a section of
 * docs/clinical-rules.md), rendered from the rule-set data so the document cannot drift.
 * Pure: data in, text out.
 */
import { code, table } from '../markdown.ts';
import { CITATIONS, type CitationId, type SourceRef } from './citations.ts';
import { describeThreshold, quantity } from './comparison.ts';
import { IMMUNE_RULE_SETS } from './rule-sets/index.ts';
import { describeBand } from './score.ts';
import type {
  CountCriterion,
  FerritinHlaDrRuleSet,
  ImmuneRuleSet,
  ScoreItem,
  ScoreRuleSet,
  SingleMarkerRuleSet,
  Threshold,
} from './types.ts';

export function renderImmuneRuleSetsMarkdown(ruleSets: readonly ImmuneRuleSet[] = IMMUNE_RULE_SETS): string {
  const [first] = ruleSets;
  return [
    '## Immune classification',
    '',
    'Each rule set is versioned data; every classification names the rule set id and version it used, ' +
      'the inputs (value in the canonical unit, sample time, value and unit as reported) and every comparison ' +
      'it evaluated. Values are compared unrounded in the canonical unit and printed exactly. ' +
      `The default rule set is ${code(first?.id ?? '')}.`,
    '',
    'Classes: **MALS** (macrophage activation-like syndrome), **immunoparalysis**, **unclassified** ' +
      '(neither; not eligible for targeted therapy) and **indeterminate** (not enough valid data: the result ' +
      'lists what is missing or stale and which classes remain possible).',
    '',
    ...ruleSets.flatMap((ruleSet) => [renderRuleSet(ruleSet), '']),
  ].join('\n');
}

function renderRuleSet(ruleSet: ImmuneRuleSet): string {
  return [
    `### ${ruleSet.title}`,
    '',
    `Rule set ${code(ruleSet.id)}, version ${ruleSet.version}.`,
    '',
    ruleSet.summary,
    '',
    body(ruleSet),
    '',
    `**Validity window:** samples older than ${ruleSet.validityWindow.hours} h at the evaluation time are stale ` +
      `and not used; the newest valid sample of each input is used (${source(ruleSet.validityWindow.source)}).`,
    '',
    `**Therapy:** ${ruleSet.therapy.kind === 'immunosep-regimens' ? `MALS and immunoparalysis map to the ImmunoSep regimens (${source(ruleSet.therapy.source)}).` : `none planned: ${ruleSet.therapy.reason}.`}`,
    '',
    '**Notes:**',
    '',
    ...ruleSet.notes.map((note) => `- ${note}`),
    '',
    '**Sources:**',
    '',
    ...ruleSet.citations.map((id) => `- ${reference(id)}`),
  ].join('\n');
}

function body(ruleSet: ImmuneRuleSet): string {
  switch (ruleSet.kind) {
    case 'ferritin-hla-dr':
      return ferritinHlaDrBody(ruleSet);
    case 'score':
      return scoreBody(ruleSet);
    case 'single-marker':
      return singleMarkerBody(ruleSet);
  }
}

const THRESHOLD_HEADER = ['Rule', 'Comparison', 'Canonical unit (UCUM)', 'Decides', 'Source'];

function thresholdRow(threshold: Threshold): string[] {
  return [code(threshold.id), describeThreshold(threshold), code(threshold.unit), threshold.meaning, source(threshold.source)];
}

function ferritinHlaDrBody(ruleSet: FerritinHlaDrRuleSet): string {
  const { malsFerritin: mals, immunoparalysisHlaDr: ip } = ruleSet.thresholds;
  const lines = [
    table(THRESHOLD_HEADER, [thresholdRow(mals), thresholdRow(ip)]),
    '',
    '**Decision, in order:**',
    '',
    `1. MALS when ${describeThreshold(mals)} (takes precedence; HLA-DR is then not consulted).`,
    `2. Otherwise immunoparalysis when ${describeThreshold(ip)}.`,
    '3. Otherwise unclassified.',
    `4. Without a valid ferritin: indeterminate (cannot classify). When ferritin rules MALS out but there is no valid ${ip.label}: indeterminate, "not MALS, immunoparalysis unknown", never unclassified.`,
  ];
  if (ruleSet.reversal === null) return [...lines, '', '**Reversal on treatment:** not defined by this rule set.'].join('\n');
  const r = ruleSet.reversal;
  return [
    ...lines,
    '',
    '**Reversal on treatment** (first on-treatment sample meeting the criteria; "not reversed" needs a valid assessment at the evaluation time):',
    '',
    table(THRESHOLD_HEADER, [thresholdRow(r.malsFerritinFall), thresholdRow(r.immunoparalysisHlaDr), thresholdRow(r.immunoparalysisFerritin)]),
    '',
    `- MALS reverses when ${describeThreshold(r.malsFerritinFall)}, computed as (baseline - current) / baseline x 100.`,
    `- Immunoparalysis reverses when ${describeThreshold(r.immunoparalysisHlaDr)} and ${describeThreshold(r.immunoparalysisFerritin)}, both samples valid at the same time.`,
  ].join('\n');
}

function scoreBody(ruleSet: ScoreRuleSet): string {
  const rows = ruleSet.items.flatMap((item) => itemRows(item));
  const maxTotal = ruleSet.items.reduce((sum, item) => sum + Math.max(...itemPoints(item)), 0);
  return [
    table(THRESHOLD_HEADER, [thresholdRow(ruleSet.malsScore)]),
    '',
    `**${ruleSet.scoreName} points** (maximum ${maxTotal}):`,
    '',
    table(['Item', 'Finding', 'Points', 'Source'], rows),
    '',
    `**Decision:** MALS when the ${ruleSet.scoreName} counting unscored items at their lowest points is ` +
      `${ruleSet.malsScore.operator} ${quantity(ruleSet.malsScore.value, ruleSet.malsScore.displayUnit)}; ` +
      'unclassified when even their highest points cannot reach it; indeterminate otherwise.',
  ].join('\n');
}

function itemPoints(item: ScoreItem): number[] {
  return item.kind === 'bands' ? item.bands.map((b) => b.points) : [...item.pointsByCount];
}

function itemRows(item: ScoreItem): string[][] {
  if (item.kind === 'bands') {
    return item.bands.map((band) => [item.label, `${item.label} ${describeBand(band, item.displayUnit)}`, String(band.points), source(item.source)]);
  }
  const criteria = item.criteria.map(criterionText).join('; ');
  if (item.criteria.length === 1) {
    return [
      [item.label, `${criteria}: absent`, String(item.pointsByCount[0]), source(item.source)],
      [item.label, `${criteria}: present`, String(item.pointsByCount[1]), source(item.source)],
    ];
  }
  return item.pointsByCount.map((points, count) => [
    item.label,
    `${count} of: ${criteria}`,
    String(points),
    source(item.source),
  ]);
}

function criterionText(criterion: CountCriterion): string {
  return criterion.kind === 'finding' ? criterion.label : describeThreshold(criterion.threshold);
}

function singleMarkerBody(ruleSet: SingleMarkerRuleSet): string {
  return [
    table(THRESHOLD_HEADER, [thresholdRow(ruleSet.marker)]),
    '',
    `**Decision:** ${ruleSet.positiveClass} when ${describeThreshold(ruleSet.marker)}; otherwise unclassified; ` +
      `indeterminate without a valid ${ruleSet.marker.label}.`,
  ].join('\n');
}

function source(ref: SourceRef): string {
  return `${CITATIONS[ref.citation].short}, ${ref.locator}`;
}

function reference(id: CitationId): string {
  const c = CITATIONS[id];
  const extras = [c.doi ? `doi:${c.doi}` : undefined, c.registry?.join(', ')].filter((x) => x !== undefined);
  return `${c.short}: ${c.text}${extras.length > 0 ? `. ${extras.join('; ')}` : ''}.`;
}
