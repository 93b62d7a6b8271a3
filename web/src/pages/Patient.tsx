/**
 * One patient: the immune class explained in plain words (with the rule set, its version and
 * sources), data gaps called out, time-aligned charts (ferritin and mHLA-DR with the rule set's
 * thresholds, SOFA total and components, vasopressors, the study drug's scheduled doses), the
 * therapy calendar with its safety
 * warnings, and the Sepsis-3 and eligibility reasoning. Everything comes from the API; a missing
 * endpoint shows "not available", never an invented value.
 */
import { useApp, siteName } from '../context.ts';
import { useApiCall, useQueryParam } from '../hooks.ts';
import { ClassBadge } from '../components/ClassBadge.tsx';
import { Failure, Loading, NotAvailable } from '../components/States.tsx';
import { AsOfBanner, AsOfControl } from '../components/AsOf.tsx';
import { Timeline } from '../components/Timeline.tsx';
import { TherapySection, useKitSchedule } from '../components/Therapy.tsx';
import { Explanation } from '../components/Explanation.tsx';
import { type Enrolment, EnrolmentBox, useEnrolment } from '../components/Enrolment.tsx';
import { ageYears, formatDate, formatDateTime } from '../format.ts';
import type { AssessmentResponse, MeasurementRow, Patient, RuleSetsResponse } from '../types.ts';
import type { Loadable } from '../hooks.ts';
import type { BlindedKitSchedule } from '../components/Therapy.tsx';
import type { StudyDrug } from '../components/Timeline.tsx';

const CHART_CONCEPTS = ['ferritin', 'hla_dr', 'hla_dr_percent', 'norepinephrine', 'epinephrine', 'dopamine', 'dobutamine'];

export function PatientPage({ patientId }: { patientId: string }) {
  const { api } = useApp();
  const at = useQueryParam('at');
  const hasAssessment = api.has('GET /api/patients/{patientId}/assessment');
  const hasRuleSets = api.has('GET /api/rule-sets');
  const id = encodeURIComponent(patientId);

  const [patient] = useApiCall(() => api.get<Patient>(`/api/patients/${id}`), [id]);
  const [assessment] = useApiCall<AssessmentResponse | null>(
    () => (hasAssessment ? api.get<AssessmentResponse>(`/api/patients/${id}/assessment`, { at }) : Promise.resolve({ ok: true as const, data: null, status: 200 })),
    [id, at, hasAssessment],
  );
  // Charts show what was known at the evaluation time: nothing recorded after it (exclusive bound).
  const [measurements] = useApiCall(
    () =>
      api.get<{ measurements: MeasurementRow[] }>(`/api/patients/${id}/measurements`, {
        concept: CHART_CONCEPTS.join(','),
        to: new Date((at ? Date.parse(at) : Date.now()) + 1).toISOString(),
      }),
    [id, at],
  );
  const [ruleSets] = useApiCall<RuleSetsResponse | null>(
    () => (hasRuleSets ? api.get<RuleSetsResponse>('/api/rule-sets') : Promise.resolve({ ok: true as const, data: null, status: 200 })),
    [hasRuleSets],
  );

  const enrolment = useEnrolment(patientId);
  const kit = useKitSchedule(patientId, enrolment);

  if (patient.state === 'loading') return <Loading what={`patient ${patientId}`} />;
  if (!patient.result.ok) {
    return (
      <section>
        <h1 tabIndex={-1}>Patient {patientId}</h1>
        <Failure error={patient.result.error} what={`Patient ${patientId}`} />
        <p>
          <a href="/census">Back to the census</a>
        </p>
      </section>
    );
  }
  const p = patient.result.data;
  const assessed = assessment.state === 'done' && assessment.result.ok ? assessment.result.data?.assessment ?? null : null;
  const rules = ruleSets.state === 'done' && ruleSets.result.ok ? ruleSets.result.data : null;
  const rows = measurements.state === 'done' && measurements.result.ok ? measurements.result.data.measurements : null;

  return (
    <article class="patient" data-state={assessment.state === 'done' && measurements.state === 'done' ? 'ready' : 'loading'}>
      <PatientHeader patient={p} at={at} />
      {assessment.state === 'loading' ? (
        <Loading what="the assessment" />
      ) : !hasAssessment || (!assessment.result.ok && assessment.result.error.kind === 'unavailable') ? (
        <NotAvailable feature="Assessment (immune class explanation, SOFA, Sepsis-3, eligibility, therapy)" endpoints={['GET /api/patients/{patientId}/assessment']}>
          <p>The raw biomarker and vasopressor measurements are charted below without interpretation.</p>
        </NotAvailable>
      ) : !assessment.result.ok ? (
        <Failure error={assessment.result.error} what="the assessment" />
      ) : assessed ? (
        <>
          <AsOfBanner at={at} evaluatedAt={assessed.at} />
          <Summary assessment={assessed} enrolment={enrolment} />
          <EnrolmentBox enrolment={enrolment} />
          <DataGaps gaps={assessed.dataGaps} />
          <Explanation classification={assessed.classification} evidenceAgeHours={assessed.evidenceAgeHours} ruleSets={rules} ruleSetsAvailable={hasRuleSets} />
        </>
      ) : null}
      <section aria-labelledby="timeline-h">
        <h2 id="timeline-h">Timeline</h2>
        {measurements.state === 'loading' ? (
          <Loading what="measurements" />
        ) : !measurements.result.ok ? (
          <Failure error={measurements.result.error} what="the measurements" level={3} />
        ) : (
          <Timeline
            measurements={rows ?? []}
            sofaDays={assessed?.sofa.days ?? null}
            at={assessed?.at ?? at}
            classification={assessed?.classification ?? null}
            ruleSets={rules}
            studyDrug={studyDrugOf(enrolment, kit)}
          />
        )}
      </section>
      {assessed ? <TherapySection patientId={patientId} assessment={assessed} at={at} enrolment={enrolment} kit={kit} /> : null}
      {assessed ? <Reasoning assessment={assessed} /> : null}
    </article>
  );
}

