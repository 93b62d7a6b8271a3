/**
 * ImmunoSep immune classification (the default rule set), CLINICAL.md section 2:
 * - MALS: ferritin > 4420 ng/mL (takes precedence).
 * - Immunoparalysis: ferritin <= 4420 ng/mL and mHLA-DR < 5000 molecules/monocyte
 *   (Quantibrite-type bead-calibrated flow cytometry, processed within 6 h of sampling).
 * - Unclassified: neither.
 * - Reversal on treatment: MALS when ferritin falls >= 15 % from baseline; immunoparalysis when
 *   mHLA-DR > 8000 molecules/monocyte with ferritin < 4420 ng/mL.
 */
import type { FerritinHlaDrRuleSet } from '../types.ts';

const SECTION_2 = { citation: 'clinical-spec', locator: 'section 2 (sample age: default validity window 48 h)' } as const;
const TRIAL = { citation: 'immunosep', locator: 'biomarker strata, as digested in CLINICAL.md section 2' } as const;

export const IMMUNOSEP: FerritinHlaDrRuleSet = {
  kind: 'ferritin-hla-dr',
  id: 'immunosep',
  version: '1.0.0',
  title: 'ImmunoSep: MALS and immunoparalysis by ferritin and monocyte HLA-DR',
  summary:
    'MALS when ferritin is above 4420 ng/mL; otherwise immunoparalysis when monocyte HLA-DR is ' +
    'below 5000 molecules per monocyte; otherwise unclassified (not eligible for targeted therapy). ' +
    'MALS takes precedence, so the classes are mutually exclusive.',
  citations: ['immunosep', 'immunosep-protocol', 'clinical-spec'],
  validityWindow: { hours: 48, source: SECTION_2 },
  hlaDrConcept: 'hla_dr',
  thresholds: {
    malsFerritin: {
      id: 'mals-ferritin',
      input: 'ferritin',
      label: 'ferritin',
      operator: '>',
      value: 4420,
      unit: 'ng/mL',
      displayUnit: 'ng/mL',
      meaning: 'MALS (macrophage activation-like syndrome); ferritin <= 4420 ng/mL rules MALS out',
      source: TRIAL,
    },
    immunoparalysisHlaDr: {
      id: 'immunoparalysis-hla-dr',
      input: 'hla_dr',
      label: 'HLA-DR',
      operator: '<',
      value: 5000,
      unit: '{molecules}/{cell}',
      displayUnit: 'molecules/monocyte',
      meaning: 'immunoparalysis, when MALS is ruled out (ferritin <= 4420 ng/mL)',
      source: TRIAL,
    },
  },
  reversal: {
    malsFerritinFall: {
      id: 'mals-reversal-ferritin-fall',
      input: 'ferritin_fall',
      label: 'ferritin fall from baseline',
      operator: '>=',
      value: 15,
      unit: '%',
      displayUnit: '%',
      meaning: 'reversal of MALS on treatment',
      source: { citation: 'clinical-spec', locator: 'section 2 (Reversal); section 5 (secondary endpoints, day 15)' },
    },
    immunoparalysisHlaDr: {
      id: 'immunoparalysis-reversal-hla-dr',
      input: 'hla_dr',
      label: 'HLA-DR',
      operator: '>',
      value: 8000,
      unit: '{molecules}/{cell}',
      displayUnit: 'molecules/monocyte',
      meaning: 'reversal of immunoparalysis on treatment, together with ferritin < 4420 ng/mL',
      source: { citation: 'clinical-spec', locator: 'section 2 (Reversal)' },
    },
    immunoparalysisFerritin: {
      id: 'immunoparalysis-reversal-ferritin',
      input: 'ferritin',
      label: 'ferritin',
      operator: '<',
      value: 4420,
      unit: 'ng/mL',
      displayUnit: 'ng/mL',
      meaning: 'reversal of immunoparalysis on treatment, together with HLA-DR > 8000 molecules/monocyte',
      source: { citation: 'clinical-spec', locator: 'section 2 (Reversal)' },
    },
  },
  therapy: { kind: 'immunosep-regimens', source: { citation: 'clinical-spec', locator: 'section 3 (Targeted treatment)' } },
  notes: [
    'mHLA-DR must be quantified as antibodies bound per CD45+/CD14+ monocyte with calibrated beads (Quantibrite-type assay) and processed within 6 h of sampling; HLA-DR reported as % positive monocytes is refused.',
    'Missing ferritin: no classification. Ferritin <= 4420 ng/mL without a valid HLA-DR: "not MALS, immunoparalysis unknown" (indeterminate), never unclassified.',
    'Samples older than the validity window are stale and not used; the newest valid sample of each input is used.',
  ],
};
