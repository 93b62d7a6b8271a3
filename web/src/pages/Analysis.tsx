/**
 * The trial analysis, interactive: population, endpoints (the primary first), Kaplan-Meier,
 * SOFA trajectories and the per-stratum forest plot, from GET /api/trials/{trialId}/analysis,
 * and the printable HTML report (GET /api/trials/{trialId}/report) beside it.
 *
 * Blinding: every role gets the blinded pooled view by default. Only roles the server lets see
 * the unblinded analysis (statistician, unblinded pharmacist) are offered the switch to
 * view=unblinded; the server decides (403 otherwise) and audits every unblinded answer. A
 * blinded answer has no arm field, and this page then shows pooled results only.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { type EndpointKey, unavailable, withQuery } from '../api.ts';
import { useApp } from '../context.ts';
import { useApiCall } from '../hooks.ts';
import { isUnblindedRole } from '../roles.ts';
import { formatDateTime, plural } from '../format.ts';
import { Failure, Loading, NotAvailable } from '../components/States.tsx';
import { classLabel } from '../components/ClassBadge.tsx';
import type * as ChartsApi from '../charts.ts';
import type { BlindedAnalysis, GroupCount, Interval, TrialAnalysisView, TrialSummary, UnblindedAnalysis } from '../types.ts';

const ANALYSIS: EndpointKey = 'GET /api/trials/{trialId}/analysis';
const REPORT: EndpointKey = 'GET /api/trials/{trialId}/report';

type View = 'blinded' | 'unblinded';

/** GET /api/trials/{trialId}/analysis (src/server/api/analysis.ts). */
interface AnalysisResponse {
  trialId: string;
  view: View;
  /** Also the data cut-off. */
  generatedAt: string;
  sofaPreset: string;
  endpointDefinition: { id: string; version: string };
  sites: string[];
  patients: number;
  analysed: number;
  analysis: TrialAnalysisView;
}

