/**
 * Frozen randomisation evidence shaped exactly like the clinical engine's output
 * (ImmuneClassification and EligibilityResult), for trial tests.
 */
import type { EligibilityResult } from '../../src/clinical/eligibility.ts';
import type { ImmuneClassification } from '../../src/clinical/immune/types.ts';
import type { RandomisationEvidence } from '../../src/trial/randomisation.ts';

export type EvidenceClass = 'MALS' | 'immunoparalysis' | 'unclassified';

export function classification(className: EvidenceClass, at = '2026-01-05T08:00:00Z'): ImmuneClassification {
  const ferritin = className === 'MALS' ? 6000 : 1200;
  return {
    class: className,
    ruleSet: { id: 'immunosep', version: '1.0.0' },
    evaluatedAt: at,
    evidence: {
      inputs: [
        { concept: 'ferritin', value: ferritin, unit: 'ng/mL', time: '2026-01-05T06:00:00Z', ageHours: 2, reported: { value: ferritin, unit: 'ng/mL' } },
        { concept: 'hla_dr', value: 3000, unit: '{molecules}/{cell}', time: '2026-01-05T06:00:00Z', ageHours: 2, reported: { value: 3000, unit: '{molecules}/{cell}' } },
      ],
      comparisons: [
        {
          rule: 'mals-ferritin',
          input: 'ferritin',
          value: ferritin,
          unit: 'ng/mL',
          time: '2026-01-05T06:00:00Z',
          operator: '>',
          threshold: 4420,
          thresholdUnit: 'ng/mL',
          result: className === 'MALS',
          text: `ferritin ${ferritin} ng/mL ${className === 'MALS' ? '>' : 'is not >'} 4420 ng/mL`,
        },
      ],
    },
    rejected: [],
    summary: `${className} (immunosep 1.0.0)`,
  } as ImmuneClassification;
}

export function eligibility(status: EligibilityResult['status'] = 'eligible', at = '2026-01-05T08:00:00Z'): EligibilityResult {
  const failing = status === 'not-eligible' ? ['exclusion-neutropenia'] : [];
  const unknown = status === 'incomplete' ? ['inclusion-consent'] : [];
  const criterion = (id: string, kind: 'inclusion' | 'exclusion', passes: boolean | null) => ({
    id,
    text: id,
    kind,
    evaluatedBy: 'automatic' as const,
    status: passes === null ? ('unknown' as const) : kind === 'inclusion' ? (passes ? ('met' as const) : ('not-met' as const)) : passes ? ('not-met' as const) : ('met' as const),
    passes,
    reason: id,
    evidence: [],
    citation: 'ImmunoSep protocol',
  });
  return {
    criteriaSet: { id: 'immunosep-eligibility', version: '1.0.0' },
    at,
    status,
    failing,
    unknown,
    results: [
      criterion('inclusion-age', 'inclusion', true),
      criterion('inclusion-consent', 'inclusion', unknown.length > 0 ? null : true),
      // An exclusion criterion that is NOT met lets the patient in.
      criterion('exclusion-neutropenia', 'exclusion', failing.length === 0),
    ],
    explanation: status,
  };
}

export function evidenceFor(className: EvidenceClass, status: EligibilityResult['status'] = 'eligible'): RandomisationEvidence {
  return { classification: classification(className), eligibility: eligibility(status) };
}
