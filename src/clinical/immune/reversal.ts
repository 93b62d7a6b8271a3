/**
 * Reversal of immune dysfunction on treatment (CLINICAL.md section 2; secondary endpoint of
 * section 5: reversal by day 15 and time to reversal).
 * - MALS reverses when ferritin falls by at least 15 % of the baseline value.
 * - Immunoparalysis reverses when HLA-DR rises above 8000 molecules/monocyte with ferritin
 *   below 4420 ng/mL (both samples valid at the same time).
 * The on-treatment samples are scanned in time order; the first time the criteria hold is the
 * time of reversal. "no" needs a valid assessment at `at`; without one the answer is "unknown".
 */
import { hoursBetween, parseInstant } from '../instant.ts';
import { decimalRound } from '../numeric.ts';
import type { Concept, ImmuneClassName, IsoDateTime, Measurement } from '../types.ts';
import { compare, quantity } from './comparison.ts';
import { unavailability, unavailable } from './decision.ts';
import { DEFAULT_IMMUNE_RULE_SET } from './rule-sets/index.ts';
import { type InputSelection, assertOnePatient, evaluationInstant, selectInputs } from './samples.ts';
import type {
  Evidence,
  FerritinHlaDrReversal,
  FerritinHlaDrRuleSet,
  ImmuneClassification,
  ImmuneRuleSet,
  InputEvidence,
  RuleSetRef,
  StaleInput,
} from './types.ts';

interface ReversalBase {
  ruleSet: RuleSetRef;
  baselineClass: ImmuneClassName;
  evaluatedAt: IsoDateTime;
  summary: string;
}

export type ReversalAssessment =
  | (ReversalBase & {
      status: 'yes';
      /** Time of the sample that first met the reversal criteria. */
      firstReversalAt: IsoDateTime;
      /** Hours from the baseline classification (baseline.evaluatedAt) to the first reversal. */
      hoursFromBaseline: number;
      evidence: Evidence;
    })
  | (ReversalBase & { status: 'no'; evidence: Evidence })
  | (ReversalBase & {
      status: 'unknown';
      /** Evidence of the latest complete assessment before `at`, if there was one. */
      evidence: Evidence | null;
      missing: Concept[];
      stale: StaleInput[];
    });

type Dysfunction = 'MALS' | 'immunoparalysis';

/** One assessment at one time: complete (criteria evaluated) or not. */
type Assessment = { complete: true; reversed: boolean; evidence: Evidence; text: string } | { complete: false; selection: InputSelection; concepts: Concept[]; text: string };

/**
 * Whether the baseline immune dysfunction has reversed by `at`, from the samples taken after
 * the baseline samples and up to `at`.
 */
