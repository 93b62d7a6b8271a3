/**
 * HScore (Fardet 2014) for reactive haemophagocytic syndrome, used as a MALS definition:
 * MALS when the score is >= 169 points (the cut-off with the best diagnostic accuracy in the
 * derivation study). The points table is CLINICAL.md section 2, item by item.
 */
import type { Concept } from '../../types.ts';
import type { ScoreBand, ScoreRuleSet, Threshold } from '../types.ts';

const TABLE = { citation: 'hscore', locator: 'HScore points table (CLINICAL.md section 2)' } as const;

function cytopenia(
  input: 'hemoglobin' | 'leukocytes' | 'platelets',
  label: string,
  value: number,
  unit: string,
  displayUnit: string,
): Threshold & { input: Concept } {
  return {
    id: `hscore-cytopenia-${input}`,
    input,
    label,
    operator: '<=',
    value,
    unit,
    displayUnit,
    meaning: `${label} cytopenia (one lineage)`,
    source: TABLE,
  };
}

/** Bands below / between (inclusive) / above two cut points, as the table prints them. */
function threeBands(low: number, high: number, points: readonly [number, number, number]): ScoreBand[] {
  return [
    { points: points[0], upper: { operator: '<', value: low } },
    { points: points[1], lower: { operator: '>=', value: low }, upper: { operator: '<=', value: high } },
    { points: points[2], lower: { operator: '>', value: high } },
  ];
}

export const HSCORE: ScoreRuleSet = {
  kind: 'score',
  id: 'hscore',
  version: '1.0.0',
  title: 'HScore (Fardet 2014): MALS by the reactive haemophagocytic syndrome score',
  summary:
    'MALS when the HScore is at least 169 points; otherwise unclassified. Missing items count 0 ' +
    'points for "at least" and their maximum for "at most": the class is given only when the ' +
    'missing items cannot change it.',
  citations: ['hscore', 'clinical-spec'],
  validityWindow: { hours: 48, source: { citation: 'clinical-spec', locator: 'section 2 (sample age)' } },
  scoreName: 'HScore',
  items: [
    {
      kind: 'count',
      id: 'immunosuppression',
      label: 'known underlying immunosuppression',
      criteria: [{ kind: 'finding', concept: 'immunosuppression', label: 'known immunosuppression' }],
      pointsByCount: [0, 18],
      source: TABLE,
    },
    {
      kind: 'bands',
      id: 'temperature',
      label: 'temperature',
      concept: 'temperature',
      displayUnit: '°C',
      bands: threeBands(38.4, 39.4, [0, 33, 49]),
      source: TABLE,
    },
    {
      kind: 'count',
      id: 'organomegaly',
      label: 'organomegaly',
      criteria: [
        { kind: 'finding', concept: 'hepatomegaly', label: 'hepatomegaly' },
        { kind: 'finding', concept: 'splenomegaly', label: 'splenomegaly' },
      ],
      pointsByCount: [0, 23, 38],
      source: TABLE,
    },
    {
      kind: 'count',
      id: 'cytopenias',
      label: 'number of cytopenic lineages',
      criteria: [
        { kind: 'threshold', threshold: cytopenia('hemoglobin', 'haemoglobin', 9.2, 'g/dL', 'g/dL') },
        { kind: 'threshold', threshold: cytopenia('leukocytes', 'white blood cells', 5, '10*3/uL', 'x10^3/uL') },
        { kind: 'threshold', threshold: cytopenia('platelets', 'platelets', 110, '10*3/uL', 'x10^3/uL') },
      ],
      // One lineage scores 0, two 24, three 34.
      pointsByCount: [0, 0, 24, 34],
      source: TABLE,
    },
    {
      kind: 'bands',
      id: 'ferritin',
      label: 'ferritin',
      concept: 'ferritin',
      displayUnit: 'ng/mL',
      bands: threeBands(2000, 6000, [0, 35, 50]),
      source: TABLE,
    },
    {
      kind: 'bands',
      id: 'triglycerides',
      label: 'triglycerides',
      concept: 'triglycerides',
      displayUnit: 'mmol/L',
      bands: threeBands(1.5, 4, [0, 44, 64]),
      source: TABLE,
    },
    {
      kind: 'bands',
      id: 'fibrinogen',
      label: 'fibrinogen',
      concept: 'fibrinogen',
      displayUnit: 'g/L',
      bands: [
        { points: 0, lower: { operator: '>', value: 2.5 } },
        { points: 30, upper: { operator: '<=', value: 2.5 } },
      ],
      source: TABLE,
    },
    {
      kind: 'bands',
      id: 'ast',
      label: 'AST',
      concept: 'ast',
      displayUnit: 'U/L',
      bands: [
        { points: 0, upper: { operator: '<', value: 30 } },
        { points: 19, lower: { operator: '>=', value: 30 } },
      ],
      source: TABLE,
    },
    {
      kind: 'count',
      id: 'hemophagocytosis',
      label: 'haemophagocytosis on bone marrow aspirate',
      criteria: [{ kind: 'finding', concept: 'hemophagocytosis', label: 'haemophagocytosis on bone marrow aspirate' }],
      pointsByCount: [0, 35],
      source: TABLE,
    },
  ],
  malsScore: {
    id: 'hscore-mals',
    input: 'hscore',
    label: 'HScore',
    operator: '>=',
    value: 169,
    unit: '{score}',
    displayUnit: 'points',
    meaning: 'MALS (reactive haemophagocytic syndrome probable)',
    source: { citation: 'hscore', locator: 'cut-off 169 (CLINICAL.md section 2)' },
  },
  therapy: {
    kind: 'none',
    reason: 'ImmunoGuide plans the ImmunoSep regimens only for the immunosep rule set; the HScore class is shown for comparison',
  },
  notes: [
    'The HScore cannot identify immunoparalysis: unclassified means an HScore below 169.',
    'Findings (immunosuppression, hepatomegaly, splenomegaly, haemophagocytosis) are recorded as 1 (present) or 0 (absent) and, like laboratory values, must be within the validity window.',
    'No reversal criteria are defined for this rule set.',
  ],
};
