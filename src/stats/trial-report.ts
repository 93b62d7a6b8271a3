/**
 * One trial report, produced the same way wherever the dataset comes from: `immunoguide report`
 * (trial.json) and the server's GET /api/trials/{trialId}/analysis and /report (the store) both
 * call these two functions, so the CLI file and the HTTP answer of the same data agree.
 *
 * The unblinded report takes the dataset with arms (statistician and unblinded roles only); the
 * blinded one takes the arm-free projection and cannot see an arm. A blinded failure reports a
 * count only: its problems are indexed in the canonical (blinded) order and name no patient.
 */
import { type Result, err, ok } from '../clinical/types.ts';
import { type ReportMeta, renderBlindedReport, renderTrialReport } from './report/html.ts';
import type { BlindedTrialDataset, TrialDataset } from './trial-data.ts';
import { type AnalysisProblem, type BlindedTrialAnalysis, type TrialAnalysis, analyseTrial, analyseTrialBlinded } from './trial-analysis.ts';

export interface ReportFailure {
  /** One line for people, e.g. "endpoint data problems: P3 patients[2].sofa[0].total: ...". */
  message: string;
  /** Every problem with its patient and path (unblinded only; null for the blinded report). */
  problems: AnalysisProblem[] | null;
}

interface ReportBase {
  /** Patients in the dataset (randomised). */
  patients: number;
  /** Patients in the analysed (mITT) population. */
  analysed: number;
}

export interface UnblindedTrialReport extends ReportBase {
  view: 'unblinded';
  analysis: TrialAnalysis;
  /** The self-contained HTML document (computed on demand: the JSON answer does not need it). */
  render(meta: ReportMeta): string;
}

export interface BlindedTrialReport extends ReportBase {
  view: 'blinded';
  analysis: BlindedTrialAnalysis;
  render(meta: ReportMeta): string;
}

/** The unblinded analysis and report of a dataset with arms. */
export function unblindedTrialReport(data: TrialDataset): Result<UnblindedTrialReport, ReportFailure> {
  const analysis = analyseTrial(data);
  if (!analysis.ok) {
    const shown = analysis.error.slice(0, 10).map((p) => `${p.patientId ?? ''} ${p.path}: ${p.message}`.trim());
    return err({ message: `endpoint data problems: ${shown.join('; ')}`, problems: analysis.error });
  }
  const a = analysis.value;
  return ok({
    view: 'unblinded',
    analysis: a,
    patients: data.patients.length,
    analysed: a.population.analysed.active + a.population.analysed.placebo,
    render: (meta) => renderTrialReport(a, meta),
  });
}

/** The blinded pooled analysis and report, from the arm-free projection only. */
export function blindedTrialReport(data: BlindedTrialDataset): Result<BlindedTrialReport, ReportFailure> {
  const analysis = analyseTrialBlinded(data);
  if (!analysis.ok) {
    return err({
      message: `${analysis.error.length} endpoint data problem(s); run the unblinded report or validate the data to see them`,
      problems: null,
    });
  }
  const a = analysis.value;
  return ok({
    view: 'blinded',
    analysis: a,
    patients: data.patients.length,
    analysed: a.population.analysed,
    render: (meta) => renderBlindedReport(a, meta),
  });
}