export function assessReversal(
  baseline: ImmuneClassification,
  measurementsOnTreatment: readonly Measurement[],
  at: IsoDateTime,
  ruleSet: ImmuneRuleSet = DEFAULT_IMMUNE_RULE_SET,
): ReversalAssessment {
  assertOnePatient(measurementsOnTreatment);
  const atMs = evaluationInstant(at);
  const base = { ruleSet: { id: ruleSet.id, version: ruleSet.version }, baselineClass: baseline.class, evaluatedAt: at };
  const unknown = (reason: string): ReversalAssessment => ({
    ...base,
    status: 'unknown',
    evidence: null,
    missing: [],
    stale: [],
    summary: `reversal unknown: ${reason}`,
  });

  if (ruleSet.kind !== 'ferritin-hla-dr' || ruleSet.reversal === null) {
    return unknown(`rule set ${ruleSet.id} ${ruleSet.version} defines no reversal criteria`);
  }
  if (baseline.ruleSet.id !== ruleSet.id || baseline.ruleSet.version !== ruleSet.version) {
    return unknown(
      `the baseline was classified under ${baseline.ruleSet.id} ${baseline.ruleSet.version}, not ${ruleSet.id} ${ruleSet.version}`,
    );
  }
  if (baseline.class !== 'MALS' && baseline.class !== 'immunoparalysis') {
    return unknown(`the baseline class is ${baseline.class}: there is no immune dysfunction to reverse`);
  }
  const baselineFerritin = baseline.evidence.inputs.find((i) => i.concept === 'ferritin');
  if (baselineFerritin === undefined) return unknown('the baseline evidence holds no ferritin');

  const criteria = ruleSet.reversal;
  const dysfunction: Dysfunction = baseline.class;
  const concepts: Concept[] = dysfunction === 'MALS' ? ['ferritin'] : [ruleSet.hlaDrConcept, 'ferritin'];
  const afterMs = Math.max(...baseline.evidence.inputs.map((i) => parseInstant(i.time) ?? -Infinity));
  const onTreatment = measurementsOnTreatment.filter((m) => {
    const ms = parseInstant(m.time);
    return concepts.includes(m.concept) && ms !== null && ms > afterMs && ms <= atMs;
  });

  const assess = (time: IsoDateTime): Assessment => {
    const selection = selectInputs(onTreatment, concepts, time, ruleSet.validityWindow.hours);
    return dysfunction === 'MALS'
      ? assessMals(criteria, baselineFerritin, selection)
      : assessImmunoparalysis(criteria, ruleSet, selection);
  };

  // Scan in time order: every distinct sample time is a moment the criteria may first hold.
  const times = [...new Map(onTreatment.map((m) => [parseInstant(m.time) ?? 0, m.time])).entries()]
    .sort(([a], [b]) => a - b)
    .map(([, time]) => time);
  let lastComplete: Evidence | null = null;
  for (const time of times) {
    const assessment = assess(time);
    if (!assessment.complete) continue;
    lastComplete = assessment.evidence;
    if (assessment.reversed) {
      return {
        ...base,
        status: 'yes',
        firstReversalAt: time,
        hoursFromBaseline: decimalRound(hoursBetween(evaluationInstant(baseline.evaluatedAt), evaluationInstant(time))),
        evidence: assessment.evidence,
        summary: `${dysfunction} reversed at ${time}: ${assessment.text} (rule set ${ruleSet.id} ${ruleSet.version})`,
      };
    }
  }

  const final = assess(at);
  if (final.complete) {
    return {
      ...base,
      status: 'no',
      evidence: final.evidence,
      summary: `${dysfunction} not reversed by ${at}: ${final.text} (rule set ${ruleSet.id} ${ruleSet.version})`,
    };
  }
  return {
    ...base,
    status: 'unknown',
    evidence: lastComplete,
    ...unavailable(final.selection, final.concepts),
    summary: `reversal of ${dysfunction} unknown at ${at}: ${final.text} (rule set ${ruleSet.id} ${ruleSet.version})`,
  };
}

function assessMals(criteria: FerritinHlaDrReversal, baseline: InputEvidence, selection: InputSelection): Assessment {
  const current = selection.usable.get('ferritin');
  if (!current) {
    return { complete: false, selection, concepts: ['ferritin'], text: unavailability(selection, 'ferritin') };
  }
  // Fall in % of baseline, rounded to 12 digits so that an exact 15 % fall is exactly 15.
  const fallPercent = decimalRound(((baseline.value - current.value) / baseline.value) * 100);
  const comparison = compare(criteria.malsFerritinFall, fallPercent, { time: current.time });
  const text = `${comparison.text} (baseline ${quantity(baseline.value, 'ng/mL')} at ${baseline.time}, now ${quantity(current.value, 'ng/mL')} at ${current.time})`;
  return {
    complete: true,
    reversed: comparison.result,
    evidence: { inputs: [baseline, current], comparisons: [{ ...comparison, text }] },
    text,
  };
}

function assessImmunoparalysis(
  criteria: FerritinHlaDrReversal,
  ruleSet: FerritinHlaDrRuleSet,
  selection: InputSelection,
): Assessment {
  const hlaDr = selection.usable.get(ruleSet.hlaDrConcept);
  const ferritin = selection.usable.get('ferritin');
  if (!hlaDr || !ferritin) {
    const concepts: Concept[] = [ruleSet.hlaDrConcept, 'ferritin'];
    const absent = concepts.filter((c) => !selection.usable.has(c));
    return { complete: false, selection, concepts: absent, text: absent.map((c) => unavailability(selection, c)).join('; ') };
  }
  const hlaComparison = compare(criteria.immunoparalysisHlaDr, hlaDr.value, { time: hlaDr.time });
  const ferritinComparison = compare(criteria.immunoparalysisFerritin, ferritin.value, { time: ferritin.time });
  return {
    complete: true,
    reversed: hlaComparison.result && ferritinComparison.result,
    evidence: { inputs: [hlaDr, ferritin], comparisons: [hlaComparison, ferritinComparison] },
    text: `${hlaComparison.text}; ${ferritinComparison.text}`,
  };
}
