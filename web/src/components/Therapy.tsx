/**
 * The recommended therapy: regimen with its source, safety checks and warnings (the software
 * never changes a dose), and the administration calendar.
 *
 * - Not in a trial: the open treatment plan from GET /api/patients/:id/therapy-plan.
 * - Randomised: the blinded kit schedule from GET /api/trials/:t/patients/:p/kit-schedule. The
 *   open plan is never fetched for a randomised patient, so a blinded user's browser receives
 *   no drug/saline split that could be mistaken for the patient's arm.
 */
import type { ComponentChildren } from 'preact';
import { unavailable } from '../api.ts';
import { useApp } from '../context.ts';
import { type Loadable, useApiCall } from '../hooks.ts';
import { Failure, Loading, NotAvailable } from './States.tsx';
import { formatDate, formatDateTime } from '../format.ts';
import type { Assessment, SafetyWarning, TherapyPlanResponse, Visit } from '../types.ts';
import type { Enrolment } from './Enrolment.tsx';

const SEVERITY_TEXT: Record<string, string> = { warning: 'Warning', advisory: 'Advisory', 'not-checked': 'Not checked' };

export function Warnings({ warnings }: { warnings: SafetyWarning[] }) {
  if (warnings.length === 0) return <p>No safety warning.</p>;
  const order = { warning: 0, advisory: 1, 'not-checked': 2 } as const;
  return (
    <ul class="warnings">
      {[...warnings]
        .sort((a, b) => order[a.severity] - order[b.severity])
        .map((w) => (
          <li class={`warning warning-${w.severity}`}>
            <span class={`sev sev-${w.severity}`}>
              <span aria-hidden="true">{w.severity === 'warning' ? '⚠ ' : w.severity === 'advisory' ? 'ℹ ' : '? '}</span>
              {SEVERITY_TEXT[w.severity] ?? w.severity}
            </span>{' '}
            {w.message}
            {w.consider ? <div>Consider: {w.consider}</div> : null}
            {w.missing?.length ? <div class="cell-sub">Missing: {w.missing.join(', ')}</div> : null}
            <div class="cell-sub">
              Source: {w.citation}
              {w.unconfirmed ? ` · unconfirmed: ${w.unconfirmed}` : ''}
            </div>
          </li>
        ))}
    </ul>
  );
}

/** The blinded kit schedule (BlindedKitView of src/clinical/therapy/plan.ts, without the safety warnings). */
export interface BlindedKitSchedule {
  ruleSet: { id: string; version: string };
  stratum: string;
  start: string;
  end: string;
  administrationCount: number;
  administrations: Array<{ number: number; time: string; studyDay: number; iv: { route: string; volumeMl: number; label: string }; sc: { route: string; volumeMl: number; label: string } }>;
  visits: Visit[];
  note: string;
}

/** One calendar, whichever source: each dose's two components as text. */
interface CalendarModel {
  ruleSet: { id: string; version: string };
  start: string;
  end: string;
  doseCount: number;
  doses: Array<{ number: number; time: string; studyDay: number; iv: string; sc: string }>;
  visits: Visit[];
  caption: string;
  startNote: string;
  details?: ComponentChildren;
}

const KIT_ENDPOINT = 'GET /api/trials/{trialId}/patients/{patientId}/kit-schedule' as const;

/**
 * A randomised patient's blinded kit schedule (null when not randomised). Fetched once for the
 * page: the calendar and the timeline's study-drug panel both read it.
 */
export function useKitSchedule(patientId: string, enrolment: Enrolment): Loadable<BlindedKitSchedule> | null {
  const { api } = useApp();
  const trialId = enrolment.state === 'enrolled' ? enrolment.trial.id : null;
  const [kit] = useApiCall<BlindedKitSchedule>(
    () =>
      trialId === null || !api.has(KIT_ENDPOINT)
        ? unavailable<BlindedKitSchedule>(KIT_ENDPOINT)
        : api.get<BlindedKitSchedule>(`/api/trials/${encodeURIComponent(trialId)}/patients/${encodeURIComponent(patientId)}/kit-schedule`),
    [patientId, trialId],
  );
  return trialId === null ? null : kit;
}

