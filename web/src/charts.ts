/**
 * The patient timeline charts, drawn with Observable Plot (loaded lazily: only the patient and
 * analysis pages pay for it). Every panel shares one time frame (same x domain, width and
 * margins) so the panels line up vertically: a ferritin rise sits above that day's SOFA.
 * Thresholds come from the server's rule sets and are drawn as labelled lines, never implied
 * by colour alone; a missing value is drawn as "not measured", never as 0.
 */
import * as Plot from '@observablehq/plot';
import type { SofaComponent, SofaDay } from './types.ts';

export interface TimeFrame {
  width: number;
  domain: [Date, Date];
  /** Evaluation time, marked when inside the domain. */
  at: Date | null;
}

const MARGIN_LEFT = 104;
const MARGIN_RIGHT = 190;
const INK = '#1f2937';
const MUTED = '#6b7280';

function base(frame: TimeFrame, height: number) {
  return {
    width: frame.width,
    height,
    marginLeft: MARGIN_LEFT,
    marginRight: MARGIN_RIGHT,
    marginTop: 24,
    marginBottom: 30,
    style: { fontSize: '13px', fontFamily: 'system-ui, sans-serif', color: INK, background: 'transparent', overflow: 'visible' },
  } as const;
}

const dayTick = new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: 'short' });
const hourTick = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** 24-hour local ticks, as the rest of the app: midnight shows the date, other ticks the time. */
function formatTick(value: Date): string {
  return value.getHours() === 0 && value.getMinutes() === 0 ? dayTick.format(value) : hourTick.format(value);
}

function xScale(frame: TimeFrame) {
  return { type: 'time' as const, domain: frame.domain, label: null, grid: true, ticks: Math.max(3, Math.floor(frame.width / 110)), tickFormat: formatTick };
}

function atRule(frame: TimeFrame): Plot.Markish[] {
  const at = frame.at;
  if (!at || at < frame.domain[0] || at > frame.domain[1]) return [];
  return [
    Plot.ruleX([at], { stroke: INK, strokeWidth: 1.5, strokeDasharray: '2,3' }),
    Plot.text([at], { x: (d: Date) => d, frameAnchor: 'top', text: () => 'evaluated', dy: -10, fill: INK, fontSize: 11 }),
  ];
}

/**
 * One text alternative per chart: the <svg> becomes role="img" with the chart's label and
 * description (the values are also in the table under each chart). Plot labels its mark groups
 * with aria-label, which is not allowed on role-less <g> elements and would be read piecemeal.
 */
function accessible(chart: Element): Element {
  const svg = chart instanceof SVGSVGElement ? chart : chart.querySelector('svg');
  if (svg) {
    svg.setAttribute('role', 'img');
    for (const child of svg.querySelectorAll('[aria-label]')) child.removeAttribute('aria-label');
  }
  return chart;
}

export interface ThresholdLine {
  value: number;
  /** e.g. "MALS: > 4,420 ng/mL". */
  label: string;
  /** Shade the range that the threshold defines (above or below the line), in this colour. */
  shade?: { side: 'above' | 'below'; fill: string };
  tone: 'class' | 'reversal';
}

export interface BiomarkerPoint {
  time: Date;
  value: number;
}

