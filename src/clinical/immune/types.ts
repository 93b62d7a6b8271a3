/**
 * Types of the immune classification: rule sets (versioned data with citations) and results
 * (a discriminated union on `class`, each carrying the evidence that produced it).
 */
import type { Concept, ImmuneClassName, IsoDateTime, Provenance } from '../types.ts';
import type { UnitError } from '../units.ts';
import type { CitationId, SourceRef } from './citations.ts';

export type ComparisonOperator = '>' | '>=' | '<' | '<=';

/** One threshold of a rule set: `input operator value unit`, with its source. */
export interface Threshold {
  /** Stable id, e.g. "mals-ferritin"; comparisons refer to it. */
  id: string;
  /** The concept compared, or a derived quantity (e.g. "hscore", "ferritin_fall"). */
  input: Concept | DerivedInput;
  /** Clinical name of the input in texts, e.g. "ferritin", "HLA-DR". */
  label: string;
  operator: ComparisonOperator;
  value: number;
  /** Canonical UCUM unit of the input (see units.ts). */
  unit: string;
  /** How clinicians write the unit. */
  displayUnit: string;
  /** What the comparison decides, for documents. */
  meaning: string;
  source: SourceRef;
}

export type DerivedInput = 'hscore' | 'ferritin_fall';

/** How the classes of a rule set map to treatment. */
export type TherapyLink =
  | { kind: 'immunosep-regimens'; source: SourceRef }
  | { kind: 'none'; reason: string };

interface RuleSetBase {
  id: string;
  /** Semantic version of the rule set data: any change of a threshold is a new version. */
  version: string;
  title: string;
  summary: string;
  citations: readonly CitationId[];
  /** Samples older than this (relative to the evaluation time) are stale and not used. */
  validityWindow: { hours: number; source: SourceRef };
  therapy: TherapyLink;
  /** Caveats shown to clinicians with the rule set. */
  notes: readonly string[];
}

/**
 * Ferritin for MALS, then HLA-DR for immunoparalysis (ImmunoSep, PROVIDE). MALS takes
 * precedence, so immunoparalysis requires the MALS ferritin comparison to be false.
 */
export interface FerritinHlaDrRuleSet extends RuleSetBase {
  kind: 'ferritin-hla-dr';
  /** hla_dr (molecules/monocyte) or hla_dr_percent (% positive monocytes). */
  hlaDrConcept: 'hla_dr' | 'hla_dr_percent';
  thresholds: { malsFerritin: Threshold; immunoparalysisHlaDr: Threshold };
  reversal: FerritinHlaDrReversal | null;
}

/** Reversal of immune dysfunction on treatment. */
export interface FerritinHlaDrReversal {
  /** MALS reversal: ferritin fall from baseline, in % of baseline. */
  malsFerritinFall: Threshold;
  /** Immunoparalysis reversal: HLA-DR above this ... */
  immunoparalysisHlaDr: Threshold;
  /** ... together with ferritin below this. */
  immunoparalysisFerritin: Threshold;
}

/** A score from a table of items (HScore); MALS when the score passes the cut-off. */
export interface ScoreRuleSet extends RuleSetBase {
  kind: 'score';
  scoreName: string;
  items: readonly ScoreItem[];
  malsScore: Threshold;
}

/** One bound of a band: value `operator` bound, e.g. >= 38.4. */
export interface BandBound {
  operator: ComparisonOperator;
  value: number;
}

export interface ScoreBand {
  points: number;
  lower?: BandBound;
  upper?: BandBound;
}

/** A criterion counted by a count item: a finding (1/0 concept) or a threshold on a value. */
export type CountCriterion =
  | { kind: 'finding'; concept: Concept; label: string }
  | { kind: 'threshold'; threshold: Threshold & { input: Concept } };

