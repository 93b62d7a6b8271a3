/**
 * The trial report as one self-contained HTML document (inline CSS and SVG, no script, no
 * external resource; printable to PDF from any browser): header with the SOFA preset and the
 * endpoint definition id and version, CONSORT diagram, baseline table, primary and secondary
 * endpoint table, Kaplan-Meier curves with numbers at risk, SOFA trajectories, per-stratum
 * subgroup results with forest plots, and the endpoint definition in full.
 *
 * Two renderers with two input types: renderTrialReport takes the unblinded analysis (for the
 * statistician and unblinded roles); renderBlindedReport takes the blinded analysis, which has
 * no arm field, and its fixed texts never name an arm, so the blinded document carries no
 * allocation information at all. Both are deterministic: no clock (the generation time is an
 * argument), so the same inputs give the same bytes.
 */
import type { EndpointDefinition } from '../../clinical/endpoints.ts';
import { CITATIONS } from '../../clinical/immune/citations.ts';
import type { IsoDateTime } from '../../clinical/types.ts';
import type { ProportionsComparison, SurvivalComparison } from '../analysis.ts';
import type {
  BaselineRow,
  BinaryEndpointId,
  BlindedTrialAnalysis,
  ConsortData,
  GroupCount,
  SubgroupResult,
  TrialAnalysis,
} from '../trial-analysis.ts';
import { BINARY_ENDPOINTS, KM_TICKS_DAYS } from '../trial-analysis.ts';
import { consortSvg } from './consort.ts';
import { type ForestRow, forestPlotSvg, formatRatio, kaplanMeierSvg, trajectorySvg } from './plots.ts';
import { COLOURS, escapeXml } from './svg.ts';

export interface ReportMeta {
  generatedAt: IsoDateTime;
  softwareVersion: string;
  /** Where the data came from (e.g. the input file name), printed in the header. */
  source?: string;
}

const STYLE = `
@page { size: A4; margin: 14mm; }
* { box-sizing: border-box; }
body { font-family: Helvetica, Arial, sans-serif; font-size: 12px; color: #111; max-width: 980px; margin: 0 auto; padding: 16px; line-height: 1.35; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 22px 0 8px; border-bottom: 1px solid #999; padding-bottom: 2px; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 13px; margin: 14px 0 6px; break-after: avoid; }
.banner { padding: 6px 10px; margin: 8px 0 12px; font-weight: bold; border: 2px solid; }
.banner.unblinded { border-color: #b00; color: #b00; }
.banner.blinded { border-color: #06c; color: #06c; }
table { border-collapse: collapse; margin: 6px 0 10px; break-inside: avoid; page-break-inside: avoid; }
th, td { border-bottom: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
tr.primary td { font-weight: bold; }
td.sub { padding-left: 22px; }
table.meta td:first-child { color: #555; }
figure { margin: 8px 0 14px; break-inside: avoid; page-break-inside: avoid; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #444; font-size: 11px; margin-top: 2px; }
.note { color: #555; font-size: 11px; }
ul.compact { margin: 4px 0; padding-left: 18px; }
@media print { body { padding: 0; } h2 { break-before: auto; } }
`;

