/**
 * Trial desk (src/server/api/trial.ts): enrolment by site and stratum, the screening log (and
 * recording a screening outcome), randomisation with the evidence shown before confirming (investigators), kit dispensation
 * (pharmacists), emergency unblinding (investigators) and audit-chain verification (monitors,
 * statisticians, admins). Each block appears for the roles that may use it and only when the
 * server offers its endpoint.
 *
 * Blinding: the page shows an arm only where the server sent one (the pharmacist's unblinded
 * view, or the answer to an emergency unblinding). Blinded roles' answers have no arm field.
 */
import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { type ApiFailure, unavailable } from '../api.ts';
import { useApp, siteName } from '../context.ts';
import { type Loadable, useApiCall } from '../hooks.ts';
import { ClassBadge, classLabel } from '../components/ClassBadge.tsx';
import { Failure, Loading, NotAvailable } from '../components/States.tsx';
import { conceptLabel } from '../components/Explanation.tsx';
import { formatDateTime, formatValue, plural, unitLabel } from '../format.ts';
import { patientPath } from '../routes.ts';
import type {
  AllocationRow,
  AssessmentResponse,
  AuditVerification,
  CensusResponse,
  CriterionResult,
  ScreeningEntry,
  TrialSummary,
  UnblindedAllocation,
} from '../types.ts';

const has = (roles: readonly string[], ...wanted: string[]) => roles.some((r) => wanted.includes(r));

function problemText(error: ApiFailure): string {
  if (error.kind === 'refused' && error.problem) {
    const failing = Array.isArray(error.problem.failing) ? (error.problem.failing as string[]) : [];
    const unknown = Array.isArray(error.problem.unknown) ? (error.problem.unknown as string[]) : [];
    return [error.message, failing.length ? `Failing: ${failing.join(', ')}.` : '', unknown.length ? `Unanswered: ${unknown.join(', ')}.` : ''].filter(Boolean).join(' ');
  }
  return error.message;
}

export function TrialDesk() {
  const { api, session } = useApp();
  const missing = api.missing('GET /api/trials', 'GET /api/trials/{trialId}/allocations');
  const [trials] = useApiCall(() => (missing.length ? unavailable<{ trials: TrialSummary[] }>('GET /api/trials') : api.get<{ trials: TrialSummary[] }>('/api/trials')), [missing.length]);
  const [chosen, setChosen] = useState<string | null>(null);

  if (missing.length > 0) {
    return (
      <section>
        <h1 tabIndex={-1}>Trial desk</h1>
        <NotAvailable feature="Trial operations" endpoints={missing} />
      </section>
    );
  }
  if (trials.state === 'loading') return <Loading what="trials" />;
  if (!trials.result.ok) {
    return (
      <section>
        <h1 tabIndex={-1}>Trial desk</h1>
        <Failure error={trials.result.error} what="the trials" />
      </section>
    );
  }
  const list = trials.result.data.trials;
  const trial = list.find((t) => t.id === chosen) ?? list[0];
  return (
    <section class="trial-desk">
      <div class="page-head">
        <h1 tabIndex={-1}>Trial desk</h1>
        {list.length > 1 ? (
          <label>
            Trial{' '}
            <select value={trial?.id} onChange={(e) => setChosen(e.currentTarget.value)}>
              {list.map((t) => (
                <option value={t.id}>{t.id}</option>
              ))}
            </select>
          </label>
        ) : null}
      </div>
      {trial ? (
        <TrialPanels key={trial.id} trial={trial} roles={session.user.roles} />
      ) : (
        <p class="state">
          No trial has been set up on this server yet. An administrator creates one (<code>POST /api/trials</code>, the ImmunoSep definition by
          default).
        </p>
      )}
    </section>
  );
}