export type ScoreItem =
  /** Points by the band the value falls in (temperature, ferritin...). */
  | { kind: 'bands'; id: string; label: string; concept: Concept; displayUnit: string; bands: readonly ScoreBand[]; source: SourceRef }
  /** Points by how many criteria are met (organomegaly, cytopenias, single findings). */
  | {
      kind: 'count';
      id: string;
      label: string;
      criteria: readonly CountCriterion[];
      /** pointsByCount[k] = points when k criteria are met. */
      pointsByCount: readonly number[];
      source: SourceRef;
    };

/** One marker against one threshold (suPAR). */
export interface SingleMarkerRuleSet extends RuleSetBase {
  kind: 'single-marker';
  marker: Threshold & { input: Concept };
  /** The class when the marker comparison holds; 'unclassified' otherwise. */
  positiveClass: 'MALS' | 'immunoparalysis';
}

export type ImmuneRuleSet = FerritinHlaDrRuleSet | ScoreRuleSet | SingleMarkerRuleSet;

export interface RuleSetRef {
  id: string;
  version: string;
}

// --- results -------------------------------------------------------------------------------

/** A measurement used by a decision, in canonical units, with what was reported. */
export interface InputEvidence {
  concept: Concept;
  value: number;
  /** Canonical UCUM unit. */
  unit: string;
  time: IsoDateTime;
  /** Hours from the sample to the evaluation time. */
  ageHours: number;
  reported: { value: number; unit: string };
  provenance?: Provenance;
}

/** One comparison of an input against a threshold, as evaluated. */
export interface Comparison {
  /** Threshold id in the rule set. */
  rule: string;
  input: Concept | DerivedInput;
  value: number;
  unit: string;
  /** Sample time, for measured inputs. */
  time?: IsoDateTime;
  operator: ComparisonOperator;
  threshold: number;
  thresholdUnit: string;
  result: boolean;
  /** e.g. "ferritin 4450.4 ng/mL > 4420 ng/mL" or "ferritin 4420 ng/mL is not > 4420 ng/mL". */
  text: string;
}

/** Points of one score item. */
export interface ScoreItemEvidence {
  item: string;
  /** Null when the item could not be scored (missing or stale inputs). */
  points: number | null;
  /** Bounds of the item's points given what is known (equal when fully known). */
  minPoints: number;
  maxPoints: number;
  text: string;
}

export interface Evidence {
  inputs: InputEvidence[];
  comparisons: Comparison[];
  /** Item-by-item points, for score rule sets. */
  score?: { name: string; minPoints: number; maxPoints: number; items: ScoreItemEvidence[] };
}

/** An input whose newest sample is older than the validity window. */
export interface StaleInput {
  concept: Concept;
  time: IsoDateTime;
  ageHours: number;
  windowHours: number;
  value: number;
  unit: string;
}

/** A sample that could not be used: unit not convertible, implausible, refused, bad time. */
export interface RejectedInput {
  concept: Concept;
  time: IsoDateTime;
  value: number;
  unit: string;
  reason: UnitError['kind'] | 'invalid-time';
  message: string;
  provenance?: Provenance;
}

interface ClassificationBase {
  ruleSet: RuleSetRef;
  evaluatedAt: IsoDateTime;
  evidence: Evidence;
  /** Samples passed over because they could not be used. */
  rejected: RejectedInput[];
  /** One-line explanation, e.g. "MALS: ferritin 4450.4 ng/mL > 4420 ng/mL (immunosep 1.0.0)". */
  summary: string;
}

export type ImmuneClassification =
  | (ClassificationBase & { class: 'MALS' })
  | (ClassificationBase & { class: 'immunoparalysis' })
  | (ClassificationBase & { class: 'unclassified' })
  | (ClassificationBase & {
      class: 'indeterminate';
      /** Inputs with no usable sample (none at all, or only rejected ones). */
      missing: Concept[];
      /** Inputs whose newest sample is stale. */
      stale: StaleInput[];
      /** Classes still possible given what is known, e.g. ["immunoparalysis", "unclassified"]. */
      possible: Exclude<ImmuneClassName, 'indeterminate'>[];
    });

export type DeterminedClassName = Exclude<ImmuneClassName, 'indeterminate'>;