function page(title: string, body: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Self-contained by construction; the policy makes any accidental external load fail.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeXml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

const esc = escapeXml;

function table(headers: string[], rows: string[][], options: { numericFrom?: number; rowClasses?: string[]; cellClasses?: string[][] } = {}): string {
  const numericFrom = options.numericFrom ?? 1;
  const th = headers.map((h, i) => `<th${i >= numericFrom ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const body = rows
    .map((cells, r) => {
      const cls = options.rowClasses?.[r];
      const tds = cells
        .map((c, i) => {
          const classes = [i >= numericFrom ? 'num' : '', options.cellClasses?.[r]?.[i] ?? ''].filter((x) => x !== '').join(' ');
          return `<td${classes === '' ? '' : ` class="${classes}"`}>${esc(c)}</td>`;
        })
        .join('');
      return `<tr${cls ? ` class="${cls}"` : ''}>${tds}</tr>`;
    })
    .join('\n');
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
}

// ----- number formatting -----

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function countText(c: GroupCount): string {
  return c.n === 0 ? '-' : `${c.events}/${c.n} (${pct(c.events / c.n)})`;
}

/** P values: 3 significant digits, "< 0.0001" below. */
export function formatP(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return 'NA';
  if (p < 0.0001) return '< 0.0001';
  return p >= 0.001 ? p.toFixed(p >= 0.1 ? 2 : 3) : p.toPrecision(2);
}

function rdText(c: ProportionsComparison | null): string {
  if (c === null) return 'not estimable';
  const rd = c.riskDifference;
  return `${(100 * rd.estimate).toFixed(1)} (${(100 * rd.ci95[0]).toFixed(1)} to ${(100 * rd.ci95[1]).toFixed(1)})`;
}

function orText(c: ProportionsComparison | null): string {
  if (c === null || c.oddsRatio.estimate === null || c.oddsRatio.ci95 === null) return 'not estimable';
  const or = c.oddsRatio;
  return `${formatRatio(or.estimate as number)} (${formatRatio((or.ci95 as [number, number])[0])} to ${formatRatio((or.ci95 as [number, number])[1])})${or.correction ? '*' : ''}`;
}

function hrText(s: SurvivalComparison | null, note: string | null): string {
  if (s === null) return `not estimable${note ? ` (${note})` : ''}`;
  if (s.cox.hazardRatio === null || s.cox.ci95 === null) return 'not estimable (see note)';
  return `${formatRatio(s.cox.hazardRatio)} (${formatRatio(s.cox.ci95[0])} to ${formatRatio(s.cox.ci95[1])})`;
}

function dayText(x: number | null | undefined): string {
  return x === null || x === undefined ? 'not reached' : String(x);
}

// ----- shared sections -----

function definitionSection(d: EndpointDefinition, sofaPreset: string): string {
  const r = d.responder;
  const source = (ref: { citation: keyof typeof CITATIONS; locator: string }) => `${CITATIONS[ref.citation]?.short ?? ref.citation}, ${ref.locator}`;
  const rules = [
    `Study day 1 is the baseline; the day-${d.baselineDay} total SOFA is the reference for the change.`,
    `Primary: mean total SOFA over days ${d.primaryWindow.firstDay}-${d.primaryWindow.lastDay}; secondary: days ${d.secondaryWindow.firstDay}-${d.secondaryWindow.lastDay}.`,
    `Days after the day of death score ${d.deathScore}; the day of death itself ${d.deathDay === 'death-score' ? `scores ${d.deathScore} when not recorded` : 'keeps its recorded value (carried forward when missing)'}.`,
    `Missing days take the last value observed on an earlier day from day ${d.baselineDay} on (LOCF); a day with no earlier observation leaves the mean not evaluable.`,
    `Responder when day-${d.baselineDay} SOFA minus the window mean ${r.operator} ${r.thresholdPoints} (${source(r.source)}).`,
    `Patients whose responder status is not evaluable are ${d.notEvaluable === 'exclude' ? 'excluded from the responder proportions' : 'counted as non-responders'}.`,
    `Mortality by day ${d.mortalityDays.join(' and ')}; time to death censored at the last contact or day ${Math.max(...d.mortalityDays)}.`,
    `Reversal of immune dysfunction by day ${d.reversalByDay} (ImmunoSep reversal criteria); time to reversal censored at the last valid assessment, death or day ${d.reversalByDay}.`,
    `Resolution of the index infection by day ${d.infectionResolutionByDay}, as recorded by the investigator.`,
  ];
  return [
    '<h2>Endpoint definition</h2>',
    `<p><b>${esc(d.id)} ${esc(d.version)}</b>: ${esc(d.title)}. SOFA preset of the daily scores: <b>${esc(sofaPreset)}</b>.</p>`,
    `<ul class="compact">${rules.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`,
    d.unconfirmed.length === 0 ? '' : `<h3>Unconfirmed choices</h3><ul class="compact">${d.unconfirmed.map((u) => `<li>${esc(u)}</li>`).join('')}</ul>`,
  ].join('\n');
}

function metaTable(rows: Array<[string, string]>): string {
  return `<table class="meta"><tbody>${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</tbody></table>`;
}

function baselineSection(columns: string[], rows: BaselineRow[]): string {
  return [
    '<h2>Baseline characteristics</h2>',
    table(
      ['characteristic', ...columns],
      rows.map((r) => [r.label, ...r.cells.map((c) => c.text)]),
      { cellClasses: rows.map((r) => (r.level === 1 ? ['sub'] : [])) },
    ),
    '<p class="note">Analysed (modified intention-to-treat) population. Percentages of patients with a recorded value; SD standard deviation, IQR interquartile range.</p>',
  ].join('\n');
}

function consortSection(consort: ConsortData, idPrefix: string): string {
  return ['<h2>CONSORT flow diagram</h2>', figure(consortSvg(consort, { title: 'Flow of patients', idPrefix }), 'Enrolment from the screening log, randomisation within biomarker strata, follow-up and analysis.')].join('\n');
}

function methodsNote(blinded: boolean): string {
  const common =
    'Kaplan-Meier estimates with Greenwood variance and log-transformed pointwise CIs. SOFA trajectories: daily means of the endpoint-scored values (death = 24 after death, LOCF) with normal-approximation 95% CIs. ' +
    'Every statistic is validated against R (prop.test, fisher.test, survival::survfit, survdiff, coxph) in the ImmunoGuide test suite.';
  const text = blinded
    ? `Pooled proportions with Wilson score 95% CIs. ${common}`
    : 'Proportions with Wilson score 95% CIs; risk difference with the Newcombe hybrid score 95% CI; odds ratio with the Woolf (logit) 95% CI (* 0.5 added to every cell when one is zero); two-sided Fisher exact P. ' +
      `Log-rank test; Cox proportional hazards model with Efron ties, Wald CI and P. ${common}`;
  return `<h2>Methods</h2>\n<p class="note">${esc(text)}</p>`;
}

// ---------------------------------------------------------------------------------------------
// Unblinded report
// ---------------------------------------------------------------------------------------------

function subgroupLabel(s: SubgroupResult['subgroup']): string {
  return s === 'all' ? 'all patients' : `${s} stratum`;
}

function forestRows(subgroups: readonly SubgroupResult[], endpoint: BinaryEndpointId, measure: 'rd' | 'or'): ForestRow[] {
  return subgroups
    .filter((s) => s.endpoint === endpoint)
    .map((s) => {
      const c = s.comparison;
      const estimate = c === null ? null : measure === 'rd' ? c.riskDifference.estimate : c.oddsRatio.estimate;
      const ci95 = c === null ? null : measure === 'rd' ? c.riskDifference.ci95 : c.oddsRatio.ci95;
      return {
        label: subgroupLabel(s.subgroup),
        columns: [`${s.active.events}/${s.active.n}`, `${s.placebo.events}/${s.placebo.n}`] as [string, string],
        estimate,
        ci95,
        overall: s.subgroup === 'all',
        weight: s.active.n + s.placebo.n,
      };
    });
}

/** The unblinded report (statistician and unblinded roles only). */
export function renderTrialReport(a: TrialAnalysis, meta: ReportMeta): string {
  const labels = a.trial.armLabels;
  const d = a.definition;
  const title = `${a.trial.title}: unblinded endpoint report`;
  const header = [
    `<h1>${esc(a.trial.title)}</h1>`,
    '<div class="banner unblinded">UNBLINDED REPORT: contains treatment allocation. For the trial statistician and unblinded roles only (e.g. the DSMB); do not distribute to blinded staff.</div>',
    metaTable([
      ['trial', a.trial.id],
      ['SOFA preset', a.trial.sofaPreset],
      ['endpoint definition', `${d.id} ${d.version} (responder: change ${d.responder.operator} ${d.responder.thresholdPoints})`],
      ['randomised', `${a.population.randomised.active + a.population.randomised.placebo} (${labels.active} ${a.population.randomised.active}, ${labels.placebo} ${a.population.randomised.placebo})`],
      ['analysed (mITT)', `${a.population.analysed.active + a.population.analysed.placebo} (${labels.active} ${a.population.analysed.active}, ${labels.placebo} ${a.population.analysed.placebo})`],
      ['generated', `${meta.generatedAt} by ImmunoGuide ${meta.softwareVersion}${meta.source ? ` from ${meta.source}` : ''}`],
    ]),
  ];

  const endpointRows = a.binary.map((b) => [b.label, countText(b.active), countText(b.placebo), rdText(b.comparison), orText(b.comparison), formatP(b.comparison?.fisherP ?? null)]);
  const notEvaluable = a.binary
    .filter((b) => b.active.notEvaluable + b.placebo.notEvaluable > 0)
    .map((b) => `${b.label}: ${b.active.notEvaluable} (${labels.active}) and ${b.placebo.notEvaluable} (${labels.placebo}) not evaluable`);
  const s = a.survival.comparison;
  const rt = a.reversalTime.comparison;
  const timeRows = [
    [
      `time to death (to day ${Math.max(...d.mortalityDays)})`,
      `median ${dayText(s?.median.active)}`,
      `median ${dayText(s?.median.placebo)}`,
      hrText(s, a.survival.note),
      formatP(s?.logRank.p ?? null),
      formatP(s?.cox.p ?? null),
    ],
    [
      `time to reversal (to day ${d.reversalByDay})`,
      `median ${dayText(rt?.median.active)}`,
      `median ${dayText(rt?.median.placebo)}`,
      hrText(rt, a.reversalTime.note),
      formatP(rt?.logRank.p ?? null),
      formatP(rt?.cox.p ?? null),
    ],
  ];
  const endpoints = [
    '<h2>Primary and secondary endpoints</h2>',
    table(['endpoint', labels.active, labels.placebo, 'risk difference, points (95% CI)', 'odds ratio (95% CI)', 'Fisher P'], endpointRows, {
      rowClasses: a.binary.map((b) => (b.primary ? 'primary' : '')),
    }),
    notEvaluable.length === 0 ? '' : `<p class="note">Not evaluable, excluded from the denominators: ${esc(notEvaluable.join('; '))}.</p>`,
    table(['time to event', labels.active, labels.placebo, 'hazard ratio (95% CI), Cox', 'log-rank P', 'Wald P'], timeRows),
    `<p class="note">Differences and ratios are ${esc(labels.active)} versus ${esc(labels.placebo)}; medians in days. ${[s?.cox.note, rt?.cox.note].filter((x) => x).map((x) => esc(x as string)).join(' ')}</p>`,
  ];

  const km = figure(
    kaplanMeierSvg(
      [
        { label: labels.active, colour: COLOURS.first, data: a.survival.curves.active },
        { label: labels.placebo, colour: COLOURS.second, data: a.survival.curves.placebo },
      ],
      { title: 'Survival to day 90', maxTime: Math.max(...KM_TICKS_DAYS), timeLabel: 'study day' },
    ),
    `Kaplan-Meier survival by treatment group; tick marks are censored patients; numbers at risk at days ${KM_TICKS_DAYS.join(', ')}. Log-rank P ${formatP(s?.logRank.p ?? null)}.`,
  );
  const trajectories = figure(
    trajectorySvg(
      [
        { label: labels.active, colour: COLOURS.first, points: a.trajectories.active },
        { label: labels.placebo, colour: COLOURS.second, points: a.trajectories.placebo },
      ],
      { title: 'Daily total SOFA by treatment group' },
    ),
    'Mean total SOFA per study day with 95% CIs, scored as the endpoint scores it (24 after death, last observation carried forward).',
  );

  const subgroupRows = a.subgroups.map((sg) => {
    const label = BINARY_ENDPOINTS.find((e) => e.id === sg.endpoint)?.label ?? sg.endpoint;
    return [label, subgroupLabel(sg.subgroup), countText(sg.active), countText(sg.placebo), rdText(sg.comparison), orText(sg.comparison), formatP(sg.comparison?.fisherP ?? null)];
  });
  const forestOptions = (measure: 'rd' | 'or') => ({
    title: `Primary endpoint by biomarker stratum: ${measure === 'rd' ? 'risk difference' : 'odds ratio'}`,
    measure,
    columnLabels: [labels.active, labels.placebo] as [string, string],
    // A higher responder proportion favours the arm with it.
    favours: [labels.placebo, labels.active] as [string, string],
  });
  const subgroups = [
    '<h2>Subgroups by biomarker stratum</h2>',
    figure(forestPlotSvg(forestRows(a.subgroups, 'responder-primary', 'rd'), forestOptions('rd')), 'SOFA responders (days 2-9), risk difference in percentage points with the Newcombe 95% CI; squares sized by the number of patients.'),
    figure(forestPlotSvg(forestRows(a.subgroups, 'responder-primary', 'or'), forestOptions('or')), 'SOFA responders (days 2-9), odds ratio with the Woolf 95% CI, log scale.'),
    table(['endpoint', 'subgroup', labels.active, labels.placebo, 'risk difference, points (95% CI)', 'odds ratio (95% CI)', 'Fisher P'], subgroupRows, { numericFrom: 2 }),
  ];

  return page(title, [
    ...header,
    consortSection(a.consort, 'unblinded'),
    baselineSection(a.baseline.columns, a.baseline.rows),
    ...endpoints,
    '<h2>Survival</h2>',
    km,
    '<h2>SOFA trajectories</h2>',
    trajectories,
    ...subgroups,
    definitionSection(d, a.trial.sofaPreset),
    methodsNote(false),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Blinded pooled report
// ---------------------------------------------------------------------------------------------

/** The blinded pooled report: every number is over all patients (or a biomarker stratum). */
export function renderBlindedReport(a: BlindedTrialAnalysis, meta: ReportMeta): string {
  const d = a.definition;
  const title = `${a.trial.title}: blinded pooled report`;
  const header = [
    `<h1>${esc(a.trial.title)}</h1>`,
    '<div class="banner blinded">BLINDED POOLED REPORT: all results are pooled over the treatment groups.</div>',
    metaTable([
      ['trial', a.trial.id],
      ['SOFA preset', a.trial.sofaPreset],
      ['endpoint definition', `${d.id} ${d.version} (responder: change ${d.responder.operator} ${d.responder.thresholdPoints})`],
      ['randomised', String(a.population.randomised)],
      ['analysed (mITT)', String(a.population.analysed)],
      ['generated', `${meta.generatedAt} by ImmunoGuide ${meta.softwareVersion}${meta.source ? ` from ${meta.source}` : ''}`],
    ]),
  ];
  const rows = a.binary.map((b) => [
    b.label,
    countText(b.count),
    b.ci95 === null ? '-' : `${pct(b.ci95[0])} to ${pct(b.ci95[1])}`,
    String(b.count.notEvaluable),
  ]);
  const strataRows = a.byStratum.map((s) => [BINARY_ENDPOINTS.find((e) => e.id === s.endpoint)?.label ?? s.endpoint, `${s.stratum} stratum`, countText(s.count)]);
  return page(title, [
    ...header,
    consortSection(a.consort, 'blinded'),
    baselineSection(a.baseline.columns, a.baseline.rows),
    '<h2>Endpoints, pooled</h2>',
    table(['endpoint', 'all patients', '95% CI (Wilson)', 'not evaluable'], rows, { rowClasses: a.binary.map((b) => (b.primary ? 'primary' : '')) }),
    table(['endpoint', 'stratum', 'patients'], strataRows, { numericFrom: 2 }),
    '<h2>Survival</h2>',
    figure(
      kaplanMeierSvg([{ label: 'all patients', colour: COLOURS.pooled, data: a.survival }], {
        title: 'Survival to day 90, pooled',
        maxTime: Math.max(...KM_TICKS_DAYS),
        timeLabel: 'study day',
      }),
      `Kaplan-Meier survival of all analysed patients; tick marks are censored patients; numbers at risk at days ${KM_TICKS_DAYS.join(', ')}. Median ${dayText(a.survival.median)} days.`,
    ),
    '<h2>SOFA trajectory</h2>',
    figure(
      trajectorySvg([{ label: 'all patients', colour: COLOURS.pooled, points: a.trajectory }], { title: 'Daily total SOFA, pooled' }),
      'Mean total SOFA per study day with 95% CIs, scored as the endpoint scores it (24 after death, last observation carried forward).',
    ),
    definitionSection(d, a.trial.sofaPreset),
    methodsNote(true),
  ]);
}
