import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consortSvg } from '../../src/stats/report/consort.ts';
import { formatP, renderBlindedReport, renderTrialReport } from '../../src/stats/report/html.ts';
import { forestPlotSvg, kaplanMeierSvg, powerCurveSvg } from '../../src/stats/report/plots.ts';
import { escapeXml, niceTicks, wrap } from '../../src/stats/report/svg.ts';
import { simulateTrialDataset } from '../../src/stats/simulate-trial.ts';
import { type TrialDataset, blindTrialDataset } from '../../src/stats/trial-data.ts';
import { analyseTrial, analyseTrialBlinded } from '../../src/stats/trial-analysis.ts';
import { ACTIVE_LABEL, PLACEBO_LABEL, smallTrial, swappedArms } from './trial-fixtures.ts';

const META = { generatedAt: '2026-03-01T12:00:00Z', softwareVersion: '9.9.9', source: 'trial.json' };

function unblinded(data: TrialDataset): string {
  const a = analyseTrial(data);
  assert.ok(a.ok);
  return renderTrialReport(a.value, META);
}

function blinded(data: TrialDataset): string {
  const a = analyseTrialBlinded(blindTrialDataset(data));
  assert.ok(a.ok);
  return renderBlindedReport(a.value, META);
}

/** A synthetic trial with the distinctive arm labels and a neutral title. */
function syntheticTrial(seed: number): TrialDataset {
  const data = simulateTrialDataset({ patients: 200, seed });
  return { ...data, trial: { ...data.trial, title: 'Synthetic test trial', armLabels: { active: ACTIVE_LABEL, placebo: PLACEBO_LABEL } } };
}

const ARM_WORDS = /\b(active|placebo|treated|control|allocated to)\b/i;

test('the blinded report contains no arm information at all (bytes)', () => {
  for (const data of [smallTrial(), syntheticTrial(5)]) {
    const html = blinded(data);
    const bytes = Buffer.from(html, 'utf8');
    for (const label of [ACTIVE_LABEL, PLACEBO_LABEL]) assert.equal(bytes.indexOf(label), -1, `blinded report contains the arm label ${label}`);
    assert.doesNotMatch(html, ARM_WORDS);
    // No patient identifiers either (they could be matched to an allocation list).
    for (const p of data.patients) assert.equal(bytes.indexOf(`>${p.id}<`), -1);
    assert.ok(!data.patients.some((p) => html.includes(p.id) && p.id.length > 2), 'a patient id appears in the blinded report');
    // The unblinded report of the same data does name both arms.
    const open = unblinded(data);
    assert.ok(open.includes(ACTIVE_LABEL) && open.includes(PLACEBO_LABEL));
  }
});

test('the blinded report is byte-identical whatever the allocation; the unblinded one is not', () => {
  for (const data of [smallTrial(), syntheticTrial(6)]) {
    const swapped = swappedArms(data);
    assert.equal(blinded(swapped), blinded(data));
    assert.notEqual(unblinded(swapped), unblinded(data));
  }
  // A random re-allocation (not just a swap) changes nothing either.
  const data = syntheticTrial(7);
  const shuffled = { ...data, patients: data.patients.map((p, i) => ({ ...p, arm: i % 3 === 0 ? ('active' as const) : ('placebo' as const) })) };
  assert.equal(blinded(shuffled), blinded(data));
});