function TrialPanels({ trial, roles }: { trial: TrialSummary; roles: readonly string[] }) {
  const { api } = useApp();
  const t = encodeURIComponent(trial.id);
  const [allocations, reloadAllocations] = useApiCall(() => api.get<{ view: 'blinded' | 'unblinded'; allocations: AllocationRow[] }>(`/api/trials/${t}/allocations`), [t]);
  const [screening, reloadScreening] = useApiCall(
    () =>
      api.has('GET /api/trials/{trialId}/screening')
        ? api.get<{ entries: ScreeningEntry[] }>(`/api/trials/${t}/screening`)
        : unavailable<{ entries: ScreeningEntry[] }>('GET /api/trials/{trialId}/screening'),
    [t],
  );
  const reload = () => {
    reloadAllocations();
    reloadScreening();
  };
  const rows = allocations.state === 'done' && allocations.result.ok ? allocations.result.data.allocations : null;
  const view = allocations.state === 'done' && allocations.result.ok ? allocations.result.data.view : null;
  // The investigator's patients (candidates to screen and randomise); other roles do not need them.
  const investigator = has(roles, 'investigator');
  const [census] = useApiCall<CensusResponse | null>(
    () => (investigator ? api.get<CensusResponse>('/api/census') : Promise.resolve({ ok: true as const, data: null, status: 200 })),
    [investigator],
  );

  return (
    <>
      <p class="trial-head">
        <strong>{trial.title}</strong>
        <span class="cell-sub">
          {trial.id} {trial.version}
          {trial.sofaPreset ? ` · SOFA preset ${trial.sofaPreset}` : ''} · {view === 'unblinded' ? 'unblinded view (pharmacy)' : 'blinded view: arms are not shown'}
        </span>
      </p>
      {allocations.state === 'loading' ? <Loading what="allocations" /> : !allocations.result.ok ? <Failure error={allocations.result.error} what="the allocations" /> : null}
      {rows ? <Enrolment allocations={rows} screening={screening.state === 'done' && screening.result.ok ? screening.result.data.entries : null} /> : null}
      {investigator && rows ? <Randomise trialId={trial.id} allocations={rows} census={census} onDone={reload} /> : null}
      {has(roles, 'pharmacist') && rows ? <Dispense trialId={trial.id} allocations={rows} onDone={reload} /> : null}
      {has(roles, 'investigator') && rows ? <Unblind trialId={trial.id} allocations={rows} onDone={reload} /> : null}
      {has(roles, 'monitor', 'statistician', 'admin') ? <AuditVerify trialId={trial.id} /> : null}
      {screening.state === 'done' && screening.result.ok ? (
        <ScreeningLog entries={screening.result.data.entries}>
          {investigator && api.has('POST /api/trials/{trialId}/patients/{patientId}/screening') ? (
            <RecordScreening trialId={trial.id} census={census} onDone={reloadScreening} />
          ) : null}
        </ScreeningLog>
      ) : null}
    </>
  );
}

