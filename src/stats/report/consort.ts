/**
 * CONSORT 2010 flow diagram (Schulz et al., BMJ 2010;340:c332) as SVG, from the screening log
 * summary (src/trial/screening.ts) and the per-stratum allocation counts of the analysis:
 * enrolment (assessed, excluded with reasons), randomisation per biomarker stratum, allocation,
 * follow-up (withdrawn, lost) and analysis (mITT). In a blinded report the groups are the
 * strata pooled over arms; in an unblinded report each stratum splits into its two arms.
 */
import type { ConsortData, ConsortGroup } from '../trial-analysis.ts';
import { COLOURS, el, svgRoot, text, wrap } from './svg.ts';

interface Box {
  x: number;
  y: number;
  width: number;
  lines: string[];
  /** First line bold. */
  heading?: boolean;
}

const LINE = 16;
const PAD = 8;

function boxHeight(b: Pick<Box, 'lines'>): number {
  return b.lines.length * LINE + 2 * PAD - 2;
}

function drawBox(b: Box): string {
  const h = boxHeight(b);
  return el(
    'g',
    {},
    el('rect', { x: b.x, y: b.y, width: b.width, height: h, fill: '#fff', stroke: '#000', rx: 3 }),
    ...b.lines.map((line, i) => text(b.x + PAD, b.y + PAD + 11 + i * LINE, line, i === 0 && b.heading === true ? { 'font-weight': 'bold' } : {})),
  );
}

function arrow(x1: number, y1: number, x2: number, y2: number, marker: string): string {
  return el('line', { x1, y1, x2, y2, stroke: '#000', 'marker-end': `url(#${marker})` });
}

function charsFor(width: number): number {
  return Math.floor((width - 2 * PAD) / 6.7);
}

function groupLines(g: ConsortGroup, width: number): string[] {
  const title = g.armLabel === undefined ? `${g.stratum} stratum` : `${g.armLabel}`;
  return [
    ...wrap(`Allocated: ${title} (n = ${g.allocated})`, charsFor(width)),
    `Withdrawn (n = ${g.withdrawn})`,
    `Lost to follow-up (n = ${g.lostToFollowUp})`,
    `Analysed, mITT (n = ${g.analysed})`,
    `Not analysed (n = ${g.excludedFromAnalysis})`,
  ];
}

/**
 * The diagram. `idPrefix` keeps the arrowhead marker id unique when several diagrams share one
 * HTML page.
 */