const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(digits)}%`);
const ci = (interval: Interval | null | undefined, scale = 100, digits = 1) =>
  interval ? `${(scale * interval[0]).toFixed(digits)} to ${(scale * interval[1]).toFixed(digits)}` : '—';
const pValue = (p: number | null | undefined) => (p === null || p === undefined ? '—' : p < 0.001 ? '< 0.001' : p.toFixed(3));
const count = (c: GroupCount) => `${c.events}/${c.n}${c.notEvaluable ? ` (${c.notEvaluable} not evaluable)` : ''}`;

export function Analysis() {
  const { api, session } = useApp();
  const mayUnblind = isUnblindedRole(session.user.roles);
  const [view, setView] = useState<View>('blinded');
  const missing = api.missing('GET /api/trials', ANALYSIS);
  const [trials] = useApiCall(() => (api.has('GET /api/trials') ? api.get<{ trials: TrialSummary[] }>('/api/trials') : unavailable<{ trials: TrialSummary[] }>('GET /api/trials')), []);
  const trial = trials.state === 'done' && trials.result.ok ? (trials.result.data.trials[0] ?? null) : null;
  const [analysis] = useApiCall<AnalysisResponse>(
    () =>
      trial && api.has(ANALYSIS)
        ? api.get<AnalysisResponse>(`/api/trials/${encodeURIComponent(trial.id)}/analysis`, { view })
        : unavailable<AnalysisResponse>(ANALYSIS),
    [trial?.id, view],
  );
  const answer = analysis.state === 'done' && analysis.result.ok ? analysis.result.data : null;

  return (
    <section class="analysis">
      <h1 tabIndex={-1}>Analysis</h1>
      {missing.length > 0 && !api.has(REPORT) ? (
        <NotAvailable feature="Trial analysis" endpoints={[...missing, REPORT]} />
      ) : trials.state === 'loading' ? (
        <Loading what="trials" />
      ) : !trial ? (
        <p class="state">No trial has been set up on this server yet, so there is nothing to analyse.</p>
      ) : (
        <>
          {mayUnblind ? <ViewSwitch view={view} onChange={setView} /> : null}
          {missing.length > 0 ? (
            <NotAvailable feature="Interactive analysis" endpoints={missing} />
          ) : analysis.state === 'loading' ? (
            <Loading what={view === 'unblinded' ? 'the unblinded analysis' : 'the analysis'} />
          ) : !analysis.result.ok ? (
            <Failure error={analysis.result.error} what={view === 'unblinded' ? 'the unblinded analysis' : 'the analysis'} />
          ) : answer ? (
            <AnalysisView view={answer.analysis} meta={answer} />
          ) : null}
          {api.has(REPORT) ? <ReportFrame trialId={trial.id} view={view} /> : null}
        </>
      )}
    </section>
  );
}

/** Blinded or unblinded: offered only to roles the server allows to unblind (it checks again). */
function ViewSwitch({ view, onChange }: { view: View; onChange: (view: View) => void }) {
  return (
    <fieldset class="answer analysis-view">
      <legend>View</legend>
      <label>
        <input type="radio" name="analysis-view" value="blinded" checked={view === 'blinded'} onChange={() => onChange('blinded')} /> Blinded (pooled)
      </label>
      <label>
        <input type="radio" name="analysis-view" value="unblinded" checked={view === 'unblinded'} onChange={() => onChange('unblinded')} /> Unblinded (by arm; every
        opening is audited)
      </label>
    </fieldset>
  );
}

function useCharts(): typeof ChartsApi | null {
  const [mod, setMod] = useState<typeof ChartsApi | null>(null);
  useEffect(() => {
    void import('../charts.ts').then(setMod);
  }, []);
  return mod;
}

function Chart({ draw }: { draw: (width: number) => Element }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const chart = draw(Math.max(480, el.clientWidth));
    el.replaceChildren(chart);
  }, [draw]);
  return <div class="plot" ref={ref} />;
}

function AnalysisView({ view, meta }: { view: TrialAnalysisView; meta: AnalysisResponse }) {
  const charts = useCharts();
  return (
    <div data-analysis={view.blinded ? 'blinded' : 'unblinded'}>
      <p class={`banner ${view.blinded ? 'banner-blinded' : 'banner-unblinded'}`} role="note">
        {view.blinded
          ? 'Blinded analysis: results pooled over arms (and by biomarker stratum). No arm is shown.'
          : 'UNBLINDED analysis: results by arm. For roles allowed to see allocations only; this opening was recorded in the audit log.'}
      </p>
      <p>
        <strong>{view.trial.title}</strong>
        <span class="cell-sub">
          {view.trial.id} · SOFA preset {view.trial.sofaPreset}
          {view.definition.id ? ` · endpoint definition ${view.definition.id} ${view.definition.version ?? ''}` : ''}
        </span>
      </p>
      <p class="asof-now">
        Data as of {formatDateTime(meta.generatedAt)} · {plural(meta.patients, 'patient')} randomised at{' '}
        {`${meta.sites.length === 1 ? 'your site' : 'your sites'} (${meta.sites.join(', ')})`}, {meta.analysed} analysed.
      </p>
      {view.blinded ? <Blinded view={view} charts={charts} /> : <Unblinded view={view} charts={charts} />}
    </div>
  );
}

function Unblinded({ view, charts }: { view: UnblindedAnalysis; charts: typeof ChartsApi | null }) {
  const labels = view.trial.armLabels ?? { active: 'active', placebo: 'placebo' };
  const primary = view.binary.find((b) => b.primary);
  const forest = view.subgroups
    .filter((s) => s.endpoint === primary?.id && s.comparison)
    .map((s) => {
      const rd = s.comparison!.riskDifference;
      return {
        label: s.subgroup === 'all' ? 'All patients' : `${classLabel(s.subgroup)} stratum`,
        estimate: 100 * rd.estimate,
        lower: 100 * rd.ci95[0],
        upper: 100 * rd.ci95[1],
        text: `${(100 * rd.estimate).toFixed(1)} (${ci(rd.ci95)})`,
      };
    });
  return (
    <>
      <h2>Population (modified intention-to-treat)</h2>
      <p>
        Randomised: {labels.active} {view.population.randomised.active}, {labels.placebo} {view.population.randomised.placebo}. Analysed:{' '}
        {view.population.analysed.active} and {view.population.analysed.placebo}.
      </p>
      <h2>Endpoints</h2>
      <div class="table-wrap">
        <table class="endpoints">
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">{labels.active}</th>
              <th scope="col">{labels.placebo}</th>
              <th scope="col">Risk difference, points (95% CI)</th>
              <th scope="col">Odds ratio (95% CI)</th>
              <th scope="col">Fisher P</th>
            </tr>
          </thead>
          <tbody>
            {view.binary.map((b) => (
              <tr class={b.primary ? 'primary' : undefined}>
                <th scope="row">
                  {b.label}
                  {b.primary && !/primary/.test(b.label) ? <strong> (primary)</strong> : null}
                </th>
                <td>
                  {count(b.active)} {b.comparison ? `· ${pct(b.comparison.treated.proportion)}` : ''}
                </td>
                <td>
                  {count(b.placebo)} {b.comparison ? `· ${pct(b.comparison.control.proportion)}` : ''}
                </td>
                <td>{b.comparison ? `${(100 * b.comparison.riskDifference.estimate).toFixed(1)} (${ci(b.comparison.riskDifference.ci95)})` : '—'}</td>
                <td>
                  {b.comparison?.oddsRatio.estimate !== null && b.comparison?.oddsRatio.estimate !== undefined
                    ? `${b.comparison.oddsRatio.estimate.toFixed(2)} (${ci(b.comparison.oddsRatio.ci95, 1, 2)})`
                    : '—'}
                </td>
                <td>{pValue(b.comparison?.fisherP)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {primary && forest.length ? (
        <figure class="chart">
          <figcaption>
            <h3>Forest plot: {primary.label}</h3>
            <p class="chart-caption">Risk difference {labels.active} minus {labels.placebo}, percentage points, 95% CI (Newcombe).</p>
          </figcaption>
          {charts ? <Chart draw={(w) => charts.forestChart(w, forest, 'risk difference (percentage points)', `Risk differences: ${forest.map((f) => `${f.label} ${f.text}`).join('; ')}`)} /> : null}
        </figure>
      ) : null}
      <figure class="chart">
        <figcaption>
          <h3>Survival to day 90 (Kaplan-Meier)</h3>
          <p class="chart-caption">
            {view.survival.comparison
              ? `Log-rank P ${pValue(view.survival.comparison.logRank.p)}; Cox hazard ratio ${view.survival.comparison.cox.hazardRatio?.toFixed(2) ?? '—'} (${ci(view.survival.comparison.cox.ci95, 1, 2)}), ${labels.placebo} the reference.`
              : (view.survival.note ?? '')}{' '}
            Shaded: 95% CI; +: censored.
          </p>
        </figcaption>
        {charts ? (
          <Chart
            draw={(w) =>
              charts.kaplanMeierChart(
                w,
                [
                  { label: labels.active, data: view.survival.curves.active },
                  { label: labels.placebo, data: view.survival.curves.placebo },
                ],
                'Kaplan-Meier survival by arm',
              )
            }
          />
        ) : null}
        <AtRisk rows={[{ label: labels.active, data: view.survival.curves.active.atRisk }, { label: labels.placebo, data: view.survival.curves.placebo.atRisk }]} />
      </figure>
      <figure class="chart">
        <figcaption>
          <h3>Mean daily SOFA</h3>
          <p class="chart-caption">As the endpoint scores it (24 after death, last observation carried forward); shaded 95% CI.</p>
        </figcaption>
        {charts ? (
          <Chart
            draw={(w) =>
              charts.trajectoryChart(
                w,
                [
                  { label: labels.active, data: view.trajectories.active },
                  { label: labels.placebo, data: view.trajectories.placebo },
                ],
                'Mean SOFA by study day and arm',
              )
            }
          />
        ) : null}
      </figure>
    </>
  );
}

function Blinded({ view, charts }: { view: BlindedAnalysis; charts: typeof ChartsApi | null }) {
  return (
    <>
      <h2>Population</h2>
      <p>
        Randomised {view.population.randomised}, analysed {view.population.analysed}.{' '}
        {Object.entries(view.population.byStratum)
          .map(([s, p]) => `${classLabel(s)}: ${p.randomised} randomised, ${p.analysed} analysed`)
          .join('; ')}
        .
      </p>
      <h2>Endpoints, pooled</h2>
      <table class="endpoints">
        <thead>
          <tr>
            <th scope="col">Endpoint</th>
            <th scope="col">Events / evaluable</th>
            <th scope="col">Proportion (95% CI, Wilson)</th>
          </tr>
        </thead>
        <tbody>
          {view.binary.map((b) => (
            <tr class={b.primary ? 'primary' : undefined}>
              <th scope="row">
                {b.label}
                {b.primary && !/primary/.test(b.label) ? <strong> (primary)</strong> : null}
              </th>
              <td>{count(b.count)}</td>
              <td>
                {pct(b.proportion)} ({ci(b.ci95)})
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <figure class="chart">
        <figcaption>
          <h3>Survival to day 90, pooled (Kaplan-Meier)</h3>
          <p class="chart-caption">All randomised patients together; shaded 95% CI; +: censored.</p>
        </figcaption>
        {charts ? <Chart draw={(w) => charts.kaplanMeierChart(w, [{ label: 'all patients', data: view.survival }], 'Pooled Kaplan-Meier survival')} /> : null}
        <AtRisk rows={[{ label: 'all patients', data: view.survival.atRisk }]} />
      </figure>
      <figure class="chart">
        <figcaption>
          <h3>Mean daily SOFA, pooled</h3>
        </figcaption>
        {charts ? <Chart draw={(w) => charts.trajectoryChart(w, [{ label: 'all patients', data: view.trajectory }], 'Pooled mean SOFA by study day')} /> : null}
      </figure>
    </>
  );
}

function AtRisk({ rows }: { rows: Array<{ label: string; data: Array<{ time: number; atRisk: number }> }> }) {
  const times = rows[0]?.data.map((d) => d.time) ?? [];
  if (times.length === 0) return null;
  return (
    <table class="at-risk">
      <caption>Numbers at risk</caption>
      <thead>
        <tr>
          <th scope="col">Day</th>
          {times.map((t) => (
            <th scope="col">{t}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr>
            <th scope="row">{r.label}</th>
            {r.data.map((d) => (
              <td>{d.atRisk}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The printable report as the server renders it (no script): in a sandboxed frame, and as a
 * document of its own to open in a new tab, print to PDF or save (a blob URL: the report needs
 * the bearer token, which a plain link could not send).
 */
function ReportFrame({ trialId, view }: { trialId: string; view: View }) {
  const { api } = useApp();
  const [report] = useApiCall(() => api.getText(withQuery(`/api/trials/${encodeURIComponent(trialId)}/report`, { view })), [trialId, view]);
  const html = report.state === 'done' && report.result.ok ? report.result.data : null;
  const [href, setHref] = useState<string | null>(null);
  useEffect(() => {
    if (html === null) {
      setHref(null);
      return;
    }
    const url = URL.createObjectURL(new Blob([html], { type: 'text/html' }));
    setHref(url);
    return () => URL.revokeObjectURL(url);
  }, [html]);
  return (
    <section aria-labelledby="report-h">
      <h2 id="report-h">Printable report</h2>
      {report.state === 'loading' ? (
        <Loading what="the report" />
      ) : !report.result.ok ? (
        <Failure error={report.result.error} what="the report" level={3} />
      ) : (
        <>
          {href ? (
            <p class="report-links">
              <a href={href} target="_blank" rel="noopener" data-report-link={view}>
                Open the {view} report in a new tab
              </a>{' '}
              (print it to PDF from there) ·{' '}
              <a href={href} download={`${trialId}-report-${view}.html`}>
                Save as HTML
              </a>
            </p>
          ) : null}
          {/* No script runs in the frame (empty sandbox); the report is self-contained HTML and SVG. */}
          <iframe class="report-frame" title={`Trial report (${view})`} sandbox="" srcDoc={report.result.data} />
        </>
      )}
    </section>
  );
}
