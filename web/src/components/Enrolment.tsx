/**
 * A patient's trial enrolment, from the trial API: whether they are randomised, in which
 * stratum, with which kit. Blinded roles get no arm (the server sends none); a pharmacist's
 * answer carries the arm, which is shown only because the server sent it to that role.
 */
import { useEffect, useState } from 'preact/hooks';
import { useApp } from '../context.ts';
import { ClassBadge } from './ClassBadge.tsx';
import { formatDateTime } from '../format.ts';
import type { AllocationRow, TrialSummary } from '../types.ts';

export type Enrolment = { state: 'loading' } | { state: 'none' } | { state: 'unavailable' } | { state: 'enrolled'; trial: TrialSummary; allocation: AllocationRow };

export function useEnrolment(patientId: string): Enrolment {
  const { api } = useApp();
  const [enrolment, setEnrolment] = useState<Enrolment>({ state: 'loading' });
  useEffect(() => {
    let live = true;
    if (!api.has('GET /api/trials') || !api.has('GET /api/trials/{trialId}/patients/{patientId}/allocation')) {
      setEnrolment({ state: 'unavailable' });
      return;
    }
    void (async () => {
      const trials = await api.get<{ trials: TrialSummary[] }>('/api/trials');
      if (!trials.ok) {
        if (live) setEnrolment({ state: 'unavailable' });
        return;
      }
      for (const trial of trials.data.trials) {
        const allocation = await api.get<AllocationRow>(`/api/trials/${encodeURIComponent(trial.id)}/patients/${encodeURIComponent(patientId)}/allocation`);
        if (allocation.ok) {
          if (live) setEnrolment({ state: 'enrolled', trial, allocation: allocation.data });
          return;
        }
      }
      if (live) setEnrolment({ state: 'none' });
    })();
    return () => {
      live = false;
    };
  }, [api, patientId]);
  return enrolment;
}

export function EnrolmentBox({ enrolment }: { enrolment: Enrolment }) {
  if (enrolment.state !== 'enrolled') return null;
  const a = enrolment.allocation;
  return (
    <section class="enrolled" aria-labelledby="enrolled-h" data-enrolled={a.trialId}>
      <h2 id="enrolled-h">Enrolled in trial {enrolment.trial.id}</h2>
      <p>
        Stratum <ClassBadge value={a.immuneClass} /> · kit <strong class="kit">{a.kitNumber}</strong> · randomised {formatDateTime(a.randomisedAt)}
        {a.withdrawn ? <strong> · withdrawn</strong> : null}
        {a.unblinded ? <strong class="flag"> · emergency unblinding recorded</strong> : null}
      </p>
      {a.view === 'unblinded' ? (
        <p>
          Pharmacy view: arm <strong>{a.arm.label}</strong>; IV {a.kitContents.iv.contents}, SC {a.kitContents.sc.contents}.
        </p>
      ) : (
        <p>Study medication is blinded: give both components of the kit as scheduled. The treatment arm is not shown.</p>
      )}
    </section>
  );
}
