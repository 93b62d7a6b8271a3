/**
 * Markdown rendering of the eligibility, Sepsis-3 and therapy rule sets for clinicians
 * (docs/clinical-rules.md), generated from the rule-set data so the document cannot drift.
 * Each renderer returns a section starting with a level-2 heading; `SCREENING_RULES_DOC_SECTIONS`
 * lists them for the document generator.
 */
import { IMMUNOSEP_CRITERIA } from './eligibility.ts';
import type { AutomaticRule, CriteriaSet, Criterion } from './eligibility.ts';
import { SEPSIS3_MIMIC_IV_RULES, SEPSIS3_RULES } from './sepsis3.ts';
import type { Sepsis3RuleSet } from './sepsis3.ts';
import { IMMUNOSEP_THERAPY_RULES, describeThreshold } from './therapy/rules.ts';
import type { Threshold, TherapyRuleSet } from './therapy/rules.ts';

/** Escapes text for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

const UNCONFIRMED = '**(unconfirmed)**';

function ruleText(rule: AutomaticRule): string {
  switch (rule.type) {
    case 'min-age':
      return `age >= ${rule.minYears} years (from age or birth date at the evaluation time)`;
    case 'sepsis3':
      return 'Sepsis-3 assessment met';
    case 'immune-class':
      return `immune class is ${rule.classes.join(' or ')}; indeterminate = unknown`;
    case 'sepsis3-to-treatment':
      return `treatment start - Sepsis-3 onset < ${rule.maxHours} h (strict); not yet started: judged at the evaluation time`;
    case 'neutrophils-below':
      return `absolute neutrophil count < ${rule.thresholdPerMm3}/mm3 (strict)`;
    case 'covid19-classes':
      return `COVID-19 patients only in ${rule.classes.join(', ')}`;
  }
}

function criterionRow(c: Criterion): string {
  const how = c.evaluation.mode === 'automatic' ? `automatic: ${ruleText(c.evaluation.rule)}` : 'site-completed';
  const text = c.unconfirmed ? `${c.text} ${UNCONFIRMED}: ${c.unconfirmed}` : c.text;
  return `| \`${c.id}\` | ${cell(text)} | ${cell(how)} | ${cell(c.citation)} |`;
}

export function renderEligibilityCriteriaMarkdown(set: CriteriaSet = IMMUNOSEP_CRITERIA): string {
  const header = ['| id | criterion | how evaluated | source |', '|---|---|---|---|'];
  const rows = (kind: Criterion['kind']) => set.criteria.filter((c) => c.kind === kind).map(criterionRow);
  return [
    `## Eligibility screening: \`${set.id}\` version ${set.version}`,
    '',
    `Source: ${set.citation}.`,
    '',
    'Each criterion is **met**, **not met** or **unknown**, with its evidence. An inclusion that is met, or an exclusion that is not met, passes. The patient is *not eligible* when any criterion fails, *incomplete* when none fails but some are unknown, *eligible* when all pass. Site-completed items are answered by the site; a site answer also completes an automatic item whose data are missing (never overrides data). Items marked (unconfirmed) may be replaced or removed by a site; confirmed items cannot.',
    '',
    '### Inclusion',
    '',
    ...header,
    ...rows('inclusion'),
    '',
    '### Exclusion',
    '',
    ...header,
    ...rows('exclusion'),
    '',
  ].join('\n');
}

export function renderSepsis3RulesMarkdown(rules: Sepsis3RuleSet = SEPSIS3_RULES, alternatives: Sepsis3RuleSet[] = [SEPSIS3_MIMIC_IV_RULES]): string {
  const s = rules.suspicion;
  const w = rules.sofaWindow;
  const lines = [
    `## Sepsis-3: \`${rules.id}\` version ${rules.version}`,
    '',
    `Source: ${rules.citation}.`,
    '',
    '| rule | value | source |',
    '|---|---|---|',
    `| Suspected infection, antibiotic first | a culture within ${s.antibioticThenCultureHours} h after the antibiotic (exactly ${s.antibioticThenCultureHours} h counts); suspicion time = antibiotic time | ${cell(s.citation)} |`,
    `| Suspected infection, culture first | an antibiotic within ${s.cultureThenAntibioticHours} h after the culture (exactly ${s.cultureThenAntibioticHours} h counts); suspicion time = culture time | ${cell(s.citation)} |`,
    `| Culture and antibiotic at the same instant | ${s.simultaneousCounts ? 'counts (suspicion time = that instant)' : 'does not count'} | ${cell(s.citation)} |`,
    `| SOFA window around suspicion | from ${w.hoursBeforeSuspicion} h before to ${w.hoursAfterSuspicion} h after, both edges inclusive (SOFA time = end of its 24 h window) | ${cell(w.citation)} |`,
    `| Organ dysfunction | total SOFA - baseline >= ${rules.sofaRise.points} | ${cell(rules.sofaRise.citation)} |`,
    `| Baseline SOFA when unknown | ${rules.baselineSofaWhenUnknown.value} (reported as assumed) | ${cell(rules.baselineSofaWhenUnknown.citation)} |`,
    `| Onset | the later of the suspicion time and the first qualifying SOFA time | this software |`,
    `| Septic shock | vasopressor required to maintain MAP >= ${rules.septicShock.mapTargetMmHg} mmHg and lactate > ${rules.septicShock.lactateAboveMmolPerL} mmol/L despite adequate fluid resuscitation | ${cell(rules.septicShock.citation)} |`,
    '',
  ];
  for (const alt of alternatives) {
    const diffs: string[] = [];
    if (alt.suspicion.simultaneousCounts !== s.simultaneousCounts) {
      diffs.push(`same-instant culture and antibiotic ${alt.suspicion.simultaneousCounts ? 'count' : 'do not count'}`);
    }
    if (alt.suspicion.antibioticThenCultureHours !== s.antibioticThenCultureHours) diffs.push(`antibiotic-first window ${alt.suspicion.antibioticThenCultureHours} h`);
    if (alt.suspicion.cultureThenAntibioticHours !== s.cultureThenAntibioticHours) diffs.push(`culture-first window ${alt.suspicion.cultureThenAntibioticHours} h`);
    if (alt.baselineSofaWhenUnknown.value !== rules.baselineSofaWhenUnknown.value) diffs.push(`assumed baseline ${alt.baselineSofaWhenUnknown.value}`);
    lines.push(`Alternative rule set \`${alt.id}\` version ${alt.version}: as above except ${diffs.join('; ') || 'nothing'} (${alt.suspicion.citation}).`, '');
  }
  return lines.join('\n');
}

function thresholdRow(name: string, t: Threshold, extra = ''): string {
  const value = `${describeThreshold(t)}${extra}${t.unconfirmed ? ` ${UNCONFIRMED}: ${t.unconfirmed}` : ''}`;
  return `| ${cell(name)} | ${cell(value)} | ${cell(t.citation)} |`;
}

export function renderTherapyRulesMarkdown(rules: TherapyRuleSet = IMMUNOSEP_THERAPY_RULES): string {
  const regimens = (['MALS', 'immunoparalysis'] as const).map((k) => {
    const r = rules.regimens[k];
    return `| ${k} | ${cell(r.drugLabel)} | ${r.doseAmount} ${r.doseUnit} | ${r.route} | every ${r.intervalHours} h | ${r.durationDays} days | ${Math.ceil((r.durationDays * 24) / r.intervalHours)} | ${cell(r.citation)} |`;
  });
  const dd = rules.doubleDummy;
  const s = rules.safety;
  return [
    `## Targeted therapy: \`${rules.id}\` version ${rules.version}`,
    '',
    `Source: ${rules.citation}.`,
    '',
    '| immune class | drug | dose | route | interval | duration | doses | source |',
    '|---|---|---|---|---|---|---|---|',
    ...regimens,
    '| unclassified, indeterminate | no targeted therapy | | | | | | |',
    '',
    `**Dose count.** ${rules.doseCountRule}`,
    '',
    `**Study days.** ${rules.studyDayConvention}`,
    '',
    `**Double dummy.** Every administration is one IV infusion of ${dd.ivInfusionVolumeMl} mL and one SC injection of ${dd.scInjectionVolumeMl} mL; the component not carrying the active drug (both in the placebo arm) is ${dd.placeboLabel}. The pharmacy plan names the active component; the blinded kit view shown on the ward is identical for both arms. Source: ${dd.citation}.`,
    '',
    `**Monitoring visits** (${rules.visits.citation})${rules.visits.unconfirmed ? ` ${UNCONFIRMED}: ${rules.visits.unconfirmed}` : ''}:`,
    '',
    '| day | assessments |',
    '|---|---|',
    ...rules.visits.schedule.map((v) => `| ${v.day} | ${cell(v.assessments.join('; '))} |`),
    '',
    '**Safety warnings.** A warning never changes the planned dose; a check whose inputs are missing says "could not check ...: missing ...".',
    '',
    '| check | threshold | source |',
    '|---|---|---|',
    thresholdRow('anakinra: creatinine clearance (Cockcroft-Gault)', s.anakinraCreatinineClearance, ` - ${s.anakinraCreatinineClearance.consider}`),
    thresholdRow('interferon-gamma: platelets (haemorrhage signal; active bleeding also warns)', s.interferonGammaPlatelets),
    thresholdRow('both drugs: absolute neutrophil count (neutropenia)', s.neutropenia),
    thresholdRow('anakinra: haemoglobin (anaemia signal; advisory always shown)', s.anakinraHaemoglobin),
    '',
  ].join('\n');
}

export interface RulesDocSection {
  id: string;
  title: string;
  render: () => string;
}

/** Sections for docs/clinical-rules.md, in reading order. */
export const SCREENING_RULES_DOC_SECTIONS: readonly RulesDocSection[] = Object.freeze([
  { id: 'eligibility', title: 'Eligibility screening', render: () => renderEligibilityCriteriaMarkdown() },
  { id: 'sepsis3', title: 'Sepsis-3', render: () => renderSepsis3RulesMarkdown() },
  { id: 'therapy', title: 'Targeted therapy', render: () => renderTherapyRulesMarkdown() },
]);
