/**
 * The SOFA threshold tables and presets as Markdown for clinicians (a section of
 * docs/clinical-rules.md, registered in ../rules-doc.ts), rendered from the data in
 * thresholds.ts and parameters.ts so the document cannot drift from the code. Pure.
 */
import { code, table } from '../markdown.ts';
import { DEFAULT_SOFA_PRESET, SOFA_PRESETS, type SofaParameters, describeConventions } from './parameters.ts';
import { CATECHOLAMINES, type ScoringScale, type SofaThresholds, describeBand } from './thresholds.ts';

export function renderSofaRulesMarkdown(presets: readonly SofaParameters[] = Object.values(SOFA_PRESETS)): string {
  const tables = [...new Map(presets.map((p) => [`${p.thresholds.id}@${p.thresholds.version}`, p.thresholds])).values()];
  return [
    '## SOFA',
    '',
    'Sequential Organ Failure Assessment: each of six organs scores 0-4 on the worst value of the window, ' +
      'the total is 0-24. A component with no input in the window is reported as missing (null) and counts 0 ' +
      'in the total, so "not measured" is never shown as "normal". Every result names its preset and threshold ' +
      'table (id and version) and, for each component, the input that decided it with the comparison that fired.',
    '',
    'Values are compared unrounded in the unit of the column that scores them; only a PaO2/FiO2 quotient is ' +
      'rounded, to 12 significant digits, so that 220 / 0.55 is exactly 400. The SI thresholds printed in the table ' +
      'are not exact conversions of the conventional ones (bilirubin 1.2 mg/dL = 20.5 umol/L, printed 20; ' +
      'creatinine 1.2 mg/dL = 106 umol/L, printed 110): a preset either scores a value reported in SI units on the ' +
      'printed SI column or converts it to conventional units first (see each preset).',
    '',
    `Day k covers [start + 24(k - 1) h, start + 24k h), start being the given start or the patient's first measurement. ` +
      `The default preset is ${code(DEFAULT_SOFA_PRESET)}.`,
    '',
    ...tables.flatMap((t) => [renderThresholds(t), '']),
    ...presets.flatMap((p) => [renderPreset(p), '']),
  ].join('\n');
}

/** The section as the brief names it: same text. */
export const renderSofaRules = (): string => renderSofaRulesMarkdown();

function bandCells(scale: ScoringScale): string[] {
  return ([1, 2, 3, 4] as const).map((score) => {
    const band = scale.bands.find((b) => b.score === score);
    return band === undefined ? '' : describeBand(band, scale.displayUnit);
  });
}

function renderThresholds(t: SofaThresholds): string {
  const row = (organ: string, scale: ScoringScale, note = ''): string[] => [
    organ,
    `${scale.quantity}${scale.displayUnit === '' ? '' : ` (${scale.displayUnit})`}`,
    ...bandCells(scale),
    note,
  ];
  const support = `3-4 need invasive ventilation; without it capped at ${t.respiration.capWithoutSupport}`;
  const rows = [
    ...t.respiration.ratio.map((s) => row('respiration', s, support)),
    ...t.coagulation.platelets.map((s) => row('coagulation', s)),
    ...t.liver.bilirubin.map((s) => row('liver', s)),
    row('cardiovascular', t.cardiovascular.map),
    ...CATECHOLAMINES.map((drug) => row('cardiovascular', t.cardiovascular.drugs[drug], 'ug/kg/min; the dose rule is a preset convention')),
    row('CNS', t.cns.gcs),
    ...t.renal.creatinine.map((s) => row('renal', s, 'the worse of creatinine and urine output')),
    row('renal', t.renal.urineOutput, 'the 24 h volume is a preset convention'),
  ];
  return [
    `### Threshold table ${code(t.id)} ${t.version}: ${t.title}`,
    '',
    `Score version ${code(t.scoreVersion)}. Source: ${t.citation}.`,
    '',
    'Each cell gives the condition for that score; the highest score whose condition holds wins, none gives 0.',
    '',
    table(['organ', 'value', '1', '2', '3', '4', 'note'], rows),
    '',
    '**How the printed table is read:**',
    '',
    ...t.notes.map((note) => `- ${note}`),
  ].join('\n');
}

function renderPreset(p: SofaParameters): string {
  return [
    `### Preset ${code(p.id)} ${p.version}: ${p.title}`,
    '',
    `Source: ${p.citation}.`,
    '',
    table(['convention', 'choice'], describeConventions(p)),
  ].join('\n');
}