function PatientHeader({ patient, at }: { patient: Patient; at: string | null }) {
  const { sites } = useApp();
  const age = ageYears(patient.birthDate, at ? Date.parse(at) : Date.now());
  return (
    <div class="page-head">
      <p class="breadcrumb">
        <a href={at ? `/census?at=${encodeURIComponent(at)}` : '/census'}>ICU census</a> ›
      </p>
      <h1 tabIndex={-1}>Patient {patient.id}</h1>
      <p class="patient-facts">
        {siteName(sites, patient.siteId)} · {age === null ? 'age unknown' : `${age} years`} · {patient.sex ?? 'sex unknown'}
        {patient.birthDate ? ` · born ${formatDate(patient.birthDate)}` : ''}
        {patient.deceasedAt ? <strong class="tag tag-deceased"> · deceased {formatDateTime(patient.deceasedAt)}</strong> : null}
      </p>
      <AsOfControl at={at} />
    </div>
  );
}

function Summary({ assessment, enrolment }: { assessment: AssessmentResponse['assessment']; enrolment: Enrolment }) {
  const c = assessment.classification;
  const enrolled = enrolment.state === 'enrolled' ? enrolment : null;
  const therapy = assessment.therapy;
  const warnings = therapy?.safety.warnings.filter((w) => w.severity === 'warning') ?? [];
  return (
    <section class="summary" aria-labelledby="summary-h">
      <h2 id="summary-h" class="visually-hidden">
        Summary
      </h2>
      <div class="summary-grid">
        <div class="summary-item summary-class">
          <span class="summary-label">Immune class</span>
          <ClassBadge value={c.class} />
          <span class="cell-sub">
            rule set {c.ruleSet.id} {c.ruleSet.version}
          </span>
        </div>
        <div class="summary-item">
          <span class="summary-label">{enrolled ? 'Study medication' : 'Recommendation'}</span>
          {enrolled ? (
            // A randomised patient gets the blinded kit, never open-label treatment from this card.
            <strong class="recommendation">
              Trial {enrolled.trial.id}: blinded kit {enrolled.allocation.kitNumber}
            </strong>
          ) : therapy ? (
            <strong class="recommendation">{therapy.regimen.description}</strong>
          ) : (
            <span>No targeted immunotherapy{c.class === 'indeterminate' ? ' until the immune class is known' : ''}</span>
          )}
          {warnings.length > 0 ? <span class="flag">⚠ {warnings.length} safety warning{warnings.length > 1 ? 's' : ''}: see Therapy</span> : null}
        </div>
        <div class="summary-item">
          <span class="summary-label">SOFA today</span>
          <span class="summary-number">{assessment.sofa.today?.total ?? '—'}</span>
          {assessment.sofa.today && assessment.sofa.today.missing.length > 0 ? (
            <span class="flag">{assessment.sofa.today.missing.length} component(s) not measured</span>
          ) : null}
        </div>
        <div class="summary-item">
          <span class="summary-label">Sepsis-3</span>
          <span>{assessment.sepsis3 === null ? 'not assessable' : assessment.sepsis3.met ? <strong>Met</strong> : 'Not met'}</span>
          {assessment.sepsis3?.onsetTime ? <span class="cell-sub">onset {formatDateTime(assessment.sepsis3.onsetTime)}</span> : null}
        </div>
        <div class="summary-item">
          <span class="summary-label">ImmunoSep eligibility</span>
          <span>{assessment.eligibility ? ELIGIBILITY[assessment.eligibility.status] : 'not assessable'}</span>
          {assessment.eligibility?.mustStartTreatmentBy ? (
            <span class="cell-sub">treat before {formatDateTime(assessment.eligibility.mustStartTreatmentBy)}</span>
          ) : null}
        </div>
      </div>
    </section>
  );
}