function Enrolment({ allocations, screening }: { allocations: AllocationRow[]; screening: ScreeningEntry[] | null }) {
  const { sites } = useApp();
  // Both ImmunoSep strata always, plus any other stratum a trial definition adds.
  const strata = [...new Set(['MALS', 'immunoparalysis', ...allocations.map((a) => a.immuneClass)])];
  const siteIds = [...new Set([...allocations.map((a) => a.siteId), ...sites.map((s) => s.id)])];
  const count = (site: string | null, stratum: string | null) =>
    allocations.filter((a) => (site === null || a.siteId === site) && (stratum === null || a.immuneClass === stratum)).length;
  const outcomes = new Map<string, number>();
  for (const e of screening ?? []) outcomes.set(e.outcome, (outcomes.get(e.outcome) ?? 0) + 1);
  return (
    <section aria-labelledby="enrolment-h">
      <h2 id="enrolment-h">Enrolment by site and stratum</h2>
      {allocations.length === 0 ? <p>No patient randomised yet at your sites.</p> : null}
      <table class="enrolment" data-randomised={allocations.length}>
        <caption>Randomised patients (withdrawn included), by site and biomarker stratum.</caption>
        <thead>
          <tr>
            <th scope="col">Site</th>
            {strata.map((s) => (
              <th scope="col">{classLabel(s)}</th>
            ))}
            <th scope="col">Total</th>
          </tr>
        </thead>
        <tbody>
          {siteIds.map((site) => (
            <tr>
              <th scope="row">{siteName(sites, site)}</th>
              {strata.map((s) => (
                <td>{count(site, s)}</td>
              ))}
              <td>
                <strong>{count(site, null)}</strong>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {screening ? (
        <p class="cell-sub">
          Screening log entries:{' '}
          {[...outcomes.entries()].map(([o, n]) => `${o} ${n}`).join(' · ') || 'none yet'}.
        </p>
      ) : null}
    </section>
  );
}

function ScreeningLog({ entries, children }: { entries: ScreeningEntry[]; children?: ComponentChildren }) {
  const { sites } = useApp();
  return (
    <section aria-labelledby="screening-h">
      <h2 id="screening-h">Screening log</h2>
      {children}
      {entries.length === 0 ? (
        <p>No screening entry yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="screening-log" data-entries={entries.length}>
            <caption>Newest first. Randomisations and withdrawals are entered by their own services.</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Patient</th>
                <th scope="col">Site</th>
                <th scope="col">Outcome</th>
                <th scope="col">Reasons</th>
              </tr>
            </thead>
            <tbody>
              {[...entries].reverse().map((e) => (
                <tr>
                  <td>{formatDateTime(e.at)}</td>
                  <td>
                    <a href={patientPath(e.patientId)}>{e.patientId}</a>
                  </td>
                  <td>{siteName(sites, e.siteId)}</td>
                  <td>{e.outcome}</td>
                  <td>{e.reasons.join('; ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

const SCREENING_OUTCOMES = [
  { value: 'screened', label: 'Screened', help: 'assessed, nothing decided yet (e.g. waiting for mHLA-DR)' },
  { value: 'not-eligible', label: 'Not eligible', help: 'an inclusion criterion not met or an exclusion present: give the reasons' },
  { value: 'unclassified', label: 'Unclassified', help: 'neither MALS nor immunoparalysis: no targeted therapy' },
] as const;

/** An investigator records a screening outcome (randomisations are logged by the randomisation itself). */
function RecordScreening({ trialId, census, onDone }: { trialId: string; census: Loadable<CensusResponse | null>; onDone: () => void }) {
  const { api } = useApp();
  const [patientId, setPatientId] = useState('');
  const [outcome, setOutcome] = useState<(typeof SCREENING_OUTCOMES)[number]['value']>('screened');
  const [reasons, setReasons] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; message: string } | null>(null);
  const rows = census.state === 'done' && census.result.ok && census.result.data ? census.result.data.rows.filter((r) => !r.deceased) : [];
  const reasonList = reasons
    .split('\n')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const answer = await api.post<null>(`/api/trials/${encodeURIComponent(trialId)}/patients/${encodeURIComponent(patientId)}/screening`, {
      outcome,
      ...(reasonList.length ? { reasons: reasonList } : {}),
    });
    setBusy(false);
    if (answer.ok) {
      setResult({ ok: true, message: `Recorded: ${patientId} ${outcome}${reasonList.length ? ` (${reasonList.join('; ')})` : ''}.` });
      setReasons('');
      onDone();
    } else setResult({ ok: false, message: problemText(answer.error) });
  };
  return (
    <form class="desk-block screening-form" onSubmit={submit} aria-labelledby="screening-form-h">
      <h3 id="screening-form-h">Record a screening outcome</h3>
      {census.state === 'loading' ? <Loading what="patients" /> : census.state === 'done' && !census.result.ok ? <Failure error={census.result.error} what="the patients" level={4} /> : null}
      <label>
        Patient{' '}
        <select name="screening-patient" value={patientId} onChange={(e) => setPatientId(e.currentTarget.value)}>
          <option value="">Choose a patient…</option>
          {rows.map((r) => (
            <option value={r.patientId}>
              {r.patientId} · {classLabel(r.immuneClass)} · {r.eligibility ?? 'eligibility unknown'}
            </option>
          ))}
        </select>
      </label>
      <fieldset class="screening-outcome">
        <legend>Outcome</legend>
        {SCREENING_OUTCOMES.map((o) => (
          <label>
            <input type="radio" name="screening-outcome" checked={outcome === o.value} onChange={() => setOutcome(o.value)} /> {o.label}{' '}
            <span class="cell-sub">({o.help})</span>
          </label>
        ))}
      </fieldset>
      <label>
        Reasons (one per line{outcome === 'not-eligible' ? '; at least one' : ', optional'})
        <textarea name="screening-reasons" rows={2} value={reasons} onInput={(e) => setReasons(e.currentTarget.value)} />
      </label>
      <button type="submit" disabled={!patientId || busy || (outcome === 'not-eligible' && reasonList.length === 0)}>
        Record screening outcome
      </button>
      {result ? (
        <p class={result.ok ? 'done' : 'state-error'} role="status">
          {result.ok ? '✓ ' : '✗ '}
          {result.message}
        </p>
      ) : null}
    </form>
  );
}

// --- randomisation -------------------------------------------------------------------------------

type Answer = 'present' | 'absent' | null;

function Randomise({ trialId, allocations, census, onDone }: { trialId: string; allocations: AllocationRow[]; census: Loadable<CensusResponse | null>; onDone: () => void }) {
  const randomised = useMemo(() => new Set(allocations.map((a) => a.patientId)), [allocations]);
  const [patientId, setPatientId] = useState('');
  const candidates =
    census.state === 'done' && census.result.ok && census.result.data
      ? census.result.data.rows.filter(
          (r) => (r.immuneClass === 'MALS' || r.immuneClass === 'immunoparalysis') && r.eligibility !== 'not-eligible' && !r.deceased && !randomised.has(r.patientId),
        )
      : [];
  return (
    <section aria-labelledby="randomise-h" class="desk-block">
      <h2 id="randomise-h">Randomise</h2>
      {census.state === 'loading' ? (
        <Loading what="candidates" />
      ) : !census.result.ok ? (
        <Failure error={census.result.error} what="the candidates" level={3} />
      ) : (
        <>
          <p>
            Candidates: classified MALS or immunoparalysis, not excluded by an automatic criterion, not yet randomised ({candidates.length}).
          </p>
          <label>
            Patient{' '}
            <select value={patientId} onChange={(e) => setPatientId(e.currentTarget.value)} name="randomise-patient">
              <option value="">Choose a patient…</option>
              {candidates.map((c) => (
                <option value={c.patientId}>
                  {c.patientId} · {classLabel(c.immuneClass)} · {c.eligibility ?? 'eligibility unknown'}
                </option>
              ))}
            </select>
          </label>
        </>
      )}
      {patientId ? <RandomiseForm key={patientId} trialId={trialId} patientId={patientId} onDone={onDone} /> : null}
    </section>
  );
}

function RandomiseForm({ trialId, patientId, onDone }: { trialId: string; patientId: string; onDone: () => void }) {
  const { api } = useApp();
  const [assessment] = useApiCall(() => api.get<AssessmentResponse>(`/api/patients/${encodeURIComponent(patientId)}/assessment`), [patientId]);
  const [answers, setAnswers] = useState<Record<string, Answer>>({});
  const [confirmed, setConfirmed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: true; allocation: AllocationRow } | { ok: false; message: string } | null>(null);

  if (assessment.state === 'loading') return <Loading what="the evidence" />;
  if (!assessment.result.ok) return <Failure error={assessment.result.error} what="the evidence" level={3} />;
  const a = assessment.result.data.assessment;
  const siteCriteria = (a.eligibility?.results ?? []).filter((r) => r.evaluatedBy === 'site');
  const allAnswered = siteCriteria.every((r) => answers[r.id] === 'present' || answers[r.id] === 'absent');

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const siteAnswers = Object.fromEntries(Object.entries(answers).flatMap(([id, v]) => (v === null ? [] : [[id, { present: v === 'present' }]])));
    const result = await api.post<AllocationRow>(`/api/trials/${encodeURIComponent(trialId)}/patients/${encodeURIComponent(patientId)}/randomise`, { siteAnswers });
    setBusy(false);
    if (result.ok) {
      setOutcome({ ok: true, allocation: result.data });
      onDone();
    } else setOutcome({ ok: false, message: problemText(result.error) });
  };

  if (outcome?.ok) {
    const al = outcome.allocation;
    return (
      <div class="state state-done" role="status" data-outcome="randomised">
        <h3>
          <span aria-hidden="true">✓ </span>Randomised: {al.patientId}
        </h3>
        <p>
          Stratum <ClassBadge value={al.immuneClass} /> · kit <strong class="kit">{al.kitNumber}</strong> · {formatDateTime(al.randomisedAt)}. The
          arm is not shown (blinded). The pharmacy dispenses kit {al.kitNumber}.
        </p>
      </div>
    );
  }

  return (
    <form class="randomise-form" onSubmit={submit} aria-labelledby="evidence-h">
      <h3 id="evidence-h">Evidence for {patientId}, as of {formatDateTime(a.at)}</h3>
      <p>
        The server recomputes this evidence at the moment you confirm and freezes it into the allocation (its hash is written to the audit
        chain). Check it first:
      </p>
      <div class="evidence-frozen">
        <p>
          Immune class <ClassBadge value={a.classification.class} /> under {a.classification.ruleSet.id} {a.classification.ruleSet.version}
        </p>
        <ul>
          {a.classification.evidence.inputs.map((i) => (
            <li>
              {conceptLabel(i.concept)} {formatValue(i.value)} {unitLabel(i.unit)}, sampled {formatDateTime(i.time)}
            </li>
          ))}
          {a.classification.evidence.comparisons.map((c) => (
            <li>
              {c.result ? '✓' : '✗'} {c.text}
            </li>
          ))}
        </ul>
        {a.sepsis3 ? <p>Sepsis-3: {a.sepsis3.met ? `met (onset ${formatDateTime(a.sepsis3.onsetTime)})` : 'not met'}</p> : <p class="flag">Sepsis-3 not assessable.</p>}
      </div>
      {a.eligibility ? (
        <table class="criteria">
          <caption>
            Eligibility ({a.eligibility.criteriaSet.id} {a.eligibility.criteriaSet.version}): automatic criteria as computed, site criteria to answer
          </caption>
          <thead>
            <tr>
              <th scope="col">Criterion</th>
              <th scope="col">Result or answer</th>
            </tr>
          </thead>
          <tbody>
            {a.eligibility.results.map((r) => (
              <CriterionRow criterion={r} answer={answers[r.id] ?? null} onAnswer={(v) => setAnswers({ ...answers, [r.id]: v })} />
            ))}
          </tbody>
        </table>
      ) : (
        <p class="flag">Eligibility could not be assessed.</p>
      )}
      <label class="confirm">
        <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.currentTarget.checked)} /> I have checked the evidence and
        answered every site criterion from the patient's record.
      </label>
      <button type="submit" disabled={!confirmed || !allAnswered || busy}>
        {busy ? 'Randomising…' : `Randomise ${patientId}`}
      </button>
      {!allAnswered ? <p class="cell-sub">Answer every site criterion to enable randomisation.</p> : null}
      {outcome && !outcome.ok ? (
        <p class="state state-error" role="alert">
          Not randomised: {outcome.message}
        </p>
      ) : null}
    </form>
  );
}

function CriterionRow({ criterion: r, answer, onAnswer }: { criterion: CriterionResult; answer: Answer; onAnswer: (value: Answer) => void }) {
  const name = `answer-${r.id}`;
  return (
    <tr>
      <th scope="row">
        <span class="cell-sub">{r.kind}</span> {r.text}
        {r.unconfirmed ? <span class="cell-sub">(unconfirmed: {r.unconfirmed})</span> : null}
      </th>
      <td>
        {r.evaluatedBy === 'site' ? (
          <fieldset class="answer">
            <legend class="visually-hidden">{r.text}</legend>
            <label>
              <input type="radio" name={name} checked={answer === 'present'} onChange={() => onAnswer('present')} /> {r.kind === 'inclusion' ? 'Yes' : 'Present'}
            </label>
            <label>
              <input type="radio" name={name} checked={answer === 'absent'} onChange={() => onAnswer('absent')} /> {r.kind === 'inclusion' ? 'No' : 'Absent'}
            </label>
          </fieldset>
        ) : (
          <span class={`crit crit-${r.passes === null ? 'unknown' : r.passes ? 'pass' : 'fail'}`}>
            {r.passes === null ? '? unknown' : r.passes ? '✓ passes' : '✗ fails'} <span class="cell-sub">{r.reason}</span>
          </span>
        )}
      </td>
    </tr>
  );
}

// --- kit dispensation (pharmacist) -----------------------------------------------------------------

function Dispense({ trialId, allocations, onDone }: { trialId: string; allocations: AllocationRow[]; onDone: () => void }) {
  const { api, sites } = useApp();
  const [scanned, setScanned] = useState<Record<string, string>>({});
  const [results, setResults] = useState<Record<string, { ok: boolean; message: string }>>({});
  const dispense = async (patientId: string) => {
    const kitNumber = (scanned[patientId] ?? '').trim();
    const result = await api.post<{ kitNumber: string; dispensedAt: string }>(
      `/api/trials/${encodeURIComponent(trialId)}/patients/${encodeURIComponent(patientId)}/dispense`,
      { kitNumber },
    );
    setResults({
      ...results,
      [patientId]: result.ok ? { ok: true, message: `Kit ${result.data.kitNumber} dispensed ${formatDateTime(result.data.dispensedAt)}.` } : { ok: false, message: problemText(result.error) },
    });
    if (result.ok) onDone();
  };
  const active = allocations.filter((a) => !a.withdrawn);
  return (
    <section aria-labelledby="dispense-h" class="desk-block">
      <h2 id="dispense-h">Kit dispensation</h2>
      {active.length === 0 ? <p>No kit to dispense.</p> : null}
      {active.length ? (
        <div class="table-wrap">
          <table class="dispense">
            <caption>Scan or type the kit number from the box: it must match the patient's allocated kit.</caption>
            <thead>
              <tr>
                <th scope="col">Patient</th>
                <th scope="col">Stratum</th>
                <th scope="col">Kit</th>
                <th scope="col">Arm and contents (pharmacy only)</th>
                <th scope="col">Dispense</th>
              </tr>
            </thead>
            <tbody>
              {active.map((a) => (
                <tr data-patient={a.patientId}>
                  <th scope="row">
                    {a.patientId}
                    <span class="cell-sub">
                      {siteName(sites, a.siteId)} · {formatDateTime(a.randomisedAt)}
                    </span>
                  </th>
                  <td>
                    <ClassBadge value={a.immuneClass} />
                  </td>
                  <td>
                    <strong class="kit">{a.kitNumber}</strong>
                  </td>
                  <td>
                    {a.view === 'unblinded' ? (
                      <>
                        <strong>{a.arm.label}</strong>
                        <span class="cell-sub">
                          IV {a.kitContents.iv.volumeMl} mL: {a.kitContents.iv.contents} · SC {a.kitContents.sc.volumeMl} mL: {a.kitContents.sc.contents}
                        </span>
                      </>
                    ) : (
                      <span class="muted">blinded</span>
                    )}
                  </td>
                  <td>
                    <label>
                      <span class="visually-hidden">Kit number for {a.patientId}</span>
                      <input
                        size={12}
                        value={scanned[a.patientId] ?? ''}
                        onInput={(e) => setScanned({ ...scanned, [a.patientId]: e.currentTarget.value })}
                        placeholder="kit number"
                      />
                    </label>{' '}
                    <button type="button" onClick={() => void dispense(a.patientId)} disabled={!(scanned[a.patientId] ?? '').trim()}>
                      Dispense
                    </button>
                    {results[a.patientId] ? (
                      <p class={results[a.patientId]!.ok ? 'done' : 'state-error'} role="status">
                        {results[a.patientId]!.ok ? '✓ ' : '✗ '}
                        {results[a.patientId]!.message}
                      </p>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

// --- emergency unblinding (investigator) -----------------------------------------------------------

/** The recorded request (UnblindingEvent of src/store/trial.ts). */
interface UnblindingEvent {
  id: number;
  reason: string;
  requestedBy: string;
  at: string;
}

function Unblind({ trialId, allocations, onDone }: { trialId: string; allocations: AllocationRow[]; onDone: () => void }) {
  const { api } = useApp();
  const [patientId, setPatientId] = useState('');
  const [reason, setReason] = useState('');
  const [understood, setUnderstood] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: true; allocation: UnblindedAllocation; event: UnblindingEvent } | { ok: false; message: string } | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const result = await api.post<{ allocation: UnblindedAllocation; event: UnblindingEvent }>(
      `/api/trials/${encodeURIComponent(trialId)}/patients/${encodeURIComponent(patientId)}/unblind`,
      { reason: reason.trim() },
    );
    setBusy(false);
    setOutcome(result.ok ? { ok: true, allocation: result.data.allocation, event: result.data.event } : { ok: false, message: problemText(result.error) });
    if (result.ok) onDone();
  };
  return (
    <section aria-labelledby="unblind-h" class="desk-block desk-danger">
      <h2 id="unblind-h">Emergency unblinding</h2>
      <p>
        Only when knowing the treatment is necessary for the patient's care. The reason is recorded, the audit chain and the sponsor are
        notified, and the patient is flagged unblinded from then on.
      </p>
      {outcome?.ok ? (
        <div class="unblinded-result" role="alert">
          <h3>Unblinded: {outcome.allocation.patientId}</h3>
          <p>
            Arm: <strong>{outcome.allocation.arm.label}</strong>. Kit {outcome.allocation.kitNumber}: IV {outcome.allocation.kitContents.iv.contents}; SC{' '}
            {outcome.allocation.kitContents.sc.contents}.
          </p>
          <p class="cell-sub">
            Recorded {formatDateTime(outcome.event.at)} by {outcome.event.requestedBy}, reason: “{outcome.event.reason}”. The sponsor is notified and the
            audit chain has the entry; the patient's other pages stay blinded.
          </p>
        </div>
      ) : (
        <form onSubmit={submit} class="unblind-form">
          <label>
            Patient{' '}
            <select name="unblind-patient" value={patientId} onChange={(e) => setPatientId(e.currentTarget.value)}>
              <option value="">Choose a randomised patient…</option>
              {allocations.map((a) => (
                <option value={a.patientId}>
                  {a.patientId} · kit {a.kitNumber}
                  {a.unblinded ? ' · already unblinded' : ''}
                </option>
              ))}
            </select>
          </label>
          <label>
            Clinical reason (at least 10 characters)
            <textarea rows={3} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          <label class="confirm">
            <input type="checkbox" checked={understood} onChange={(e) => setUnderstood(e.currentTarget.checked)} /> I understand that this is recorded,
            audited and reported to the sponsor.
          </label>
          <button type="submit" class="button-danger" disabled={!patientId || reason.trim().length < 10 || !understood || busy}>
            Unblind this patient
          </button>
          {outcome && !outcome.ok ? (
            <p class="state state-error" role="alert">
              {outcome.message}
            </p>
          ) : null}
        </form>
      )}
    </section>
  );
}

// --- audit verification ------------------------------------------------------------------------------

function AuditVerify({ trialId }: { trialId: string }) {
  const { api } = useApp();
  const [result, setResult] = useState<{ ok: true; data: AuditVerification } | { ok: false; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  if (!api.has('GET /api/trials/{trialId}/audit/verify')) return <NotAvailable feature="Audit verification" endpoints={['GET /api/trials/{trialId}/audit/verify']} />;
  const verify = async () => {
    setBusy(true);
    const r = await api.get<AuditVerification>(`/api/trials/${encodeURIComponent(trialId)}/audit/verify`);
    setBusy(false);
    setResult(r.ok ? { ok: true, data: r.data } : { ok: false, message: r.error.message });
  };
  return (
    <section aria-labelledby="audit-h" class="desk-block">
      <h2 id="audit-h">Audit chain</h2>
      <p>Recomputes every hash of the append-only audit log and checks each entry commits to the one before it.</p>
      <button type="button" onClick={() => void verify()} disabled={busy}>
        {busy ? 'Verifying…' : 'Verify the audit chain'}
      </button>
      {result === null ? null : !result.ok ? (
        <p class="state state-error" role="alert">
          {result.message}
        </p>
      ) : result.data.ok ? (
        <p class="state state-done" role="status" data-audit="intact">
          <span aria-hidden="true">✓ </span>Intact: {plural(result.data.entries, 'entry', 'entries')}; head{' '}
          <code>{String(result.data.head.hash ?? '').slice(0, 16)}…</code> (seq {String(result.data.head.seq ?? '—')}).
        </p>
      ) : (
        <p class="state state-error" role="alert" data-audit="broken">
          <span aria-hidden="true">✗ </span>Broken after {plural(result.data.entries, 'entry', 'entries')}: {String(result.data.firstBadEntry.kind ?? '')}{' '}
          {String(result.data.firstBadEntry.message ?? '')}
        </p>
      )}
    </section>
  );
}
