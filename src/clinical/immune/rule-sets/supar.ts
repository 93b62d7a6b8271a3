/**
 * suPAR-guided classification (SAVE-MORE, CLINICAL.md section 2): plasma suPAR >= 6 ng/mL
 * identifies the IL-1-driven hyperinflammation that SAVE-MORE treated with anakinra
 * (100 mg SC daily for 10 days, COVID-19 pneumonia). Reported under the MALS class name.
 */
import type { SingleMarkerRuleSet } from '../types.ts';

export const SUPAR: SingleMarkerRuleSet = {
  kind: 'single-marker',
  id: 'suPAR',
  version: '1.0.0',
  title: 'suPAR (SAVE-MORE): hyperinflammation by soluble urokinase plasminogen activator receptor',
  summary:
    'MALS-class hyperinflammation when plasma suPAR is at least 6 ng/mL; otherwise unclassified. ' +
    'Validated in COVID-19 pneumonia, not in bacterial sepsis.',
  citations: ['save-more', 'clinical-spec'],
  validityWindow: { hours: 48, source: { citation: 'clinical-spec', locator: 'section 2 (sample age)' } },
  marker: {
    id: 'supar-hyperinflammation',
    input: 'suPAR',
    label: 'suPAR',
    operator: '>=',
    value: 6,
    unit: 'ng/mL',
    displayUnit: 'ng/mL',
    meaning: 'IL-1-driven hyperinflammation (reported as MALS)',
    source: { citation: 'save-more', locator: 'inclusion: plasma suPAR >= 6 ng/mL' },
  },
  positiveClass: 'MALS',
  therapy: {
    kind: 'none',
    reason:
      'the SAVE-MORE regimen (anakinra 100 mg SC daily for 10 days, COVID-19 pneumonia) is not an ImmunoSep regimen and is not planned by ImmunoGuide',
  },
  notes: [
    'suPAR cannot identify immunoparalysis: unclassified means suPAR below 6 ng/mL.',
    'No reversal criteria are defined for this rule set.',
  ],
};