export function consortSvg(data: ConsortData, options: { title: string; idPrefix: string }): string {
  const marker = `${options.idPrefix}-arrow`;
  const columns = data.groups.length;
  const columnWidth = columns > 2 ? 200 : 260;
  const gap = 24;
  const width = Math.max(680, columns * columnWidth + (columns - 1) * gap + 40);
  const centre = width / 2;
  const body: string[] = [
    el('defs', {}, el('marker', { id: marker, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, el('path', { d: 'M0,0L10,5L0,10z' }))),
    text(20, 20, options.title, { 'font-weight': 'bold', 'font-size': 13 }),
  ];
  let y = 36;
  const mainWidth = 260;
  let groups: { markup: string[]; bottom: number };
  const s = data.screening;
  if (s !== null) {
    const assessed: Box = { x: centre - mainWidth / 2 - 150, y, width: mainWidth, lines: [`Assessed for eligibility (n = ${s.assessed})`] };
    const excludedTotal = s.excluded.notEligible + s.excluded.unclassified + s.excluded.notRandomised;
    const reasons = Object.entries(s.excluded.notEligibleByReason).map(([reason, count]) => `  - ${reason} (n = ${count})`);
    const excluded: Box = {
      x: centre + 10,
      y: y + boxHeight(assessed) + 14,
      width: width - centre - 30,
      heading: true,
      lines: [
        `Excluded (n = ${excludedTotal})`,
        `Not eligible (n = ${s.excluded.notEligible})`,
        ...reasons,
        `Unclassified: neither MALS nor`,
        `  immunoparalysis (n = ${s.excluded.unclassified})`,
        `Not randomised, other (n = ${s.excluded.notRandomised})`,
      ],
    };
    body.push(drawBox(assessed));
    body.push(drawBox(excluded));
    const stemX = assessed.x + mainWidth / 2;
    const randomisedY = excluded.y + boxHeight(excluded) + 14;
    body.push(arrow(stemX, y + boxHeight(assessed), stemX, randomisedY, marker));
    body.push(arrow(stemX, excluded.y + boxHeight(excluded) / 2, excluded.x, excluded.y + boxHeight(excluded) / 2, marker));
    y = randomisedY;
    const randomised: Box = { x: assessed.x, y, width: mainWidth, lines: [`Randomised (n = ${data.randomised})`], heading: true };
    body.push(drawBox(randomised));
    y += boxHeight(randomised);
    groups = strata(data, { stemX, y, width, columnWidth, gap, marker });
  } else {
    const randomised: Box = { x: centre - mainWidth / 2, y, width: mainWidth, lines: [`Randomised (n = ${data.randomised})`], heading: true };
    body.push(drawBox(randomised));
    y += boxHeight(randomised);
    groups = strata(data, { stemX: centre, y, width, columnWidth, gap, marker });
  }
  body.push(...groups.markup);
  let notesY = groups.bottom + 22;
  for (const note of data.notes) {
    for (const line of wrap(`Note: ${note}`, Math.floor((width - 40) / 6.7))) {
      body.push(text(20, notesY, line, { fill: COLOURS.muted }));
      notesY += LINE;
    }
  }
  return svgRoot(width, notesY + 4, options.title, body);
}

/** The strata and group rows under the randomised box; returns the markup and its bottom edge. */
function strata(
  data: ConsortData,
  layout: { stemX: number; y: number; width: number; columnWidth: number; gap: number; marker: string },
): { markup: string[]; bottom: number } {
  const out: string[] = [];
  const { columnWidth, gap, marker } = layout;
  const groups = data.groups;
  const strataNames = [...new Set(groups.map((g) => g.stratum))];
  const totalWidth = groups.length * columnWidth + (groups.length - 1) * gap;
  const startX = (layout.width - totalWidth) / 2;
  const stratumY = layout.y + 34;
  const stratumBoxes: Array<{ name: string; box: Box }> = [];
  strataNames.forEach((name) => {
    const columnsOf = groups.map((g, i) => ({ g, i })).filter(({ g }) => g.stratum === name);
    const first = columnsOf[0]?.i ?? 0;
    const last = columnsOf[columnsOf.length - 1]?.i ?? 0;
    const x = startX + first * (columnWidth + gap);
    const w = (last - first + 1) * columnWidth + (last - first) * gap;
    const n = columnsOf.reduce((sum, { g }) => sum + g.allocated, 0);
    stratumBoxes.push({ name, box: { x, y: stratumY, width: w, lines: [`${name} stratum (n = ${n})`], heading: true } });
  });
  // Branching connector from the randomised box to each stratum.
  const branchY = layout.y + 16;
  out.push(el('line', { x1: layout.stemX, y1: layout.y, x2: layout.stemX, y2: branchY, stroke: '#000' }));
  const centres = stratumBoxes.map(({ box }) => box.x + box.width / 2);
  out.push(el('line', { x1: Math.min(layout.stemX, ...centres), y1: branchY, x2: Math.max(layout.stemX, ...centres), y2: branchY, stroke: '#000' }));
  for (const { box } of stratumBoxes) {
    out.push(arrow(box.x + box.width / 2, branchY, box.x + box.width / 2, box.y, marker));
    out.push(drawBox(box));
  }
  const groupY = stratumY + boxHeight({ lines: ['x'] }) + 30;
  let bottom = groupY;
  groups.forEach((g, i) => {
    const x = startX + i * (columnWidth + gap);
    const box: Box = { x, y: groupY, width: columnWidth, lines: groupLines(g, columnWidth) };
    const parent = stratumBoxes.find((sb) => sb.name === g.stratum)?.box;
    if (parent !== undefined) out.push(arrow(x + columnWidth / 2, parent.y + boxHeight(parent), x + columnWidth / 2, groupY, marker));
    out.push(drawBox(box));
    bottom = Math.max(bottom, groupY + boxHeight(box));
  });
  return { markup: out, bottom };
}