const ELIGIBILITY: Record<string, string> = { eligible: 'Eligible', 'not-eligible': 'Not eligible', incomplete: 'Incomplete (criteria unanswered)' };

function DataGaps({ gaps }: { gaps: string[] }) {
  if (gaps.length === 0) {
    return (
      <p class="gaps gaps-none">
        <span aria-hidden="true">✓ </span>No data gaps reported for this assessment.
      </p>
    );
  }
  return (
    <section class="gaps" aria-labelledby="gaps-h">
      <h2 id="gaps-h">
        <span aria-hidden="true">⚠ </span>Data gaps ({gaps.length})
      </h2>
      <ul>
        {gaps.map((g) => (
          <li>{g}</li>
        ))}
      </ul>
    </section>
  );
}

function Reasoning({ assessment }: { assessment: AssessmentResponse['assessment'] }) {
  const s = assessment.sepsis3;
  const e = assessment.eligibility;
  return (
    <section aria-labelledby="reasoning-h">
      <h2 id="reasoning-h">Sepsis-3 and eligibility</h2>
      <div class="two-col">
        <div>
          <h3>Sepsis-3 {s ? `(${s.ruleSet.id} ${s.ruleSet.version})` : ''}</h3>
          {s ? (
            <ul>
              {s.explanation.map((line) => (
                <li>{line}</li>
              ))}
            </ul>
          ) : (
            <p class="muted">Not assessable: see the data gaps.</p>
          )}
        </div>
        <div>
          <h3>ImmunoSep eligibility {e ? `(${e.criteriaSet.id} ${e.criteriaSet.version})` : ''}</h3>
          {e ? (
            <>
              <p>{e.explanation}</p>
              <table class="criteria">
                <caption class="visually-hidden">Eligibility criteria</caption>
                <thead>
                  <tr>
                    <th scope="col">Criterion</th>
                    <th scope="col">Result</th>
                    <th scope="col">Why</th>
                  </tr>
                </thead>
                <tbody>
                  {e.results.map((r) => (
                    <tr>
                      <th scope="row">
                        <span class="cell-sub">{r.kind}</span> {r.text}
                        {r.unconfirmed ? <div class="cell-sub">(unconfirmed: {r.unconfirmed})</div> : null}
                      </th>
                      <td>
                        <span class={`crit crit-${r.passes === null ? 'unknown' : r.passes ? 'pass' : 'fail'}`}>
                          <span aria-hidden="true">{r.passes === null ? '? ' : r.passes ? '✓ ' : '✗ '}</span>
                          {r.passes === null ? 'unknown' : r.passes ? 'passes' : 'fails'}
                        </span>
                        <div class="cell-sub">{r.evaluatedBy === 'site' ? 'site answers' : 'automatic'}</div>
                      </td>
                      <td>
                        {r.reason}
                        <div class="cell-sub">Source: {r.citation}</div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : (
            <p class="muted">Not assessable.</p>
          )}
        </div>
      </div>
    </section>
  );
}

/** What the timeline's study-drug panel can show: the blinded kit's scheduled doses, or why there are none. */
function studyDrugOf(enrolment: Enrolment, kit: Loadable<BlindedKitSchedule> | null): StudyDrug {
  if (enrolment.state === 'loading') return { state: 'loading' };
  if (enrolment.state === 'unavailable') return { state: 'unavailable', endpoints: ['GET /api/trials/{trialId}/patients/{patientId}/allocation'] };
  if (enrolment.state === 'none') return { state: 'not-enrolled' };
  if (kit === null || kit.state === 'loading') return { state: 'loading' };
  if (!kit.result.ok) {
    return kit.result.error.kind === 'unavailable' ? { state: 'unavailable', endpoints: [kit.result.error.endpoint] } : { state: 'failed', message: kit.result.error.message };
  }
  const k = kit.result.data;
  return {
    state: 'scheduled',
    trialId: enrolment.trial.id,
    kitNumber: enrolment.allocation.kitNumber,
    doseCount: k.administrationCount,
    doses: k.administrations.flatMap((a) => [
      { time: new Date(a.time), route: 'IV', label: `#${a.number} ${a.iv.label}` },
      { time: new Date(a.time), route: 'SC', label: `#${a.number} ${a.sc.label}` },
    ]),
  };
}