function kitCalendar(k: BlindedKitSchedule, kitNumber: string): CalendarModel {
  return {
    ruleSet: k.ruleSet,
    start: k.start,
    end: k.end,
    doseCount: k.administrationCount,
    doses: k.administrations.map((a) => ({ number: a.number, time: a.time, studyDay: a.studyDay, iv: `${a.iv.label} (${a.iv.volumeMl} mL)`, sc: `${a.sc.label} (${a.sc.volumeMl} mL)` })),
    visits: k.visits,
    caption: `Blinded kit ${kitNumber}: every dose is the kit's two components, one IV infusion and one SC injection.`,
    startNote: '(from randomisation; blinded study medication)',
    details: <p class="cell-sub">{k.note}</p>,
  };
}

export function TherapySection({
  patientId,
  assessment,
  at,
  enrolment,
  kit,
}: {
  patientId: string;
  assessment: Assessment;
  at: string | null;
  enrolment: Enrolment;
  /** useKitSchedule's answer: the calendar of a randomised patient. */
  kit: Loadable<BlindedKitSchedule> | null;
}) {
  const { api } = useApp();
  const therapy = assessment.therapy;
  const enrolled = enrolment.state === 'enrolled' ? enrolment : null;
  const planEndpoint = 'GET /api/patients/{patientId}/therapy-plan' as const;
  const p = encodeURIComponent(patientId);
  const [plan] = useApiCall<CalendarModel>(async () => {
    // Never the open plan for a randomised patient (or before we know): see the file comment.
    if (!therapy || enrolment.state === 'loading' || enrolled) return unavailable<CalendarModel>(planEndpoint);
    if (!api.has(planEndpoint)) return unavailable<CalendarModel>(planEndpoint);
    const answer = await api.get<TherapyPlanResponse>(`/api/patients/${p}/therapy-plan`, { start: at ?? assessment.at, at: assessment.at });
    if (!answer.ok) return answer;
    const pl = answer.data.plan;
    return {
      ok: true,
      status: answer.status,
      data: {
        ruleSet: pl.ruleSet,
        start: pl.start,
        end: pl.end,
        doseCount: pl.doseCount,
        doses: pl.administrations.map((a) => ({
          number: a.number,
          time: a.time,
          studyDay: a.studyDay,
          iv: `${a.iv.contents} (${a.iv.volumeMl} mL)`,
          sc: `${a.sc.contents} (${a.sc.volumeMl} mL)`,
        })),
        visits: pl.visits,
        caption: 'Every dose is an IV infusion and an SC injection (double dummy): one carries the drug, the other is saline.',
        startNote: '(planned start = evaluation time)',
        details: (
          <p class="cell-sub">
            {pl.doseCountRule} {pl.studyDayConvention ?? ''} {pl.visitsNote ?? ''}
          </p>
        ),
      },
    };
  }, [patientId, at, assessment.at, Boolean(therapy), enrolment.state, enrolled?.trial.id]);
  const calendar: Loadable<CalendarModel> =
    enrolled === null
      ? plan
      : kit === null || kit.state === 'loading'
        ? { state: 'loading' }
        : { state: 'done', result: kit.result.ok ? { ok: true, status: kit.result.status, data: kitCalendar(kit.result.data, enrolled.allocation.kitNumber) } : kit.result };

  return (
    <section aria-labelledby="therapy-h" class="therapy">
      <h2 id="therapy-h">Therapy</h2>
      {therapy ? (
        <>
          <p class="recommendation-line">
            {enrolled ? 'Stratum regimen, given blinded (active drug or placebo): ' : 'Recommended: '}
            <strong>{therapy.regimen.description}</strong> · {therapy.regimen.drugLabel}.{' '}
            <span class="cell-sub">Source: {therapy.regimen.citation}</span>
          </p>
          <h3>Safety</h3>
          <Warnings warnings={therapy.safety.warnings} />
          <p class="cell-sub">Safety findings never change the planned dose; the decision stays with the clinician.</p>
          {therapy.safety.checks.length > 0 ? (
            <details>
              <summary>All safety checks ({therapy.safety.checks.length})</summary>
              <ul>
                {therapy.safety.checks.map((c) => (
                  <li>
                    <strong>{c.status}</strong>: {c.summary}
                  </li>
                ))}
              </ul>
            </details>
          ) : null}
          <h3>Calendar</h3>
          {enrolment.state === 'loading' || calendar.state === 'loading' ? (
            <Loading what="the calendar" />
          ) : !calendar.result.ok ? (
            calendar.result.error.kind === 'unavailable' ? (
              <NotAvailable feature={enrolled ? 'Blinded kit schedule' : 'Therapy calendar'} endpoints={[calendar.result.error.endpoint]} level={4} />
            ) : (
              <Failure error={calendar.result.error} what="the calendar" level={4} />
            )
          ) : (
            <Calendar model={calendar.result.data} />
          )}
        </>
      ) : (
        <p>
          No targeted immunotherapy is recommended for this immune class
          {assessment.classification.class === 'indeterminate' ? ' until the class can be determined (see data gaps)' : ''}.
        </p>
      )}
    </section>
  );
}

