/**
 * The unit table (CONCEPT_UNITS) as Markdown for clinicians: canonical units, accepted
 * conversions and plausibility limits. A section of docs/clinical-rules.md.
 */
import { code, table } from './markdown.ts';
import { formatExact } from './numeric.ts';
import type { Concept } from './types.ts';
import { CONCEPT_UNITS, type ConceptUnitSpec } from './units.ts';

export function renderUnitsMarkdown(): string {
  const rows = (Object.entries(CONCEPT_UNITS) as Array<[Concept, ConceptUnitSpec]>).map(([concept, spec]) => [
    code(concept),
    spec.label,
    `${code(spec.canonicalUnit)}${spec.displayUnit === '' || spec.displayUnit === spec.canonicalUnit ? '' : ` (${spec.displayUnit})`}`,
    conversions(spec),
    plausible(spec),
    spec.source,
  ]);
  return [
    '## Units and plausibility',
    '',
    'Every value is converted to the canonical UCUM unit of its concept before any rule reads it; the value ' +
      'and unit as reported are kept beside it. Conversions go through UCUM (@lhncbc/ucum-lhc) and are ' +
      'rounded to 12 significant digits (so 17.1 umol/L of bilirubin is exactly 1 mg/dL). A unit that is not ' +
      'convertible is an error, never a guess; a value outside the plausibility limits is rejected with the reason.',
    '',
    table(['Concept', 'Name', 'Canonical unit', 'Conversions', 'Plausible (canonical unit)', 'Source'], rows),
    '',
  ].join('\n');
}

function conversions(spec: ConceptUnitSpec): string {
  const parts: string[] = [];
  if (spec.closedUnits) parts.push(`only ${spec.closedUnits.map(code).join(', ')}`);
  else parts.push('any commensurable UCUM unit');
  if (spec.molecularWeightGPerMol !== undefined) {
    const from = spec.molecularWeightSource === undefined ? '' : ` (${spec.molecularWeightSource})`;
    parts.push(`molar units with ${formatExact(Number(spec.molecularWeightGPerMol.toPrecision(7)))} g/mol${from}`);
  }
  for (const f of spec.statedFactors ?? []) parts.push(`1 ${f.unit} = ${formatExact(f.canonicalPerUnit)} ${spec.displayUnit}`);
  for (const [unit, reason] of Object.entries(spec.refusedUnits ?? {})) parts.push(`${code(unit)} refused: ${reason}`);
  if (spec.unitlessPercent) parts.push(`a unitless value above ${spec.unitlessPercent.above} and up to ${spec.unitlessPercent.max} is read as %`);
  if (spec.perBodyWeight) parts.push('total rates (e.g. ug/min) only with the body weight');
  return parts.join('; ');
}

function plausible(spec: ConceptUnitSpec): string {
  const { min, max, integer } = spec.plausible;
  return `${formatExact(min)} to ${formatExact(max)}${integer ? ', whole numbers' : ''}`;
}