export function biomarkerChart(
  frame: TimeFrame,
  points: BiomarkerPoint[],
  options: { label: string; unit: string; thresholds: ThresholdLine[]; description: string },
): Element {
  const values = [...points.map((p) => p.value), ...options.thresholds.map((t) => t.value)];
  const lo = Math.max(1, Math.min(...values) / 1.6);
  const hi = Math.max(...values) * 1.6;
  const marks: Plot.Markish[] = [];
  for (const t of options.thresholds) {
    if (t.shade) {
      marks.push(
        Plot.rectY([t], {
          x1: frame.domain[0],
          x2: frame.domain[1],
          y1: t.shade.side === 'above' ? t.value : lo,
          y2: t.shade.side === 'above' ? hi : t.value,
          fill: t.shade.fill,
          fillOpacity: 0.8,
        }),
      );
    }
  }
  for (const t of options.thresholds) {
    marks.push(
      Plot.ruleY([t.value], { stroke: t.tone === 'class' ? INK : MUTED, strokeWidth: t.tone === 'class' ? 2 : 1.5, strokeDasharray: t.tone === 'class' ? '6,3' : '2,3' }),
      Plot.text([t], { x: frame.domain[1], y: t.value, text: (d: ThresholdLine) => d.label, textAnchor: 'start', dx: 6, fill: INK, fontWeight: t.tone === 'class' ? 'bold' : 'normal', fontSize: 12 }),
    );
  }
  marks.push(...atRule(frame));
  if (points.length > 1) marks.push(Plot.line(points, { x: 'time', y: 'value', stroke: '#1d4ed8', strokeWidth: 1.5 }));
  marks.push(Plot.dot(points, { x: 'time', y: 'value', r: 4, fill: '#1d4ed8', stroke: 'white', tip: true, title: (p: BiomarkerPoint) => `${p.value} ${options.unit}\n${p.time.toISOString()}` }));
  if (points.length <= 14) {
    marks.push(Plot.text(points, { x: 'time', y: 'value', text: (p: BiomarkerPoint) => p.value.toLocaleString('en-GB'), dy: -11, fill: INK, fontSize: 11, stroke: 'white', strokeWidth: 3, paintOrder: 'stroke' }));
  }
  return accessible(Plot.plot({
    ...base(frame, 190),
    ariaLabel: `${options.label} over time`,
    ariaDescription: options.description,
    x: xScale(frame),
    y: { type: 'log', domain: [lo, hi], label: `${options.label} (${options.unit}, log scale)`, grid: true, ticks: 4, tickFormat: '~s' },
    marks,
  }));
}

export function sofaTotalChart(frame: TimeFrame, days: SofaDay[], description: string): Element {
  const data = days.map((d) => ({ start: new Date(d.start), end: new Date(d.end), total: d.total, missing: d.missing.length }));
  return accessible(Plot.plot({
    ...base(frame, 170),
    ariaLabel: 'Daily SOFA total',
    ariaDescription: description,
    x: xScale(frame),
    y: { domain: [0, 24], label: 'SOFA total (0–24)', grid: true, ticks: [0, 4, 8, 12, 16, 20, 24] },
    marks: [
      Plot.rectY(data, { x1: 'start', x2: 'end', y: 'total', fill: '#475569', inset: 2 }),
      Plot.text(data, {
        x: (d: (typeof data)[number]) => new Date((d.start.getTime() + d.end.getTime()) / 2),
        y: 'total',
        text: (d: (typeof data)[number]) => (d.missing > 0 ? `${d.total}*` : String(d.total)),
        dy: -8,
        fill: INK,
        fontWeight: 'bold',
      }),
      ...atRule(frame),
    ],
  }));
}

export const SOFA_COMPONENTS: Array<{ key: SofaComponent; label: string }> = [
  { key: 'respiration', label: 'Respiration' },
  { key: 'coagulation', label: 'Coagulation' },
  { key: 'liver', label: 'Liver' },
  { key: 'cardiovascular', label: 'Cardiovascular' },
  { key: 'cns', label: 'CNS (GCS)' },
  { key: 'renal', label: 'Renal' },
];

/** Day x organ grid: the score printed in each cell, shade by score; "n/m" where not measured. */
export function sofaComponentsChart(frame: TimeFrame, days: SofaDay[], description: string): Element {
  const cells = days.flatMap((d) =>
    SOFA_COMPONENTS.map((c) => ({ start: new Date(d.start), end: new Date(d.end), component: c.label, score: d.components[c.key] })),
  );
  const mid = (d: (typeof cells)[number]) => new Date((d.start.getTime() + d.end.getTime()) / 2);
  return accessible(Plot.plot({
    ...base(frame, 250),
    ariaLabel: 'Daily SOFA components',
    ariaDescription: description,
    x: xScale(frame),
    y: { domain: SOFA_COMPONENTS.map((c) => c.label), label: null, tickSize: 0 },
    color: { type: 'linear', domain: [0, 4], range: ['#f1f5f9', '#7f1d1d'] },
    marks: [
      Plot.rect(cells.filter((c) => c.score !== null), { x1: 'start', x2: 'end', y: 'component', fill: 'score', inset: 1 }),
      Plot.rect(cells.filter((c) => c.score === null), { x1: 'start', x2: 'end', y: 'component', fill: 'white', stroke: '#9ca3af', strokeDasharray: '3,2', inset: 1.5 }),
      // Dark cells (3-4) get white text; constant fills keep the colour scale for the cells only.
      Plot.text(
        cells.filter((c) => c.score !== null && c.score < 3),
        { x: mid, y: 'component', text: (d: (typeof cells)[number]) => String(d.score), fill: INK, fontWeight: 'bold', fontSize: 12 },
      ),
      Plot.text(
        cells.filter((c) => c.score !== null && c.score >= 3),
        { x: mid, y: 'component', text: (d: (typeof cells)[number]) => String(d.score), fill: 'white', fontWeight: 'bold', fontSize: 12 },
      ),
      Plot.text(
        cells.filter((c) => c.score === null),
        { x: mid, y: 'component', text: () => 'n/m', fill: MUTED, fontSize: 12 },
      ),
      ...atRule(frame),
    ],
  }));
}