test('reports are deterministic and self-contained', () => {
  const data = syntheticTrial(8);
  for (const render of [unblinded, blinded]) {
    const html = render(data);
    assert.equal(render(data), html);
    assert.ok(html.startsWith('<!DOCTYPE html>'));
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.doesNotMatch(html, /<script|<link|<img|<iframe| src=|url\(http/i);
    // The only URL is the SVG namespace.
    assert.deepEqual([...new Set(html.match(/https?:\/\/[^"'\s<)]+/g) ?? [])], ['http://www.w3.org/2000/svg']);
    assert.ok(html.includes('immunosep-sap 1.0.0'), 'endpoint definition id and version');
    assert.ok(html.includes('vincent1996'), 'SOFA preset');
    assert.ok(html.includes('generated') && html.includes('2026-03-01T12:00:00Z') && html.includes('9.9.9'));
  }
});

test('the unblinded report has every section, with the numbers of the analysis', () => {
  const data = smallTrial();
  const html = unblinded(data);
  for (const section of ['CONSORT flow diagram', 'Baseline characteristics', 'Primary and secondary endpoints', 'Survival', 'SOFA trajectories', 'Subgroups by biomarker stratum', 'Endpoint definition', 'UNBLINDED REPORT']) {
    assert.ok(html.includes(section), section);
  }
  assert.equal((html.match(/<svg /g) ?? []).length, 5, 'CONSORT, Kaplan-Meier, trajectories, two forest plots');
  // Primary: 3/4 (75.0%) vs 1/3 (33.3%), the primary row in bold.
  assert.match(html, /<tr class="primary"><td>SOFA responder, days 2-9 \(primary\)<\/td><td class="num">3\/4 \(75\.0%\)<\/td><td class="num">1\/3 \(33\.3%\)<\/td>/);
  // CONSORT boxes from the screening summary and the allocation.
  for (const text of ['Assessed for eligibility (n = 20)', 'Excluded (n = 12)', 'stage IV cancer (n = 3)', 'Randomised (n = 8)', 'immunoparalysis stratum (n = 4)', 'Withdrawn (n = 1)']) {
    assert.ok(html.includes(escapeXml(text)), text);
  }
  // The responder rule and the unconfirmed choices are printed.
  assert.ok(html.includes('Responder when day-1 SOFA minus the window mean &gt; 1.4'));
  assert.ok(html.includes('Unconfirmed choices'));
});

test('the blinded report has the pooled sections and no comparison', () => {
  const html = blinded(smallTrial());
  assert.ok(html.includes('BLINDED POOLED REPORT'));
  assert.equal((html.match(/<svg /g) ?? []).length, 3, 'CONSORT, Kaplan-Meier, trajectory');
  assert.ok(!html.includes('risk difference') && !html.includes('odds ratio') && !html.includes('hazard ratio'));
  assert.ok(html.includes('4/7 (57.1%)'), 'pooled primary responders');
  assert.ok(html.includes('MALS stratum (n = 4)'));
});

test('SVG building blocks: escaping, ticks, wrapping, P values', () => {
  assert.equal(escapeXml(`<a & "b">'`), '&lt;a &amp; &quot;b&quot;&gt;&#39;');
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(-13, 27, 4), [-10, 0, 10, 20]);
  assert.deepEqual(wrap('one two three four', 9), ['one two', 'three', 'four']);
  assert.equal(formatP(0.04823), '0.048');
  assert.equal(formatP(0.4331), '0.43');
  assert.equal(formatP(0.00029), '0.00029');
  assert.equal(formatP(1e-7), '< 0.0001');
  assert.equal(formatP(null), 'NA');
});

test('forest plot: estimates as text, log axis for odds ratios, non-estimable rows said so', () => {
  const rows = [
    { label: 'all patients', columns: ['30/100', '20/100'] as [string, string], estimate: 0.1, ci95: [-0.02, 0.22] as [number, number], overall: true, weight: 200 },
    { label: 'MALS stratum', columns: ['0/5', '0/5'] as [string, string], estimate: null, ci95: null, overall: false, weight: 10 },
  ];
  const rd = forestPlotSvg(rows, { title: 'RD', measure: 'rd', columnLabels: ['A', 'B'], favours: ['B', 'A'] });
  assert.ok(rd.includes('10.0 (-2.0 to 22.0)'));
  assert.ok(rd.includes('not estimable'));
  assert.ok(rd.includes('<path d="M'), 'the overall diamond');
  const or = forestPlotSvg([{ ...rows[0]!, estimate: 1.71, ci95: [0.93, 3.15] }], { title: 'OR', measure: 'or', columnLabels: ['A', 'B'], favours: ['B', 'A'] });
  assert.ok(or.includes('1.71 (0.930 to 3.15)'));
  assert.ok(or.includes('>1</text>') && or.includes('>2</text>'), 'log-axis ticks at 1 and 2');
});

test('Kaplan-Meier, CONSORT without screening log, and power curve SVGs', () => {
  const km = kaplanMeierSvg(
    [
      {
        label: 'x',
        colour: '#000',
        data: { steps: [{ time: 0, survival: 1, lower: 1, upper: 1 }, { time: 10, survival: 0.5, lower: 0.2, upper: 0.9 }], censored: [20], atRisk: [{ time: 0, atRisk: 2 }, { time: 15, atRisk: 1 }], n: 2, events: 1, median: 10 },
      },
    ],
    { title: 'KM', maxTime: 30, timeLabel: 'day' },
  );
  assert.ok(km.includes('H') && km.includes('x (1/2 died)'));
  const a = analyseTrial({ ...smallTrial(), screening: null });
  assert.ok(a.ok);
  const consort = consortSvg(a.value.consort, { title: 'Flow', idPrefix: 't' });
  assert.ok(!consort.includes('Assessed for eligibility'));
  assert.ok(consort.includes('no screening log summary'));
  assert.ok(consort.includes('marker-end="url(#t-arrow)"'));
  const power = powerCurveSvg(
    [
      { n: 100, power: 0.5, ci95: [0.49, 0.51] },
      { n: 200, power: 0.85, ci95: [0.84, 0.86] },
    ],
    { title: 'Power', subtitle: 's', targetPower: 0.8, chosenN: 200 },
  );
  assert.ok(power.includes('N = 200') && power.includes('target 80%'));
});
