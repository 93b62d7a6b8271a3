/**
 * Time-aligned panels for one patient: ferritin, mHLA-DR (thresholds from the rule set), SOFA
 * total and components, vasopressors, the study drug's scheduled doses. One shared time frame,
 * one width, one set of margins.
 * Each chart has a caption and its values as a table (for screen readers and for checking).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type * as ChartsApi from '../charts.ts';
import type { BiomarkerPoint, DoseMark, InfusionRun, ThresholdLine, TimeFrame } from '../charts.ts';
import { formatAgeHours, formatDateTime, formatShortDateTime, formatValue, unitLabel } from '../format.ts';
import type { Classification, MeasurementRow, RuleSetsResponse, RuleThreshold, SofaDay } from '../types.ts';
import { thresholdsOf } from '../types.ts';

type ChartsModule = typeof ChartsApi;

const VASOPRESSORS = ['norepinephrine', 'epinephrine', 'dopamine', 'dobutamine'];
const HOUR_MS = 3_600_000;

function useChartsModule(): ChartsModule | null | 'failed' {
  const [mod, setMod] = useState<ChartsModule | null | 'failed'>(null);
  useEffect(() => {
    let live = true;
    import('../charts.ts').then(
      (m) => live && setMod(m),
      () => live && setMod('failed'),
    );
    return () => {
      live = false;
    };
  }, []);
  return mod;
}

function useWidth(ref: { current: HTMLElement | null }): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.floor(el.clientWidth));
    measure();
    const observer = new ResizeObserver(() => measure());
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

/** A Plot element mounted into the DOM; redrawn when its inputs change. */
function PlotMount({ draw, deps }: { draw: () => Element; deps: unknown[] }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const chart = draw();
    el.replaceChildren(chart);
    return () => chart.remove();
    // The caller lists the dependencies that change the drawing.
  }, deps);
  return <div class="plot" ref={ref} />;
}

function ChartFigure({ id, title, caption, children, table }: { id: string; title: string; caption: ComponentChildren; children: ComponentChildren; table?: ComponentChildren }) {
  return (
    <figure class="chart" aria-labelledby={`${id}-title`} data-chart={id}>
      <figcaption>
        <h3 id={`${id}-title`}>{title}</h3>
        <p class="chart-caption">{caption}</p>
      </figcaption>
      {children}
      {table ? (
        <details class="chart-table">
          <summary>Values as a table</summary>
          {table}
        </details>
      ) : null}
    </figure>
  );
}

function thresholdName(t: RuleThreshold): string {
  if (t.id.includes('reversal')) return 'Reversal';
  if (t.id.startsWith('mals')) return 'MALS';
  if (t.id.startsWith('immunoparalysis')) return 'Immunoparalysis';
  return t.label;
}

/** Threshold lines of one input, from the rule set (or, failing that, from this result's comparisons). */
function thresholdLines(input: 'ferritin' | 'hla_dr', classification: Classification | null, ruleSets: RuleSetsResponse | null): { lines: ThresholdLine[]; source: string | null } {
  const ruleSetId = classification?.ruleSet.id ?? ruleSets?.default.id;
  const ruleSet = ruleSets?.ruleSets.find((r) => r.id === ruleSetId) ?? null;
  const shade = (t: { id: string }): ThresholdLine['shade'] =>
    t.id.includes('reversal') ? undefined : t.id.startsWith('mals') ? { side: 'above', fill: '#fde4e1' } : t.id.startsWith('immunoparalysis') ? { side: 'below', fill: '#e2ebfb' } : undefined;
  if (ruleSet) {
    const seen = new Set<number>();
    const lines: ThresholdLine[] = [];
    // Class thresholds first, so a reversal threshold at the same value (ferritin 4420) is not drawn twice.
    const all = thresholdsOf(ruleSet).filter((t) => t.input === input).sort((a, b) => Number(a.id.includes('reversal')) - Number(b.id.includes('reversal')));
    for (const t of all) {
      if (seen.has(t.value)) continue;
      seen.add(t.value);
      lines.push({ value: t.value, label: `${thresholdName(t)} ${t.operator} ${formatValue(t.value)}`, tone: t.id.includes('reversal') ? 'reversal' : 'class', shade: shade(t) });
    }
    return { lines, source: `rule set ${ruleSet.id} ${ruleSet.version}` };
  }
  const comparisons = (classification?.evidence.comparisons ?? []).filter((c) => c.input === input);
  if (comparisons.length > 0) {
    return {
      lines: comparisons.map((c) => ({ value: c.threshold, label: `${c.rule} ${c.operator} ${formatValue(c.threshold)}`, tone: 'class' as const, shade: shade({ id: c.rule }) })),
      source: `this result's comparisons (${classification!.ruleSet.id} ${classification!.ruleSet.version}); other thresholds not available`,
    };
  }
  return { lines: [], source: null };
}