export interface InfusionRun {
  drug: string;
  start: Date;
  end: Date;
  /** µg/kg/min. */
  rate: number;
}

export function vasopressorChart(frame: TimeFrame, runs: InfusionRun[], description: string): Element {
  const drugs = [...new Set(runs.map((r) => r.drug))];
  const max = Math.max(0.1, ...runs.map((r) => r.rate));
  return accessible(Plot.plot({
    ...base(frame, 70 + 70 * drugs.length),
    ariaLabel: 'Vasopressor infusion rates',
    ariaDescription: description,
    x: xScale(frame),
    y: { domain: [0, max * 1.15], label: 'µg/kg/min', grid: true, ticks: 3 },
    fy: { domain: drugs, axis: null },
    marks: [
      Plot.rectY(runs, { x1: 'start', x2: 'end', y: 'rate', fy: 'drug', fill: '#b45309', fillOpacity: 0.85 }),
      Plot.text(drugs, { fy: (d: string) => d, text: (d: string) => d, frameAnchor: 'right', textAnchor: 'start', dx: 8, fill: INK, fontWeight: 'bold' }),
      Plot.frame({ stroke: '#e5e7eb' }),
      ...atRule(frame),
    ],
  }));
}

export interface DoseMark {
  time: Date;
  /** "IV" / "SC" */
  route: string;
  label: string;
}

export function administrationsChart(frame: TimeFrame, doses: DoseMark[], title: string, description: string): Element {
  const routes = [...new Set(doses.map((d) => d.route))].sort();
  return accessible(Plot.plot({
    ...base(frame, 60 + 34 * routes.length),
    ariaLabel: title,
    ariaDescription: description,
    x: xScale(frame),
    y: { domain: routes, label: null, tickSize: 0 },
    marks: [
      Plot.tickX(doses, { x: 'time', y: 'route', stroke: '#166534', strokeWidth: 2 }),
      Plot.text([title], { frameAnchor: 'right', textAnchor: 'start', dx: 8, fill: INK, fontSize: 12 }),
      ...atRule(frame),
    ],
  }));
}

// --- statistical graphics (analysis page) -------------------------------------------------------

export interface NamedSeries<T> {
  label: string;
  data: T;
}

/** Groups told apart by dash pattern and a label at the end of each line, not by colour alone. */
const GROUP_STYLES = [
  { stroke: '#1d4ed8', dash: null as string | null },
  { stroke: '#b45309', dash: '6,4' },
  { stroke: '#374151', dash: '2,3' },
];

function groupStyle(i: number) {
  return GROUP_STYLES[i % GROUP_STYLES.length]!;
}

function plainFrame(width: number, height: number) {
  return {
    width,
    height,
    marginLeft: 64,
    marginRight: 170,
    marginTop: 20,
    marginBottom: 40,
    style: { fontSize: '13px', fontFamily: 'system-ui, sans-serif', color: INK, background: 'transparent', overflow: 'visible' },
  } as const;
}

