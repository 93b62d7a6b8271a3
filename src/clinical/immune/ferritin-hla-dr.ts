/**
 * Decision of the ferritin / HLA-DR rule sets (immunosep, provide-2017), CLINICAL.md section 2:
 * MALS when the ferritin comparison holds (precedence); otherwise immunoparalysis when the
 * HLA-DR comparison holds; otherwise unclassified. Missing ferritin: no classification.
 * Ferritin ruling MALS out without a valid HLA-DR: indeterminate, "not MALS, immunoparalysis
 * unknown", never unclassified.
 */
import type { Concept } from '../types.ts';
import { compare } from './comparison.ts';
import { type Decision, unavailability, unavailable } from './decision.ts';
import type { InputSelection } from './samples.ts';
import type { Comparison, DeterminedClassName, FerritinHlaDrRuleSet, InputEvidence } from './types.ts';

export function ferritinHlaDrInputs(ruleSet: FerritinHlaDrRuleSet): Concept[] {
  return ['ferritin', ruleSet.hlaDrConcept];
}

export function decideFerritinHlaDr(ruleSet: FerritinHlaDrRuleSet, selection: InputSelection): Decision {
  const { malsFerritin, immunoparalysisHlaDr } = ruleSet.thresholds;
  const ferritin = selection.usable.get('ferritin');
  const hlaDr = selection.usable.get(ruleSet.hlaDrConcept);
  const inputs: InputEvidence[] = [];
  const comparisons: Comparison[] = [];

  let mals: Comparison | undefined;
  if (ferritin) {
    mals = compare(malsFerritin, ferritin.value, { time: ferritin.time });
    inputs.push(ferritin);
    comparisons.push(mals);
    // MALS takes precedence: HLA-DR is not consulted.
    if (mals.result) return { class: 'MALS', evidence: { inputs, comparisons }, because: mals.text };
  }

  let immunoparalysis: Comparison | undefined;
  if (hlaDr) {
    immunoparalysis = compare(immunoparalysisHlaDr, hlaDr.value, { time: hlaDr.time });
    inputs.push(hlaDr);
    comparisons.push(immunoparalysis);
  }
  const evidence = { inputs, comparisons };

  if (mals && immunoparalysis) {
    return {
      class: immunoparalysis.result ? 'immunoparalysis' : 'unclassified',
      evidence,
      because: `${mals.text}; ${immunoparalysis.text}`,
    };
  }
  if (mals) {
    return {
      class: 'indeterminate',
      evidence,
      because: `not MALS (${mals.text}); immunoparalysis unknown: ${unavailability(selection, ruleSet.hlaDrConcept)}`,
      ...unavailable(selection, [ruleSet.hlaDrConcept]),
      possible: ['immunoparalysis', 'unclassified'],
    };
  }
  // No usable ferritin: MALS can be neither confirmed nor ruled out.
  const possible: DeterminedClassName[] = immunoparalysis
    ? immunoparalysis.result
      ? ['MALS', 'immunoparalysis']
      : ['MALS', 'unclassified']
    : ['MALS', 'immunoparalysis', 'unclassified'];
  return {
    class: 'indeterminate',
    evidence,
    because: `cannot classify: ${unavailability(selection, 'ferritin')}${immunoparalysis ? `; ${immunoparalysis.text}` : ''}`,
    ...unavailable(selection, ferritinHlaDrInputs(ruleSet)),
    possible,
  };
}
