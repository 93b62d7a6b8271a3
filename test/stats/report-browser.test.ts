/**
 * The HTML report rendered in headless Chromium (Debian's /usr/bin/chromium through
 * playwright-core): no script errors or blocked loads, every figure a well-formed SVG that is
 * drawn, printable to a multi-page A4 PDF, no serious accessibility violation; the screenshot in
 * docs/report-screenshot.png (shown in the README) is written here. Skipped with the reason when
 * Chromium is missing, mandatory under CI=true.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { renderBlindedReport, renderTrialReport } from '../../src/stats/report/html.ts';
import { simulateTrialDataset } from '../../src/stats/simulate-trial.ts';
import { blindTrialDataset } from '../../src/stats/trial-data.ts';
import { analyseTrial, analyseTrialBlinded } from '../../src/stats/trial-analysis.ts';
import { BROWSER_REQUIRED, CHROMIUM_PATH, REPO_ROOT, assertAccessible, launchChromium } from '../support/browser.ts';

function chromiumSkip(): false | string {
  if (fs.existsSync(CHROMIUM_PATH)) return false;
  const reason = `report rendering skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`;
  if (BROWSER_REQUIRED) throw new Error(`${reason} - mandatory under CI=true`);
  return reason;
}

const META = { generatedAt: '2026-03-01T12:00:00Z', softwareVersion: '0.1.0', source: 'synthetic trial, 280 patients, seed 2026' };

function writeReports(dir: string): { unblinded: string; blinded: string; armLabels: string[] } {
  const data = simulateTrialDataset({ patients: 280, seed: 2026 });
  const a = analyseTrial(data);
  const b = analyseTrialBlinded(blindTrialDataset(data));
  assert.ok(a.ok && b.ok);
  const unblinded = path.join(dir, 'report.html');
  const blinded = path.join(dir, 'report-blinded.html');
  fs.writeFileSync(unblinded, renderTrialReport(a.value, META));
  fs.writeFileSync(blinded, renderBlindedReport(b.value, META));
  return { unblinded, blinded, armLabels: [data.trial.armLabels.active, 'placebo'] };
}

async function open(browser: Browser, file: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 1500 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') errors.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, errors, requests };
}

/**
 * Every inline SVG re-parsed as standalone XML (strict), with its drawn size. Written as a
 * string so the Node-side type check needs no DOM library.
 */
const SVG_CHECK = `[...document.querySelectorAll('svg')].map((svg) => {
  const xml = new XMLSerializer().serializeToString(svg);
  const parsed = new DOMParser().parseFromString(xml, 'image/svg+xml');
  const box = svg.getBoundingClientRect();
  return { title: svg.querySelector('title')?.textContent ?? '', wellFormed: parsed.querySelector('parsererror') === null, width: box.width, height: box.height };
})`;

function svgChecks(page: Page): Promise<Array<{ title: string; wellFormed: boolean; width: number; height: number }>> {
  return page.evaluate(SVG_CHECK);
}

const skip = chromiumSkip();

describe('trial report in headless Chromium', { skip }, () => {
  let browser: Browser;
  let dir: string;
  let files: ReturnType<typeof writeReports>;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-report-'));
    files = writeReports(dir);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the unblinded report renders: figures drawn, no errors, only the file itself loaded, printable to PDF', async () => {
    const { page, errors, requests } = await open(browser, files.unblinded);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [pathToFileURL(files.unblinded).href], 'the report loads nothing but itself');
    assert.match(await page.locator('h1').innerText(), /Synthetic biomarker-guided immunotherapy trial/);
    assert.ok(await page.getByText('UNBLINDED REPORT').isVisible());
    const svgs = await svgChecks(page);
    assert.deepEqual(
      svgs.map((s) => s.title),
      ['Flow of patients', 'Survival to day 90', 'Daily total SOFA by treatment group', 'Primary endpoint by biomarker stratum: risk difference', 'Primary endpoint by biomarker stratum: odds ratio'],
    );
    for (const s of svgs) {
      assert.ok(s.wellFormed, `${s.title}: not well-formed SVG`);
      assert.ok(s.width > 300 && s.height > 100, `${s.title}: drawn at ${s.width} x ${s.height}`);
    }
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
    assert.ok(pages >= 3, `expected a multi-page A4 PDF, got ${pages} page(s)`);
    await assertAccessible(page, 'the unblinded report');
    // The screenshot for the README: the top of the report (header, CONSORT, baseline).
    const screenshot = path.join(REPO_ROOT, 'docs/report-screenshot.png');
    await page.screenshot({ path: screenshot, fullPage: false });
    assert.ok(fs.statSync(screenshot).size > 20_000);
    await page.context().close();
  });

  test('the blinded report renders pooled figures and shows no arm label', async () => {
    const { page, errors, requests } = await open(browser, files.blinded);
    assert.deepEqual(errors, []);
    assert.equal(requests.length, 1);
    const svgs = await svgChecks(page);
    assert.deepEqual(
      svgs.map((s) => s.title),
      ['Flow of patients', 'Survival to day 90, pooled', 'Daily total SOFA, pooled'],
    );
    assert.ok(svgs.every((s) => s.wellFormed && s.width > 300));
    const text = await page.locator('body').innerText();
    for (const label of files.armLabels) assert.ok(!text.toLowerCase().includes(label.toLowerCase()), `blinded page shows ${label}`);
    await assertAccessible(page, 'the blinded report');
    await page.context().close();
  });
});