export function kaplanMeierChart(
  width: number,
  groups: Array<NamedSeries<{ steps: Array<{ time: number; survival: number; lower: number | null; upper: number | null }>; censored: number[] }>>,
  description: string,
): Element {
  const marks: Plot.Markish[] = [];
  groups.forEach((g, i) => {
    const style = groupStyle(i);
    const band = g.data.steps.filter((s) => s.lower !== null && s.upper !== null);
    marks.push(Plot.areaY(band, { x: 'time', y1: 'lower', y2: 'upper', curve: 'step-after', fill: style.stroke, fillOpacity: 0.12 }));
    marks.push(Plot.line(g.data.steps, { x: 'time', y: 'survival', curve: 'step-after', stroke: style.stroke, strokeWidth: 2, ...(style.dash ? { strokeDasharray: style.dash } : {}) }));
    // Censored patients: a "+" on the curve at the censoring time (tickY would make x ordinal).
    const at = (t: number) => [...g.data.steps].reverse().find((s) => s.time <= t)?.survival ?? 1;
    marks.push(Plot.dot(g.data.censored.map((t) => ({ time: t, survival: at(t) })), { x: 'time', y: 'survival', symbol: 'plus', r: 3.5, stroke: style.stroke }));
    const last = g.data.steps.at(-1);
    if (last) marks.push(Plot.text([last], { x: 'time', y: 'survival', text: () => g.label, textAnchor: 'start', dx: 8, fill: INK, fontWeight: 'bold' }));
  });
  return accessible(
    Plot.plot({
      ...plainFrame(width, 300),
      ariaLabel: 'Kaplan-Meier survival',
      ariaDescription: description,
      x: { label: 'days since randomisation', grid: true },
      y: { domain: [0, 1], label: 'survival', grid: true, tickFormat: '.0%' },
      marks,
    }),
  );
}

export function trajectoryChart(width: number, groups: Array<NamedSeries<Array<{ day: number; mean: number | null; ci95: [number, number] | null }>>>, description: string): Element {
  const marks: Plot.Markish[] = [];
  groups.forEach((g, i) => {
    const style = groupStyle(i);
    const known = g.data.filter((p) => p.mean !== null);
    const band = known.filter((p) => p.ci95 !== null).map((p) => ({ day: p.day, lo: p.ci95![0], hi: p.ci95![1] }));
    marks.push(Plot.areaY(band, { x: 'day', y1: 'lo', y2: 'hi', fill: style.stroke, fillOpacity: 0.12 }));
    marks.push(Plot.line(known, { x: 'day', y: 'mean', stroke: style.stroke, strokeWidth: 2, marker: 'circle', ...(style.dash ? { strokeDasharray: style.dash } : {}) }));
    const last = known.at(-1);
    if (last) marks.push(Plot.text([last], { x: 'day', y: 'mean', text: () => g.label, textAnchor: 'start', dx: 8, fill: INK, fontWeight: 'bold' }));
  });
  return accessible(
    Plot.plot({
      ...plainFrame(width, 280),
      ariaLabel: 'Mean daily SOFA',
      ariaDescription: description,
      x: { label: 'study day', grid: true },
      y: { domain: [0, 24], label: 'mean SOFA (95% CI)', grid: true },
      marks,
    }),
  );
}

export interface ForestRow {
  label: string;
  estimate: number;
  lower: number;
  upper: number;
  /** Printed at the right: "12.3 (−1.0 to 25.1)". */
  text: string;
}

/** Risk differences (percentage points) with 95% CIs; the zero line is "no difference". */
export function forestChart(width: number, rows: ForestRow[], xLabel: string, description: string): Element {
  const extent = Math.max(5, ...rows.flatMap((r) => [Math.abs(r.lower), Math.abs(r.upper)])) * 1.1;
  return accessible(
    Plot.plot({
      ...plainFrame(width, 60 + rows.length * 44),
      marginLeft: 170,
      ariaLabel: 'Forest plot',
      ariaDescription: description,
      x: { domain: [-extent, extent], label: xLabel, grid: true },
      y: { domain: rows.map((r) => r.label), label: null, tickSize: 0 },
      marks: [
        Plot.ruleX([0], { stroke: INK, strokeDasharray: '4,3' }),
        Plot.link(rows, { x1: 'lower', x2: 'upper', y1: 'label', y2: 'label', stroke: INK, strokeWidth: 2 }),
        Plot.dot(rows, { x: 'estimate', y: 'label', r: 6, fill: INK, symbol: 'square' }),
        Plot.text(rows, { x: extent, y: 'label', text: 'text', textAnchor: 'start', dx: 10, fill: INK }),
      ],
    }),
  );
}