/**
 * The study drug of a randomised patient: the blinded kit's scheduled doses (the server records
 * no administration given, so the panel shows the schedule and says so), or why there are none.
 */
export type StudyDrug =
  | { state: 'loading' }
  | { state: 'unavailable'; endpoints: string[] }
  | { state: 'not-enrolled' }
  | { state: 'failed'; message: string }
  | { state: 'scheduled'; trialId: string; kitNumber: string; doseCount: number; doses: DoseMark[] };

export function Timeline({
  measurements,
  sofaDays,
  at,
  classification,
  ruleSets,
  studyDrug = { state: 'not-enrolled' },
}: {
  measurements: MeasurementRow[];
  sofaDays: SofaDay[] | null;
  at: string | null;
  classification: Classification | null;
  ruleSets: RuleSetsResponse | null;
  studyDrug?: StudyDrug;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const width = useWidth(ref);
  const charts = useChartsModule();

  const series = (concept: string): BiomarkerPoint[] =>
    measurements.filter((m) => m.concept === concept).map((m) => ({ time: new Date(m.effectiveStart), value: m.value })).sort((a, b) => a.time.getTime() - b.time.getTime());
  const ferritin = series('ferritin');
  const hlaDr = series('hla_dr');
  const hlaDrPercent = measurements.filter((m) => m.concept === 'hla_dr_percent');
  const runs: InfusionRun[] = measurements
    .filter((m) => VASOPRESSORS.includes(m.concept))
    .map((m) => ({
      drug: m.concept,
      start: new Date(m.effectiveStart),
      // A rate charted without an end is drawn as a 1-hour mark and said so in the table.
      end: new Date(m.effectiveEnd ? m.effectiveEnd : Date.parse(m.effectiveStart) + HOUR_MS),
      rate: m.value,
    }));
  const days = sofaDays ?? [];
  const atMs = at ? Date.parse(at) : Date.now();
  // Doses due by the evaluation time; later ones are in the therapy calendar.
  const dueDoses = studyDrug.state === 'scheduled' ? studyDrug.doses.filter((d) => d.time.getTime() <= atMs) : [];

  const times: number[] = [
    ...ferritin.map((p) => p.time.getTime()),
    ...hlaDr.map((p) => p.time.getTime()),
    ...runs.flatMap((r) => [r.start.getTime(), r.end.getTime()]),
    ...days.flatMap((d) => [Date.parse(d.start), Date.parse(d.end)]),
    ...dueDoses.map((d) => d.time.getTime()),
  ];
  if (times.length === 0) {
    return (
      <div ref={ref}>
        <p class="state">No ferritin, HLA-DR, SOFA or vasopressor data recorded{at ? ' up to the evaluation time' : ''}.</p>
      </div>
    );
  }
  const first = Math.min(...times);
  const last = Math.max(...times);
  // Show the evaluation instant when it is near the data; otherwise say how far away it is.
  const includeAt = atMs >= last && atMs - last <= 2 * 24 * HOUR_MS;
  const end = includeAt ? atMs : last;
  const pad = Math.max(2 * HOUR_MS, (end - first) * 0.02);
  const gapHours = (atMs - last) / HOUR_MS;

  const ferritinT = thresholdLines('ferritin', classification, ruleSets);
  const hlaT = thresholdLines('hla_dr', classification, ruleSets);
  const mod: ChartsModule | null = charts !== null && charts !== 'failed' && width > 0 ? charts : null;
  const ready = mod !== null;
  const components = charts !== null && charts !== 'failed' ? charts.SOFA_COMPONENTS : [];
  const frame: TimeFrame = { width, domain: [new Date(first - pad), new Date(end + pad)], at: new Date(atMs) };
  const key = [width, first, end, at].join('|');

  const pointsTable = (points: BiomarkerPoint[], unit: string) => (
    <table>
      <thead>
        <tr>
          <th scope="col">Sampled</th>
          <th scope="col">Value ({unitLabel(unit)})</th>
        </tr>
      </thead>
      <tbody>
        {points.map((p) => (
          <tr>
            <td>{formatDateTime(p.time.toISOString())}</td>
            <td>{formatValue(p.value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );

  return (
    <div class="timeline" ref={ref} data-state={ready ? 'ready' : 'loading'}>
      <p class="chart-caption">
        {formatDateTime(new Date(first).toISOString())} to {formatDateTime(new Date(last).toISOString())}.{' '}
        {gapHours > 48 ? (
          <strong class="flag">
            ⚠ The newest charted data is {formatAgeHours(gapHours)} older than the evaluation time ({formatDateTime(new Date(atMs).toISOString())}).
          </strong>
        ) : null}
      </p>
      {charts === 'failed' ? <p class="state state-error">The chart library could not be loaded; values are in the tables below each chart.</p> : null}

      <ChartFigure
        id="chart-ferritin"
        title="Ferritin"
        caption={
          ferritin.length === 0
            ? 'No ferritin result recorded: the immune class cannot be determined without it.'
            : `${ferritin.length} result(s), ng/mL, log scale. ${ferritinT.source ? `Thresholds from ${ferritinT.source}.` : 'Thresholds not available.'}`
        }
        table={ferritin.length ? pointsTable(ferritin, 'ng/mL') : undefined}
      >
        {ferritin.length && mod ? (
          <PlotMount
            deps={[key, ferritin.length, ferritinT.lines.length]}
            draw={() => mod.biomarkerChart(frame, ferritin, { label: 'Ferritin', unit: 'ng/mL', thresholds: ferritinT.lines, description: `Ferritin results with thresholds ${ferritinT.lines.map((l) => l.label).join(', ')}` })}
          />
        ) : null}
      </ChartFigure>

      <ChartFigure
        id="chart-hla-dr"
        title="Monocyte HLA-DR (mHLA-DR)"
        caption={
          <>
            {hlaDr.length === 0 ? 'No mHLA-DR result in molecules per monocyte recorded. ' : `${hlaDr.length} result(s), molecules/monocyte, log scale. `}
            {hlaT.source ? `Thresholds from ${hlaT.source}.` : 'Thresholds not available.'}
            {hlaDrPercent.length > 0 ? (
              <strong class="flag">
                {' '}
                {hlaDrPercent.length} HLA-DR result(s) reported as % positive monocytes are not shown: % cannot be converted to molecules per monocyte.
              </strong>
            ) : null}
          </>
        }
        table={hlaDr.length ? pointsTable(hlaDr, '{molecules}/{cell}') : undefined}
      >
        {hlaDr.length && mod ? (
          <PlotMount
            deps={[key, hlaDr.length, hlaT.lines.length]}
            draw={() => mod.biomarkerChart(frame, hlaDr, { label: 'mHLA-DR', unit: 'molecules/monocyte', thresholds: hlaT.lines, description: `mHLA-DR results with thresholds ${hlaT.lines.map((l) => l.label).join(', ')}` })}
          />
        ) : null}
      </ChartFigure>

      <ChartFigure
        id="chart-sofa"
        title="SOFA total"
        caption={
          sofaDays === null
            ? 'SOFA: not available (it comes with the assessment).'
            : days.length === 0
              ? 'No SOFA day could be computed.'
              : `${days.length} day(s). A star marks a day with components not measured (scored 0).`
        }
        table={
          days.length ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">From</th>
                  <th scope="col">Total</th>
                  <th scope="col">Not measured</th>
                </tr>
              </thead>
              <tbody>
                {days.map((d) => (
                  <tr>
                    <td>{d.day}</td>
                    <td>{formatShortDateTime(d.start)}</td>
                    <td>{d.total}</td>
                    <td>{d.missing.join(', ') || 'none'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : undefined
        }
      >
        {days.length && mod ? (
          <PlotMount deps={[key, days.length]} draw={() => mod.sofaTotalChart(frame, days, `Daily SOFA totals: ${days.map((d) => d.total).join(', ')}`)} />
        ) : null}
      </ChartFigure>

      {days.length ? (
        <ChartFigure
          id="chart-sofa-components"
          title="SOFA components"
          caption="Each organ 0–4 per day; n/m = not measured (scored 0 in the total, never assumed normal here)."
          table={
            <table>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  {components.map((c) => (
                    <th scope="col">{c.label}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {days.map((d) => (
                  <tr>
                    <td>{d.day}</td>
                    {components.map((c) => (
                      <td>{d.components[c.key] ?? 'n/m'}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          }
        >
          {mod ? (
            <PlotMount deps={[key, days.length]} draw={() => mod.sofaComponentsChart(frame, days, 'SOFA component scores per day')} />
          ) : null}
        </ChartFigure>
      ) : null}

      <ChartFigure
        id="chart-vasopressors"
        title="Vasopressors"
        caption={runs.length === 0 ? 'No vasopressor infusion recorded.' : `${runs.length} infusion period(s), µg/kg/min, one row per drug.`}
        table={
          runs.length ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Drug</th>
                  <th scope="col">From</th>
                  <th scope="col">To</th>
                  <th scope="col">Rate (µg/kg/min)</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr>
                    <td>{r.drug}</td>
                    <td>{formatShortDateTime(r.start.toISOString())}</td>
                    <td>{formatShortDateTime(r.end.toISOString())}</td>
                    <td>{formatValue(r.rate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : undefined
        }
      >
        {runs.length && mod ? (
          <PlotMount deps={[key, runs.length]} draw={() => mod.vasopressorChart(frame, runs, 'Vasopressor infusion rates over time')} />
        ) : null}
      </ChartFigure>

      <ChartFigure
        id="chart-study-drug"
        title="Study drug"
        caption={studyDrugCaption(studyDrug, dueDoses.length / 2)}
        table={
          dueDoses.length ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Scheduled</th>
                  <th scope="col">Route</th>
                  <th scope="col">Dose</th>
                </tr>
              </thead>
              <tbody>
                {dueDoses.map((d) => (
                  <tr>
                    <td>{formatShortDateTime(d.time.toISOString())}</td>
                    <td>{d.route}</td>
                    <td>{d.label}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : undefined
        }
      >
        {dueDoses.length && mod && studyDrug.state === 'scheduled' ? (
          <PlotMount
            deps={[key, dueDoses.length]}
            draw={() =>
              mod.administrationsChart(frame, dueDoses, `kit ${studyDrug.kitNumber}`, `Scheduled study-drug doses of blinded kit ${studyDrug.kitNumber}: ${dueDoses.length / 2} due by the evaluation time, each an IV infusion and an SC injection`)
            }
          />
        ) : null}
      </ChartFigure>
    </div>
  );
}

function studyDrugCaption(studyDrug: StudyDrug, due: number): ComponentChildren {
  switch (studyDrug.state) {
    case 'loading':
      return 'Loading the kit schedule…';
    case 'not-enrolled':
      return 'Not randomised in a trial: no study drug scheduled.';
    case 'unavailable':
      return `Trial enrolment and kit schedule: not available on this server (${studyDrug.endpoints.join(', ')}).`;
    case 'failed':
      return `The kit schedule could not be loaded: ${studyDrug.message}`;
    case 'scheduled':
      return (
        <>
          Trial {studyDrug.trialId}, blinded kit {studyDrug.kitNumber}: {due} of {studyDrug.doseCount} scheduled doses due by the evaluation time, each
          an IV infusion and an SC injection.{' '}
          <strong>Scheduled times, not recorded administrations:</strong> this server does not record the doses given.
        </>
      );
  }
}