function Calendar({ model }: { model: CalendarModel }) {
  const byDay = new Map<number, CalendarModel['doses']>();
  for (const d of model.doses) byDay.set(d.studyDay, [...(byDay.get(d.studyDay) ?? []), d]);
  const visits = new Map(model.visits.map((v) => [v.day, v]));
  const lastDay = Math.max(...byDay.keys(), ...model.visits.filter((v) => v.day <= 28).map((v) => v.day), 0);
  const days = Array.from({ length: lastDay + 1 }, (_, d) => d).filter((d) => byDay.has(d) || visits.has(d));
  const time = (iso: string) => new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(Date.parse(iso));
  return (
    <>
      <p>
        {model.doseCount} doses from {formatDateTime(model.start)} to {formatDateTime(model.end)} {model.startNote}.
      </p>
      {model.details ? (
        <details>
          <summary>How doses and study days are counted</summary>
          {model.details}
        </details>
      ) : null}
      <div class="table-wrap">
        <table class="calendar" data-doses={model.doseCount}>
          <caption>
            Administration calendar, rule set {model.ruleSet.id} {model.ruleSet.version}. {model.caption}
          </caption>
          <thead>
            <tr>
              <th scope="col">Study day</th>
              <th scope="col">Date</th>
              <th scope="col">Doses (time: IV / SC)</th>
              <th scope="col">Visit assessments</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => {
              const doses = byDay.get(d) ?? [];
              const visit = visits.get(d);
              const date = doses[0]?.time ?? visit?.windowStart;
              return (
                <tr>
                  <th scope="row">Day {d}</th>
                  <td>{formatDate(date)}</td>
                  <td>
                    {doses.length === 0 ? (
                      <span class="muted">no dose</span>
                    ) : (
                      <ul class="doses">
                        {doses.map((a) => (
                          <li>
                            #{a.number} {time(a.time)}: IV {a.iv} / SC {a.sc}
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td>{visit ? visit.assessments.join(', ') : <span class="muted">—</span>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {model.visits.some((v) => v.day > 28) ? (
        <p class="cell-sub">
          Later visits:{' '}
          {model.visits
            .filter((v) => v.day > 28)
            .map((v) => `day ${v.day} (${formatDate(v.windowStart)})`)
            .join(', ')}
          .
        </p>
      ) : null}
    </>
  );
}
