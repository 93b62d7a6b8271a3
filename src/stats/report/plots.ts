/**
 * The report's figures as SVG text: Kaplan-Meier curves with numbers at risk, mean daily SOFA
 * trajectories, and a forest plot of per-stratum effects. Pure functions of their data; the
 * same data always give the same bytes.
 */
import type { KmPlotData, TrajectoryPoint } from '../trial-analysis.ts';
import { COLOURS, el, linearScale, n2, niceTicks, svgRoot, text, wrap } from './svg.ts';

export interface KmSeries {
  label: string;
  colour: string;
  data: KmPlotData;
}

function legend(body: string[], x: number, y: number, colour: string, label: string): void {
  body.push(el('line', { x1: x, x2: x + 20, y1: y - 4, y2: y - 4, stroke: colour, 'stroke-width': 2 }));
  body.push(text(x + 26, y, label));
}

/** Kaplan-Meier survival curves (steps, censoring ticks) with the numbers at risk below. */
export function kaplanMeierSvg(series: readonly KmSeries[], options: { title: string; maxTime: number; timeLabel: string }): string {
  const width = 700;
  const left = 190;
  const right = 20;
  const top = 30 + 18 * series.length;
  const plotHeight = 240;
  const riskTop = top + plotHeight + 58;
  const height = riskTop + 22 * series.length + 12;
  const x = linearScale([0, options.maxTime], [left, width - right]);
  const y = linearScale([0, 1], [top + plotHeight, top]);
  const body: string[] = [text(left, 18, options.title, { 'font-weight': 'bold', 'font-size': 13 })];
  for (const v of niceTicks(0, 1, 5)) {
    body.push(el('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), stroke: COLOURS.grid }));
    body.push(text(left - 6, y(v) + 4, `${Math.round(v * 100)}%`, { 'text-anchor': 'end' }));
  }
  const ticks = series[0]?.data.atRisk.map((r) => r.time) ?? [];
  for (const t of ticks) {
    body.push(el('line', { x1: x(t), x2: x(t), y1: top + plotHeight, y2: top + plotHeight + 5, stroke: '#000' }));
    body.push(text(x(t), top + plotHeight + 18, String(t), { 'text-anchor': 'middle' }));
  }
  body.push(el('line', { x1: left, x2: width - right, y1: top + plotHeight, y2: top + plotHeight, stroke: '#000' }));
  body.push(el('line', { x1: left, x2: left, y1: top, y2: top + plotHeight, stroke: '#000' }));
  body.push(text((left + width - right) / 2, top + plotHeight + 36, options.timeLabel, { 'text-anchor': 'middle' }));
  body.push(text(16, top + plotHeight / 2, 'survival', { transform: `rotate(-90 16 ${n2(top + plotHeight / 2)})`, 'text-anchor': 'middle' }));

  series.forEach((s, i) => {
    // Step path: horizontal to the next time, then vertical to the new level.
    const steps = s.data.steps.filter((p) => p.time <= options.maxTime);
    let d = `M${n2(x(0))},${n2(y(1))}`;
    for (const p of steps) d += `H${n2(x(p.time))}V${n2(y(p.survival))}`;
    d += `H${n2(x(Math.min(options.maxTime, Math.max(0, ...steps.map((p) => p.time)))))}`;
    body.push(el('path', { d, fill: 'none', stroke: s.colour, 'stroke-width': 2 }));
    // Censoring ticks at the curve's level at that time.
    const marks = s.data.censored
      .filter((t) => t <= options.maxTime)
      .map((t) => {
        const at = [...steps].reverse().find((p) => p.time <= t)?.survival ?? 1;
        return `M${n2(x(t))},${n2(y(at) - 4)}v8`;
      })
      .join('');
    if (marks !== '') body.push(el('path', { d: marks, stroke: s.colour, 'stroke-width': 1.5 }));
    // Legend, above the plot.
    legend(body, left, 32 + 18 * i, s.colour, `${s.label} (${s.data.events}/${s.data.n} died)`);
    // Numbers at risk.
    const ry = riskTop + 22 * i + 14;
    body.push(text(left - 24, ry, s.label, { 'text-anchor': 'end', fill: s.colour }));
    for (const r of s.data.atRisk) body.push(text(x(r.time), ry, String(r.atRisk), { 'text-anchor': 'middle', fill: s.colour }));
  });
  body.push(text(8, riskTop - 4, 'number at risk', { 'font-style': 'italic' }));
  return svgRoot(width, height, options.title, body);
}

export interface TrajectorySeries {
  label: string;
  colour: string;
  points: readonly TrajectoryPoint[];
}

/** Mean daily total SOFA with 95% CIs per group (error bars, groups offset for legibility). */
export function trajectorySvg(series: readonly TrajectorySeries[], options: { title: string }): string {
  const width = 700;
  const left = 56;
  const right = 20;
  const top = 30 + 18 * series.length;
  const plotHeight = 240;
  const height = top + plotHeight + 48;
  const days = series[0]?.points.map((p) => p.day) ?? [];
  const firstDay = Math.min(...days);
  const lastDay = Math.max(...days);
  const upper = Math.max(4, ...series.flatMap((s) => s.points.map((p) => p.ci95?.[1] ?? p.mean ?? 0)));
  const yMax = Math.min(24, Math.ceil(upper / 2) * 2);
  const x = linearScale([firstDay - 0.5, lastDay + 0.5], [left, width - right]);
  const y = linearScale([0, yMax], [top + plotHeight, top]);
  const body: string[] = [text(left, 18, options.title, { 'font-weight': 'bold', 'font-size': 13 })];
  for (const v of niceTicks(0, yMax, 6)) {
    body.push(el('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), stroke: COLOURS.grid }));
    body.push(text(left - 6, y(v) + 4, String(v), { 'text-anchor': 'end' }));
  }
  for (const day of days) body.push(text(x(day), top + plotHeight + 16, String(day), { 'text-anchor': 'middle' }));
  body.push(el('line', { x1: left, x2: width - right, y1: top + plotHeight, y2: top + plotHeight, stroke: '#000' }));
  body.push(el('line', { x1: left, x2: left, y1: top, y2: top + plotHeight, stroke: '#000' }));
  body.push(text((left + width - right) / 2, top + plotHeight + 36, 'study day', { 'text-anchor': 'middle' }));
  body.push(text(14, top + plotHeight / 2, 'mean total SOFA', { transform: `rotate(-90 14 ${n2(top + plotHeight / 2)})`, 'text-anchor': 'middle' }));
  const offset = (i: number) => (series.length === 1 ? 0 : (i - (series.length - 1) / 2) * 0.15);
  series.forEach((s, i) => {
    const points = s.points.filter((p) => p.mean !== null);
    const d = points.map((p, k) => `${k === 0 ? 'M' : 'L'}${n2(x(p.day + offset(i)))},${n2(y(p.mean as number))}`).join('');
    if (d !== '') body.push(el('path', { d, fill: 'none', stroke: s.colour, 'stroke-width': 2 }));
    for (const p of points) {
      const cx = x(p.day + offset(i));
      if (p.ci95 !== null) body.push(el('line', { x1: cx, x2: cx, y1: y(Math.max(0, p.ci95[0])), y2: y(Math.min(yMax, p.ci95[1])), stroke: s.colour }));
      body.push(el('circle', { cx, cy: y(p.mean as number), r: 3, fill: s.colour }));
    }
    legend(body, left, 32 + 18 * i, s.colour, s.label);
  });
  return svgRoot(width, height, options.title, body);
}

export interface ForestRow {
  label: string;
  /** e.g. "12/40" per arm. */
  columns: [string, string];
  estimate: number | null;
  ci95: [number, number] | null;
  /** Overall rows are drawn as a diamond. */
  overall: boolean;
  /** Marker weight (e.g. patients), scaled to the largest. */
  weight: number;
}

/**
 * A forest plot: one row per subgroup with the point estimate and 95% CI. `measure` 'rd' is a
 * risk difference in percentage points on a linear axis around 0; 'or' an odds ratio on a log
 * axis around 1.
 */
export function forestPlotSvg(
  rows: readonly ForestRow[],
  options: { title: string; measure: 'rd' | 'or'; columnLabels: [string, string]; favours: [string, string] },
): string {
  const width = 800;
  const labelWidth = 150;
  const columnWidth = 90;
  const estimateWidth = 180;
  const plotLeft = labelWidth + 2 * columnWidth + estimateWidth;
  const plotRight = width - 20;
  const headers = options.columnLabels.map((l) => wrap(l, 14));
  const headerLines = Math.max(1, ...headers.map((h) => h.length));
  const top = 44 + 14 * headerLines;
  const rowHeight = 26;
  const height = top + rowHeight * rows.length + 64;
  const isOr = options.measure === 'or';
  const transform = (v: number) => (isOr ? Math.log(v) : 100 * v);
  const finite = rows.flatMap((r) => (r.ci95 === null ? [] : [transform(r.ci95[0]), transform(r.ci95[1])])).filter(Number.isFinite);
  // The no-effect line: a difference of 0, or an odds ratio of 1 (log 1 = 0).
  const reference = 0;
  let lo = Math.min(reference, ...finite);
  let hi = Math.max(reference, ...finite);
  const pad = (hi - lo) * 0.05 || 1;
  lo -= pad;
  hi += pad;
  if (isOr) {
    // Keep a readable range on the log axis: at most 1/100 to 100.
    lo = Math.max(lo, Math.log(0.01));
    hi = Math.min(hi, Math.log(100));
  }
  const x = linearScale([lo, hi], [plotLeft, plotRight]);
  const body: string[] = [text(8, 18, options.title, { 'font-weight': 'bold', 'font-size': 13 })];
  const headerY = top - 14;
  body.push(text(8, headerY, 'subgroup', { 'font-weight': 'bold' }));
  headers.forEach((lines, c) => {
    lines.forEach((line, k) => {
      const y = headerY - 14 * (lines.length - 1 - k);
      body.push(text(labelWidth + columnWidth * (c + 0.5), y, line, { 'text-anchor': 'middle', 'font-weight': 'bold' }));
    });
  });
  body.push(text(labelWidth + 2 * columnWidth + 8, headerY, isOr ? 'odds ratio (95% CI)' : 'difference, points (95% CI)', { 'font-weight': 'bold' }));
  const axisY = top + rowHeight * rows.length;
  body.push(el('line', { x1: x(reference), x2: x(reference), y1: top - 6, y2: axisY, stroke: '#000', 'stroke-dasharray': '3,3' }));
  body.push(el('line', { x1: plotLeft, x2: plotRight, y1: axisY, y2: axisY, stroke: '#000' }));
  const tickValues = isOr
    ? [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100].filter((v) => Math.log(v) >= lo && Math.log(v) <= hi)
    : niceTicks(lo, hi, 5);
  for (const v of tickValues) {
    const px = x(isOr ? Math.log(v) : v);
    body.push(el('line', { x1: px, x2: px, y1: axisY, y2: axisY + 4, stroke: '#000' }));
    body.push(text(px, axisY + 16, String(v), { 'text-anchor': 'middle' }));
  }
  // On two rows, from the axis ends, so long labels never overlap.
  body.push(text(plotLeft, axisY + 34, `\u2190 favours ${options.favours[0]}`, { fill: COLOURS.muted, 'font-size': 11 }));
  body.push(text(plotRight, axisY + 50, `favours ${options.favours[1]} \u2192`, { 'text-anchor': 'end', fill: COLOURS.muted, 'font-size': 11 }));
  const maxWeight = Math.max(1, ...rows.map((r) => r.weight));
  rows.forEach((r, i) => {
    const cy = top + rowHeight * i + rowHeight / 2;
    const weight = r.overall ? { 'font-weight': 'bold' } : {};
    body.push(text(8, cy + 4, r.label, weight));
    body.push(text(labelWidth + columnWidth / 2, cy + 4, r.columns[0], { 'text-anchor': 'middle' }));
    body.push(text(labelWidth + columnWidth * 1.5, cy + 4, r.columns[1], { 'text-anchor': 'middle' }));
    if (r.estimate === null || r.ci95 === null) {
      body.push(text(labelWidth + 2 * columnWidth + 8, cy + 4, 'not estimable', { fill: COLOURS.muted }));
      return;
    }
    const fmt = (v: number) => (isOr ? formatRatio(v) : (100 * v).toFixed(1));
    body.push(text(labelWidth + 2 * columnWidth + 8, cy + 4, `${fmt(r.estimate)} (${fmt(r.ci95[0])} to ${fmt(r.ci95[1])})`, weight));
    const clamp = (v: number) => Math.max(lo, Math.min(hi, transform(v)));
    const x0 = x(clamp(r.ci95[0]));
    const x1 = x(clamp(r.ci95[1]));
    body.push(el('line', { x1: x0, x2: x1, y1: cy, y2: cy, stroke: '#000', 'stroke-width': 1.5 }));
    // An interval running off the axis ends in an arrow.
    if (transform(r.ci95[0]) < lo) body.push(el('path', { d: `M${n2(x0)},${n2(cy)}l6,-4v8z`, fill: '#000' }));
    if (transform(r.ci95[1]) > hi) body.push(el('path', { d: `M${n2(x1)},${n2(cy)}l-6,-4v8z`, fill: '#000' }));
    const cx = x(clamp(r.estimate));
    if (r.overall) {
      body.push(el('path', { d: `M${n2(x0)},${n2(cy)}L${n2(cx)},${n2(cy - 7)}L${n2(x1)},${n2(cy)}L${n2(cx)},${n2(cy + 7)}Z`, fill: COLOURS.pooled }));
    } else {
      const size = 4 + 8 * Math.sqrt(r.weight / maxWeight);
      body.push(el('rect', { x: cx - size / 2, y: cy - size / 2, width: size, height: size, fill: COLOURS.first }));
    }
  });
  return svgRoot(width, height, options.title, body);
}

/** Ratios with 3 significant digits (0.512, 2.35, 12.4). */
export function formatRatio(v: number): string {
  if (!Number.isFinite(v)) return 'NA';
  return v >= 100 ? v.toFixed(0) : v.toPrecision(3);
}


export interface PowerCurvePoint {
  n: number;
  power: number;
  ci95: [number, number];
}

/**
 * Power against the number of randomised patients: Monte Carlo estimates with their 95% CIs,
 * the target power as a dashed line and the chosen sample size marked.
 */
export function powerCurveSvg(points: readonly PowerCurvePoint[], options: { title: string; targetPower: number | null; chosenN: number | null; subtitle: string }): string {
  const width = 700;
  const left = 60;
  const right = 20;
  const top = 50;
  const plotHeight = 260;
  const height = top + plotHeight + 52;
  const ns = points.map((p) => p.n);
  const nMin = Math.min(...ns);
  const nMax = Math.max(...ns);
  const span = nMax - nMin || 1;
  const x = linearScale([nMin - span * 0.03, nMax + span * 0.03], [left, width - right]);
  const y = linearScale([0, 1], [top + plotHeight, top]);
  const body: string[] = [
    text(left, 18, options.title, { 'font-weight': 'bold', 'font-size': 13 }),
    text(left, 36, options.subtitle, { fill: COLOURS.muted, 'font-size': 11 }),
  ];
  for (const v of niceTicks(0, 1, 5)) {
    body.push(el('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), stroke: COLOURS.grid }));
    body.push(text(left - 6, y(v) + 4, `${Math.round(v * 100)}%`, { 'text-anchor': 'end' }));
  }
  for (const v of niceTicks(nMin, nMax, 8)) {
    body.push(el('line', { x1: x(v), x2: x(v), y1: top + plotHeight, y2: top + plotHeight + 5, stroke: '#000' }));
    body.push(text(x(v), top + plotHeight + 18, String(v), { 'text-anchor': 'middle' }));
  }
  body.push(el('line', { x1: left, x2: width - right, y1: top + plotHeight, y2: top + plotHeight, stroke: '#000' }));
  body.push(el('line', { x1: left, x2: left, y1: top, y2: top + plotHeight, stroke: '#000' }));
  body.push(text((left + width - right) / 2, top + plotHeight + 38, 'patients randomised (both arms)', { 'text-anchor': 'middle' }));
  body.push(text(16, top + plotHeight / 2, 'power', { transform: `rotate(-90 16 ${n2(top + plotHeight / 2)})`, 'text-anchor': 'middle' }));
  if (options.targetPower !== null) {
    body.push(el('line', { x1: left, x2: width - right, y1: y(options.targetPower), y2: y(options.targetPower), stroke: COLOURS.second, 'stroke-dasharray': '5,4' }));
    body.push(text(width - right - 4, y(options.targetPower) - 5, `target ${Math.round(options.targetPower * 1000) / 10}%`, { 'text-anchor': 'end', fill: COLOURS.second }));
  }
  if (options.chosenN !== null) {
    body.push(el('line', { x1: x(options.chosenN), x2: x(options.chosenN), y1: top, y2: top + plotHeight, stroke: COLOURS.second, 'stroke-dasharray': '2,3' }));
    body.push(text(x(options.chosenN) + 4, top + 12, `N = ${options.chosenN}`, { fill: COLOURS.second }));
  }
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${n2(x(p.n))},${n2(y(p.power))}`).join('');
  body.push(el('path', { d, fill: 'none', stroke: COLOURS.first, 'stroke-width': 1.5 }));
  for (const p of points) {
    body.push(el('line', { x1: x(p.n), x2: x(p.n), y1: y(p.ci95[0]), y2: y(p.ci95[1]), stroke: COLOURS.first }));
    body.push(el('circle', { cx: x(p.n), cy: y(p.power), r: 2.5, fill: COLOURS.first }));
  }
  return svgRoot(width, height, options.title, body);
}
