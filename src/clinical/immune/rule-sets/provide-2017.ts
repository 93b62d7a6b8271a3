/**
 * PROVIDE-era classification (CLINICAL.md section 2): MALS when ferritin > 4420 ng/mL;
 * immunoparalysis when HLA-DR is expressed on < 30 % of monocytes (the older percentage
 * definition, which is not convertible to molecules per monocyte).
 */
import type { FerritinHlaDrRuleSet } from '../types.ts';

const SECTION_2 = { citation: 'clinical-spec', locator: 'section 2 (HLA-DR as % positive monocytes, PROVIDE-era definition)' } as const;

export const PROVIDE_2017: FerritinHlaDrRuleSet = {
  kind: 'ferritin-hla-dr',
  id: 'provide-2017',
  version: '1.0.0',
  title: 'PROVIDE (2017): MALS by ferritin, immunoparalysis by % HLA-DR positive monocytes',
  summary:
    'MALS when ferritin is above 4420 ng/mL; otherwise immunoparalysis when fewer than 30 % of ' +
    'monocytes express HLA-DR; otherwise unclassified. MALS takes precedence.',
  citations: ['provide', 'clinical-spec'],
  validityWindow: { hours: 48, source: { citation: 'clinical-spec', locator: 'section 2 (sample age)' } },
  hlaDrConcept: 'hla_dr_percent',
  thresholds: {
    malsFerritin: {
      id: 'mals-ferritin',
      input: 'ferritin',
      label: 'ferritin',
      operator: '>',
      value: 4420,
      unit: 'ng/mL',
      displayUnit: 'ng/mL',
      meaning: 'MALS; ferritin <= 4420 ng/mL rules MALS out',
      source: { citation: 'provide', locator: 'MALS: ferritin > 4420 ng/mL, as digested in CLINICAL.md section 2' },
    },
    immunoparalysisHlaDr: {
      id: 'immunoparalysis-hla-dr-percent',
      input: 'hla_dr_percent',
      label: 'HLA-DR positive monocytes',
      operator: '<',
      value: 30,
      unit: '%',
      displayUnit: '%',
      meaning: 'immunoparalysis, when MALS is ruled out (ferritin <= 4420 ng/mL)',
      source: SECTION_2,
    },
  },
  reversal: null,
  therapy: {
    kind: 'none',
    reason:
      'ImmunoGuide plans the ImmunoSep regimens only for the immunosep rule set; PROVIDE-era classes are shown for comparison',
  },
  notes: [
    'Uses HLA-DR as % positive monocytes (concept hla_dr_percent); molecules per monocyte are not converted into a percentage.',
    'No reversal criteria are defined for this rule set.',
  ],
};
