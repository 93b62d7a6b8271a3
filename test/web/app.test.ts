/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser: they use DOM types.)
/**
 * The web app end to end, in headless Chromium against the real server (child process, embedded
 * database, synthetic demo cohort): sign in, the census, a MALS patient with its thresholds and
 * recommendation, role-aware navigation, the site switcher, deep links, the
 * imports (upload, progress, error report), the trial desk (randomise, dispense, screening,
 * emergency unblinding, audit) and the analysis; a server lacking an endpoint gets "not
 * available", never invented data. Every page gets an axe-core check (no serious or critical
 * violation) and a screenshot in docs/screenshots/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WEB_APP_PAGES } from '../../src/server/web.ts';
import { DEMO_PATIENTS, DEMO_SITES } from '../../src/sources/synthetic/seed.ts';
import {
  type WebServer,
  assertAccessible,
  browserSkip,
  launchChromium,
  newPage,
  screenshot,
  signIn,
  startWebServer,
} from '../support/browser.ts';

const skip = browserSkip();
/** The demo cohort deals patients to its sites in turn; Athens is the first site. */
const ATHENS_PATIENTS = Math.ceil(DEMO_PATIENTS / DEMO_SITES.length);

interface CensusAnswer {
  at: string;
  rows: Array<{ patientId: string; siteId: string; current: boolean }>;
}

/**
 * Records every GET /api/census answer the page receives. The demo's stays end at every hour of
 * the last days, so who is "current" (data in the last 24 h) can change while this file runs:
 * the expected counts come from the very answer the table shows (shownCensus), not a second ask.
 */
function watchCensus(page: Page): Array<Promise<CensusAnswer | null>> {
  const answers: Array<Promise<CensusAnswer | null>> = [];
  page.on('response', (response) => {
    if (new URL(response.url()).pathname !== '/api/census' || !response.ok()) return;
    // An answer to a document the page has left may have no body any more.
    answers.push(response.json().then((body: CensusAnswer) => body).catch(() => null));
  });
  return answers;
}

/** The census answer behind the table on screen (its data-at is the answer's evaluation time). */
async function shownCensus(page: Page, answers: Array<Promise<CensusAnswer | null>>): Promise<CensusAnswer> {
  const at = await page.locator('#census-table[data-state="ready"]').getAttribute('data-at');
  const shown = (await Promise.all(answers)).findLast((answer) => answer !== null && answer.at === at);
  assert.ok(shown, `the census answer at ${at} was recorded`);
  return shown;
}

describe('web app in headless Chromium', { skip, timeout: 300_000 }, () => {
  let web: WebServer;
  let browser: Browser;
  let context: BrowserContext;

  before(async () => {
    web = await startWebServer();
    browser = await launchChromium();
  });
  after(async () => {
    await context?.close().catch(() => {});
    await browser?.close();
    await web?.stop();
  });

  async function freshPage(width = 1440, height = 900): Promise<{ page: Page; errors: string[] }> {
    await context?.close().catch(() => {});
    context = await browser.newContext({ viewport: { width, height }, reducedMotion: 'reduce' });
    return newPage(context);
  }

  /**
   * Signs in through the form once per user, then reuses that session in fresh contexts (the
   * app keeps it in sessionStorage): the server allows 20 sign-ins a minute per address, and
   * this file signs in more often than that.
   */
  const sessions = new Map<string, string>();
  async function signInAs(page: Page, username: string): Promise<void> {
    const saved = sessions.get(username);
    if (saved === undefined) {
      await signIn(page, web.url, username);
      const session = await page.evaluate(() => sessionStorage.getItem('immunoguide.session'));
      assert.ok(session, `signed in as ${username}`);
      sessions.set(username, session);
      return;
    }
    await page.addInitScript((value) => {
      // Every frame runs this; the sandboxed report frame has no storage (and needs none).
      try {
        if (sessionStorage.getItem('immunoguide.session') === null) sessionStorage.setItem('immunoguide.session', value);
      } catch {
        /* a sandboxed frame */
      }
    }, saved);
    await page.goto(`${web.url}/`);
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  }

  test('the server answers every app page with the shell, and keeps API 404s as problem documents', async () => {
    for (const page of WEB_APP_PAGES) {
      const response = await fetch(web.url + page.replace('*', 'SYN-000001'));
      assert.equal(response.status, 200, page);
      assert.match(response.headers.get('content-type') ?? '', /text\/html/);
      assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.match(await response.text(), /<div id="app">/);
    }
    const apiMiss = await fetch(`${web.url}/api/no-such-endpoint`);
    assert.equal(apiMiss.status, 404);
    assert.match(apiMiss.headers.get('content-type') ?? '', /application\/problem\+json/);
    const pageMiss = await fetch(`${web.url}/no-such-page`);
    assert.equal(pageMiss.status, 404, 'only the listed pages are served, no catch-all');
    const traversal = await fetch(`${web.url}/assets/..%2f..%2fpackage.json`);
    assert.notEqual(traversal.status, 200, 'assets cannot climb out of web/dist');
  });

  test('sign-in refuses a wrong password with the reason, then signs in', async () => {
    const { page, errors } = await freshPage();
    await page.goto(`${web.url}/census`);
    await page.getByLabel('Username').waitFor();
    await assertAccessible(page, 'the sign-in page');
    await screenshot(page, 'signin');
    await page.getByLabel('Username').fill('clinician');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: /wrong password|unknown username/i }).waitFor();
    await page.getByLabel('Password').fill('demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'ICU census' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/census', 'the deep link survives sign-in');
    assert.deepEqual(errors, []);
  });

  test('census: the patients in the ICU now by default, discharged and deceased one click away; class in words, filter by class, search, sort', async () => {
    const { page, errors } = await freshPage();
    await signInAs(page, 'clinician');
    const answers = watchCensus(page);
    await page.goto(`${web.url}/census`);
    const table = page.locator('#census-table[data-state="ready"]');
    await table.waitFor({ timeout: 60_000 });
    const census = await shownCensus(page, answers);
    assert.equal(census.rows.length, DEMO_PATIENTS, `the server answers all ${DEMO_PATIENTS} patients of the demo cohort`);
    const current = census.rows.filter((row) => row.current).length;
    assert.ok(current > 0 && current < DEMO_PATIENTS, `some but not all demo patients are in the ICU now (got ${current})`);

    // By default: the current patients only, none of them marked as gone, and every count says so.
    assert.equal(await table.locator('tbody tr').count(), current);
    const currentIds = new Set(census.rows.filter((row) => row.current).map((row) => row.patientId));
    for (const id of await table.locator('tbody tr th a').allInnerTexts()) assert.ok(currentIds.has(id), `${id} is current`);
    for (const sub of await table.locator('tbody tr th .cell-sub').allInnerTexts()) assert.doesNotMatch(sub, /deceased|discharged|no data/);
    assert.equal(await page.locator('.census-count').innerText(), `Showing ${current} of ${current} patients in the ICU now (alive, data in the last 24 h)`);
    const chipCounts = await page.locator('.class-filter .chip-count').allInnerTexts();
    assert.equal(chipCounts.reduce((sum, text) => sum + Number(text.replace(/[()]/g, '')), 0), current, 'the class counts add up to the rows shown');
    const includeAll = page.getByRole('checkbox', { name: `Include discharged and deceased (${DEMO_PATIENTS - current})` });
    assert.equal(await includeAll.isChecked(), false);

    // Never colour alone: every class cell carries its name in text.
    const classTexts = await table.locator('tbody tr td:nth-child(2)').allInnerTexts();
    for (const text of classTexts) assert.match(text, /MALS|Immunoparalysis|Unclassified|Indeterminate/);
    // Today's SOFA with a 7-day sparkline that has a text alternative.
    const sparkline = table.locator('svg.sparkline').first();
    assert.match((await sparkline.getAttribute('aria-label')) ?? '', /SOFA of SYN-\d+, last \d+ days: /);

    await assertAccessible(page, 'the census');
    await screenshot(page, 'census');

    // Filter: MALS only; its count is the number of rows it leaves.
    const malsChip = page.getByRole('checkbox', { name: /^MALS/ });
    const malsCount = Number(/\((\d+)\)/.exec(await page.locator('.chip-MALS').innerText())?.[1]);
    await malsChip.check();
    const malsRows = await table.locator('tbody tr').count();
    assert.ok(malsRows > 0 && malsRows < current, `some but not all current patients are MALS (got ${malsRows} of ${current})`);
    assert.equal(malsRows, malsCount);
    for (const text of await table.locator('tbody tr td:nth-child(2)').allInnerTexts()) assert.match(text, /MALS/);
    await malsChip.uncheck();

    // Everyone: the discharged and deceased come back, each marked in words.
    await includeAll.check();
    assert.equal(await table.locator('tbody tr').count(), DEMO_PATIENTS);
    assert.equal(
      await page.locator('.census-count').innerText(),
      `Showing ${DEMO_PATIENTS} of ${DEMO_PATIENTS} patients, ${DEMO_PATIENTS - current} of them discharged or deceased`,
    );
    const subs = await table.locator('tbody tr th .cell-sub').allInnerTexts();
    const marked = subs.filter((sub) => / · (deceased|discharged\? no data for \d+ (d|h)|no data yet)/.test(sub));
    assert.equal(marked.length, DEMO_PATIENTS - current, 'every patient not in the ICU now is marked in words');
    assert.ok(subs.some((sub) => /discharged\? no data for/.test(sub)), 'discharges are guessed from the data');
    const allChips = await page.locator('.class-filter .chip-count').allInnerTexts();
    assert.equal(allChips.reduce((sum, text) => sum + Number(text.replace(/[()]/g, '')), 0), DEMO_PATIENTS);
    await assertAccessible(page, 'the census with discharged and deceased patients');

    // Search by patient id (among everyone: the first admissions have long left).
    await page.getByRole('searchbox', { name: 'Search' }).fill('SYN-000007');
    assert.equal(await table.locator('tbody tr').count(), 1);
    await page.getByRole('searchbox', { name: 'Search' }).fill('');

    // Sort by SOFA, highest first: the column is announced as sorted and the numbers descend.
    await page.getByRole('button', { name: /SOFA today/ }).click();
    assert.equal(await page.locator('th[aria-sort="descending"]').innerText().then((t) => t.includes('SOFA')), true);
    const sofa = (await table.locator('tbody .sofa-number').allInnerTexts()).map((t) => (t === '—' ? -1 : Number(t)));
    assert.deepEqual(sofa, [...sofa].sort((a, b) => b - a));
    assert.deepEqual(errors, []);
  });

  test('a MALS patient: thresholds drawn, explanation with rule set, anakinra recommended', async () => {
    const { page, errors } = await freshPage();
    await signInAs(page, 'clinician');
    await page.goto(`${web.url}/census`);
    await page.locator('#census-table[data-state="ready"]').waitFor({ timeout: 60_000 });
    await page.getByRole('checkbox', { name: /^MALS/ }).check();
    const link = page.locator('#census-table tbody tr th a').first();
    const patientId = await link.innerText();
    await link.click();
    await page.getByRole('heading', { level: 1, name: `Patient ${patientId}` }).waitFor();
    await page.locator('.timeline[data-state="ready"]').waitFor({ timeout: 30_000 });

    await page.getByRole('heading', { name: 'Why MALS?' }).waitFor();
    const explanation = await page.locator('.explanation').innerText();
    assert.match(explanation, /Ferritin was [\d,.]+ ng\/mL .*above the threshold of 4,420 ng\/mL/);
    assert.match(explanation, /Rule set immunosep \d+\.\d+\.\d+/);
    assert.match(explanation, /JAMA 2026/, 'the citation of the rule set is printed');
    assert.match(await page.locator('.summary').innerText(), /anakinra 200 mg IV every 8 h for 15 days/);

    // Thresholds drawn as labelled lines on the biomarker charts (from the server's rule set).
    const ferritinChart = page.locator('[data-chart="chart-ferritin"] svg');
    assert.match(await ferritinChart.innerHTML(), /MALS &gt; 4,420|MALS > 4,420/);
    const hlaChart = page.locator('[data-chart="chart-hla-dr"]');
    if (await hlaChart.locator('svg').count()) {
      const svg = await hlaChart.locator('svg').innerHTML();
      assert.match(svg, /Immunoparalysis &lt; 5,000|Immunoparalysis < 5,000/);
      assert.match(svg, /Reversal &gt; 8,000|Reversal > 8,000/);
    } else {
      assert.match(await hlaChart.innerText(), /No mHLA-DR result/);
    }
    // SOFA total and the six components, time-aligned with the biomarkers (same plot width).
    await page.locator('[data-chart="chart-sofa"] svg').waitFor();
    const components = await page.locator('[data-chart="chart-sofa-components"] svg').innerHTML();
    for (const organ of ['Respiration', 'Coagulation', 'Liver', 'Cardiovascular', 'CNS (GCS)', 'Renal']) assert.ok(components.includes(organ), organ);
    const widths = await page.locator('.timeline svg[role], .timeline .plot > svg').evaluateAll((svgs) => [...new Set(svgs.map((s) => s.getAttribute('width')))]);
    assert.equal(widths.length, 1, `all timeline panels share one width (got ${widths.join(', ')})`);
    // Therapy calendar: anakinra every 8 h for 15 days = 45 doses.
    await page.locator('table.calendar').waitFor();
    assert.equal(await page.locator('table.calendar').getAttribute('data-doses'), '45');

    await assertAccessible(page, `patient ${patientId}`);
    await screenshot(page, 'patient-mals');
    await screenshot(page.locator('.timeline'), 'patient-mals-timeline');
    assert.deepEqual(errors, []);
  });

  test('role-aware navigation, site switcher and single-site users', async () => {
    const navOf = async (page: Page) => page.getByRole('navigation', { name: 'Main' }).getByRole('link').allInnerTexts();

    let { page } = await freshPage();
    await signInAs(page, 'statistician');
    assert.deepEqual(await navOf(page), ['Trial desk', 'Analysis'], 'a statistician reads no patient records');
    await page.goto(`${web.url}/census`);
    await page.getByRole('alert').filter({ hasText: /does not give access/ }).waitFor();

    ({ page } = await freshPage());
    await signInAs(page, 'pharmacist');
    assert.deepEqual(await navOf(page), ['ICU census', 'Trial desk', 'Analysis']);

    ({ page } = await freshPage());
    let answers = watchCensus(page);
    await signInAs(page, 'clinician');
    assert.deepEqual(await navOf(page), ['ICU census', 'Imports', 'Analysis']);
    const table = page.locator('#census-table[data-state="ready"]');
    await table.waitFor({ timeout: 60_000 });
    const before = await table.getAttribute('data-at');
    await page.getByRole('combobox', { name: 'Site' }).selectOption('athens');
    // The table of the new answer (another evaluation time), in its default view: Athens's current patients.
    await page.waitForFunction((at) => {
      const shown = document.querySelector('#census-table[data-state="ready"]');
      return shown !== null && shown.getAttribute('data-at') !== at;
    }, before);
    let athens = await shownCensus(page, answers);
    assert.equal(athens.rows.length, ATHENS_PATIENTS);
    assert.ok(athens.rows.every((row) => row.siteId === 'athens'));
    assert.equal(Number(await table.getAttribute('data-rows')), athens.rows.filter((row) => row.current).length);
    for (const text of await table.locator('tbody tr th .cell-sub').allInnerTexts()) assert.match(text, /Athens/);
    await page.getByRole('checkbox', { name: /^Include discharged and deceased/ }).check();
    assert.equal(await table.locator('tbody tr').count(), ATHENS_PATIENTS);
    for (const text of await table.locator('tbody tr th .cell-sub').allInnerTexts()) assert.match(text, /Athens/);

    ({ page } = await freshPage());
    answers = watchCensus(page);
    await signInAs(page, 'clinician.athens');
    assert.equal(await page.getByRole('combobox', { name: 'Site' }).count(), 0, 'one site: no switcher');
    await page.getByText('Site: Athens (demo)').waitFor();
    await page.locator('#census-table[data-state="ready"]').waitFor({ timeout: 60_000 });
    athens = await shownCensus(page, answers);
    assert.equal(athens.rows.length, ATHENS_PATIENTS);
    assert.equal(await page.locator('#census-table tbody tr').count(), athens.rows.filter((row) => row.current).length);
    await page.getByRole('checkbox', { name: /^Include discharged and deceased/ }).check();
    assert.equal(await page.locator('#census-table tbody tr').count(), ATHENS_PATIENTS);
  });

  test('trial desk and analysis pages: accessible, on the endpoints the server now offers', async () => {
    const { page, errors } = await freshPage();
    await signInAs(page, 'investigator');
    // (No trial exists yet here; the trial desk's screenshot is taken once it has entries, below.)
    for (const [path, name] of [
      ['/trial', null],
      ['/analysis', 'analysis'],
    ] as const) {
      await page.goto(web.url + path);
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      // Every endpoint these pages use exists on this server: no "not available" notice anywhere.
      assert.doesNotMatch(await page.locator('main').innerText(), /not available on this server/, path);
      if (path === '/analysis' && (await page.locator('[data-analysis]').count())) {
        assert.equal(await page.locator('[data-analysis]').getAttribute('data-analysis'), 'blinded', 'an investigator gets the blinded analysis');
      }
      await assertAccessible(page, path);
      if (name) await screenshot(page, name);
    }
    assert.deepEqual(errors, []);
  });

  test('imports: a clinician uploads a measurement CSV with bad lines, follows the progress bar, reads the summary and the error report', async () => {
    const { page, errors } = await freshPage();
    // import:run is clinician, investigator, admin (src/server/auth/principal.ts).
    await signInAs(page, 'clinician');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Imports' }).click();
    await page.getByRole('heading', { level: 1, name: 'Imports' }).waitFor();
    await page.waitForLoadState('networkidle');
    assert.doesNotMatch(await page.locator('main').innerText(), /not available on this server/);

    // A new patient with unremarkable values (unclassified: no randomisation candidate), 8 records,
    // of which lines 4 (time without zone), 6 (value not a number) and 8 (unknown concept) are bad.
    const t = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000).toISOString();
    const csv = [
      'patient_id,time,concept,value,unit',
      `WEB-IMPORT-01,${t(30)},ferritin,310,ng/mL`,
      `WEB-IMPORT-01,${t(30)},platelets,210,10*3/uL`,
      'WEB-IMPORT-01,2026-01-05T08:00:00,creatinine,1.1,mg/dL',
      `WEB-IMPORT-01,${t(20)},creatinine,1.1,mg/dL`,
      `WEB-IMPORT-01,${t(20)},bilirubin,abc,mg/dL`,
      `WEB-IMPORT-01,${t(10)},map,72,mm[Hg]`,
      `WEB-IMPORT-01,${t(10)},ferritine,300,ng/mL`,
      `WEB-IMPORT-01,${t(5)},platelets,190,10*3/uL`,
      '',
    ].join('\n');
    const file = { name: 'ward-labs.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') };

    await page.getByLabel('File', { exact: true }).setInputFiles(file);
    await page.getByLabel('Site of the data').selectOption('athens');
    // Every state the progress bar goes through, recorded in the page (no timing assumption:
    // a small file may finish before the first poll).
    // (No named functions in the page: tsx would wrap them in a helper the page does not have.)
    await page.evaluate(() => {
      const seen: Array<{ value: number; max: number; status: string | null }> = [];
      (window as unknown as { progressSeen: typeof seen }).progressSeen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector<HTMLProgressElement>('#import-progress');
        if (bar) seen.push({ value: bar.value, max: bar.max, status: bar.closest('.job')?.getAttribute('data-job-status') ?? null });
      }).observe(document.querySelector('main')!, { subtree: true, childList: true, attributes: true });
    });
    const jobAnswers: string[] = [];
    page.on('response', async (response) => {
      if (/\/api\/jobs\//.test(new URL(response.url()).pathname)) jobAnswers.push(await response.text().catch(() => ''));
    });
    await page.getByRole('button', { name: 'Upload and import' }).click();

    const job = page.locator('.job[data-job-status="succeeded"]');
    await job.waitFor({ timeout: 60_000 });
    assert.ok(jobAnswers.length >= 1, 'the page polled GET /api/jobs/:id');
    assert.match(await job.getByRole('heading', { level: 2 }).innerText(), /Import of ward-labs\.csv into Athens \(demo\): finished/);

    // The progress bar: labelled, full at the end, never going backwards.
    const bar = page.getByRole('progressbar', { name: 'Import progress' });
    assert.equal(await bar.count(), 1);
    assert.equal(await bar.getAttribute('value'), await bar.getAttribute('max'), 'the bar is full when the job has finished');
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: Array<{ value: number; max: number; status: string | null }> }).progressSeen);
    assert.ok(seen.length > 0, 'the progress bar was drawn');
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.value / seen[i]!.max >= seen[i - 1]!.value / seen[i - 1]!.max, `progress went backwards: ${JSON.stringify(seen)}`);

    // The summary: 8 records read, 5 stored, 3 rejected.
    const summary = job.locator('dl.import-summary');
    assert.equal(await summary.locator('[data-summary="records"]').innerText(), '8');
    assert.equal(await summary.locator('[data-summary="inserted"]').innerText(), '5');
    assert.equal(await summary.locator('[data-summary="rejected"]').innerText(), '3');
    assert.match(await summary.locator('[data-summary="issues"]').innerText(), /^3 errors/);

    // The error report: one row per bad line, with its number and the reason.
    const report = page.getByRole('table').filter({ has: page.locator('caption', { hasText: 'issues in ward-labs.csv' }) });
    const rows = report.locator('tbody tr');
    const errorRows = rows.filter({ hasText: /error/ });
    assert.deepEqual(await errorRows.locator('th').allInnerTexts(), ['4', '6', '8']);
    const reasonOf = async (line: number) => report.locator(`tr[data-line="${line}"] td.issue-reason`).innerText();
    assert.match(await reasonOf(4), /column time: "2026-01-05T08:00:00" is not an ISO 8601 date-time with a time zone/);
    assert.match(await reasonOf(6), /column value: "abc" is not a number/);
    assert.match(await reasonOf(8), /column concept: unknown concept "ferritine"/);
    assert.equal(await report.getByRole('columnheader').allInnerTexts().then((h) => h.join('|')), 'Line|Severity|Problem|Reason');

    await assertAccessible(page, 'the imports page with an error report');
    await screenshot(page, 'imports');

    // The same file again: every good line is already stored, nothing is stored twice.
    const firstJob = (await job.getAttribute('data-job-id'))!;
    await page.getByRole('button', { name: 'Upload and import' }).click();
    const again = page.locator(`.job[data-job-status="succeeded"]:not([data-job-id="${firstJob}"])`);
    await again.waitFor({ timeout: 60_000 });
    assert.equal(await again.locator('[data-summary="inserted"]').innerText(), '0');
    assert.equal(await again.locator('[data-summary="rejected"]').innerText(), '3');

    // The imported patient exists at the chosen site with the stored values.
    await page.goto(`${web.url}/patients/WEB-IMPORT-01`);
    await page.getByRole('heading', { level: 1, name: 'Patient WEB-IMPORT-01' }).waitFor();
    assert.match(await page.locator('.patient-facts').innerText(), /Athens/);
    assert.deepEqual(errors, []);
  });

  test('imports: not offered to roles without import:run, and honest on a server without the import endpoints', async () => {
    let { page, errors } = await freshPage();
    await signInAs(page, 'pharmacist');
    await page.goto(`${web.url}/imports`);
    await page.getByRole('alert').filter({ hasText: /does not give access/ }).waitFor();
    assert.deepEqual(errors, []);

    // An older server: its route table lacks POST /api/imports and GET /api/jobs/{jobId}.
    ({ page, errors } = await freshPage());
    await page.route('**/api/docs/json', async (route) => {
      const response = await route.fetch();
      const doc = (await response.json()) as { paths: Record<string, unknown> };
      delete doc.paths['/api/imports'];
      delete doc.paths['/api/jobs/{jobId}'];
      await route.fulfill({ response, json: doc });
    });
    await signInAs(page, 'clinician');
    await page.goto(`${web.url}/imports`);
    const notice = page.getByRole('region', { name: 'File import: not available' });
    await notice.waitFor();
    assert.match(await notice.innerText(), /POST \/api\/imports[\s\S]*GET \/api\/jobs\/\{jobId\}/, 'names both missing endpoints');
    assert.equal(await page.getByRole('button', { name: 'Upload and import' }).count(), 0, 'no form for a feature the server lacks');
    await assertAccessible(page, 'the imports page without endpoints');
    assert.deepEqual(errors, []);
  });

  test('trial: randomise as investigator (no arm ever reaches the browser), dispense as pharmacist, verify the audit chain', async (t) => {
    const token = async (username: string) => {
      const response = await fetch(`${web.url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: 'demo' }),
      });
      return ((await response.json()) as { access_token: string }).access_token;
    };
    const routes = (await (await fetch(`${web.url}/api/docs/json`)).json()) as { paths: Record<string, unknown> };
    if (!routes.paths['/api/trials/{trialId}/patients/{patientId}/randomise']) {
      t.skip('this server has no trial API yet');
      return;
    }
    // The ImmunoSep trial, created by an administrator (a server that seeds one answers 409).
    const created = await fetch(`${web.url}/api/trials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('admin')}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.ok(created.status === 201 || created.status === 409, `trial creation answered ${created.status}`);

    // Investigator: everything the browser receives from the API is recorded.
    const { page, errors } = await freshPage();
    const bodies: string[] = [];
    page.on('response', async (response) => {
      if (!new URL(response.url()).pathname.startsWith('/api/')) return;
      bodies.push(await response.text().catch(() => ''));
    });
    await signInAs(page, 'investigator');
    await page.goto(`${web.url}/trial`);
    await page.getByRole('heading', { name: 'Randomise' }).waitFor();
    const select = page.locator('select[name="randomise-patient"]');
    await select.locator('option:nth-child(2)').waitFor({ state: 'attached' });
    const patientId = (await select.locator('option:nth-child(2)').getAttribute('value'))!;
    await select.selectOption(patientId);
    await page.getByRole('heading', { name: `Evidence for ${patientId}`, exact: false }).waitFor();
    // Site criteria: inclusion present (consent given...), exclusion absent.
    const questions = page.locator('table.criteria tbody tr:has(fieldset.answer)');
    assert.ok((await questions.count()) > 0, 'site-completed criteria are asked');
    for (const row of await questions.all()) {
      const inclusion = (await row.locator('th').innerText()).includes('inclusion');
      await row.getByRole('radio', { name: inclusion ? 'Yes' : 'Absent' }).check();
    }
    await page.getByRole('checkbox', { name: /I have checked the evidence/ }).check();
    await assertAccessible(page, 'the randomisation form');
    await screenshot(page.locator('.randomise-form'), 'trial-randomise');
    await page.getByRole('button', { name: `Randomise ${patientId}` }).click();
    const done = page.locator('[data-outcome="randomised"]');
    await page.locator('[data-outcome="randomised"], .randomise-form [role="alert"]').first().waitFor();
    if (!(await done.count())) assert.fail(`randomisation refused: ${await page.locator('.randomise-form [role="alert"]').innerText()}`);
    const kitNumber = await done.locator('.kit').innerText();
    assert.match(await done.innerText(), /arm is not shown/);

    await page.goto(`${web.url}/patients/${patientId}`);
    await page.locator('[data-enrolled]').waitFor();
    await page.locator('.timeline[data-state="ready"]').waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { name: 'Calendar' }).waitFor();
    // The blinded kit schedule (GET .../kit-schedule): the calendar from randomisation, every dose
    // the kit's two blinded components, and the doses due so far on the timeline.
    const calendar = page.locator('table.calendar');
    await calendar.waitFor();
    assert.ok(Number(await calendar.getAttribute('data-doses')) > 0, 'the kit schedule has doses');
    const calendarText = await calendar.innerText();
    assert.match(calendarText, new RegExp(`Blinded kit ${kitNumber}`));
    assert.match(calendarText, /blinded study infusion .* blinded study injection/);
    assert.doesNotMatch(calendarText, /saline|anakinra \d|interferon-gamma \d/i, 'the calendar names no contents');
    const studyDrug = page.locator('[data-chart="chart-study-drug"]');
    await studyDrug.locator('svg').waitFor();
    assert.match(await studyDrug.locator('figcaption').innerText(), new RegExp(`blinded kit ${kitNumber}: [1-9]\\d* of \\d+ scheduled doses due[\\s\\S]*not recorded administrations`));
    const widths = await page.locator('.timeline svg[role], .timeline .plot > svg').evaluateAll((svgs) => [...new Set(svgs.map((s) => s.getAttribute('width')))]);
    assert.equal(widths.length, 1, `the study-drug panel lines up with the others (widths ${widths.join(', ')})`);
    await page.waitForLoadState('networkidle');
    await assertAccessible(page, `enrolled patient ${patientId}`);
    await screenshot(page, 'patient-enrolled');
    const patientText = await page.locator('main').innerText();
    assert.match(patientText, new RegExp(`kit ${kitNumber}`));

    // Blinding: no API answer to the investigator carried an arm, kit contents or the open plan's split.
    assert.ok(bodies.length > 5, 'responses were recorded');
    for (const body of bodies) {
      assert.doesNotMatch(body, /"arm"\s*:|"kitContents"|"activeComponent"|"allocation"\s*:\s*"(active|placebo)"/, `an investigator's response leaked an arm: ${body.slice(0, 300)}`);
    }
    assert.doesNotMatch(patientText, /placebo \(saline\)|Arm:/);
    assert.deepEqual(errors, []);

    // Pharmacist: the unblinded view, and the kit must match the allocation.
    const pharmacy = await freshPage();
    await signInAs(pharmacy.page, 'pharmacist');
    await pharmacy.page.goto(`${web.url}/trial`);
    const row = pharmacy.page.locator(`table.dispense tr[data-patient="${patientId}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /placebo|anakinra|interferon/i, 'the pharmacist sees the arm');
    await row.getByRole('textbox').fill('WRONG-KIT');
    await row.getByRole('button', { name: 'Dispense' }).click();
    await row.getByRole('status').filter({ hasText: /not the kit allocated/ }).waitFor();
    await row.getByRole('textbox').fill(kitNumber);
    await row.getByRole('button', { name: 'Dispense' }).click();
    await row.getByRole('status').filter({ hasText: `Kit ${kitNumber} dispensed` }).waitFor();
    await assertAccessible(pharmacy.page, 'kit dispensation');
    await screenshot(pharmacy.page, 'trial-pharmacist');
    assert.deepEqual(pharmacy.errors, []);

    // Monitor: the audit chain (randomisation and dispensation entries included) verifies.
    const monitor = await freshPage();
    await signInAs(monitor.page, 'monitor');
    await monitor.page.goto(`${web.url}/trial`);
    await monitor.page.getByRole('button', { name: 'Verify the audit chain' }).click();
    await monitor.page.locator('[data-audit="intact"]').waitFor();
    assert.match(await monitor.page.locator('table.enrolment').innerText(), /1/);
    await assertAccessible(monitor.page, 'the monitor trial desk');
    await screenshot(monitor.page, 'trial-monitor');
  });

  test('trial desk: an investigator records a screening outcome, then unblinds a patient in an emergency (reason recorded, arm shown once)', async () => {
    // A tall screen: the whole desk in one screenshot without scrolling (sticky table headers).
    const { page, errors } = await freshPage(1440, 1900);
    await signInAs(page, 'investigator');
    await page.goto(`${web.url}/trial`);

    // Screening log: a not-eligible outcome needs its reason; the entry appears in the log.
    const form = page.locator('form.screening-form');
    const patientSelect = form.locator('select[name="screening-patient"]');
    await patientSelect.locator('option:nth-child(3)').waitFor({ state: 'attached' });
    const screened = (await patientSelect.locator('option:nth-child(3)').getAttribute('value'))!;
    await patientSelect.selectOption(screened);
    await form.getByRole('radio', { name: /^Not eligible/ }).check();
    const record = form.getByRole('button', { name: 'Record screening outcome' });
    assert.equal(await record.isDisabled(), true, 'not eligible without a reason cannot be recorded');
    await form.getByLabel(/^Reasons/).fill('family declined consent');
    await record.click();
    await form.getByRole('status').filter({ hasText: `Recorded: ${screened} not-eligible (family declined consent)` }).waitFor();
    const logRow = page.locator('table.screening-log tbody tr').filter({ hasText: screened }).filter({ hasText: 'not-eligible' });
    await logRow.first().waitFor();
    assert.match(await logRow.first().innerText(), /family declined consent/);
    await assertAccessible(page, 'the screening form');
    await screenshot(page, 'trial-desk');

    // Emergency unblinding of the patient randomised above.
    const unblind = page.locator('section[aria-labelledby="unblind-h"]');
    const select = unblind.locator('select[name="unblind-patient"]');
    await select.locator('option:nth-child(2)').waitFor({ state: 'attached' });
    const patientId = (await select.locator('option:nth-child(2)').getAttribute('value'))!;
    await select.selectOption(patientId);
    const button = unblind.getByRole('button', { name: 'Unblind this patient' });
    await unblind.getByLabel(/Clinical reason/).fill('allergy');
    await unblind.getByRole('checkbox', { name: /I understand/ }).check();
    assert.equal(await button.isDisabled(), true, 'a reason under 10 characters is not enough');
    await unblind.getByLabel(/Clinical reason/).fill('anaphylaxis during the infusion: the treating team must know the drug');
    await button.click();
    const answer = unblind.locator('.unblinded-result');
    await answer.waitFor();
    assert.match(await answer.innerText(), new RegExp(`Unblinded: ${patientId}[\\s\\S]*Arm: (anakinra|interferon-gamma|placebo)`));
    assert.match(await answer.innerText(), /reason: “anaphylaxis during the infusion: the treating team must know the drug”/);
    await assertAccessible(page, 'the emergency unblinding answer');
    await screenshot(unblind, 'trial-unblinding');

    // Afterwards the patient is flagged, and the patient page still shows no arm.
    await page.goto(`${web.url}/patients/${patientId}`);
    const enrolled = page.locator('[data-enrolled]');
    await enrolled.waitFor();
    assert.match(await enrolled.innerText(), /emergency unblinding recorded/);
    assert.doesNotMatch(await page.locator('main').innerText(), /Arm:|placebo \(saline\)/);
    assert.deepEqual(errors, []);

    // The audit chain, now with the screening and unblinding entries, still verifies.
    const monitor = await freshPage();
    await signInAs(monitor.page, 'monitor');
    await monitor.page.goto(`${web.url}/trial`);
    await monitor.page.getByRole('button', { name: 'Verify the audit chain' }).click();
    await monitor.page.locator('[data-audit="intact"]').waitFor();
    assert.deepEqual(monitor.errors, []);
  });

  test('analysis: the statistician may switch to the unblinded view (and its report); the investigator sees the blinded one only', async (t) => {
    const routes = (await (await fetch(`${web.url}/api/docs/json`)).json()) as { paths: Record<string, unknown> };
    if (!routes.paths['/api/trials/{trialId}/analysis']) {
      t.skip('this server has no analysis API yet');
      return;
    }
    const adminToken = (
      (await (
        await fetch(`${web.url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'demo' }) })
      ).json()) as { access_token: string }
    ).access_token;
    // The trial flow above created the trial and randomised a patient; when run alone, create the trial here.
    const created = await fetch(`${web.url}/api/trials`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: '{}' });
    assert.ok(created.status === 201 || created.status === 409, `trial creation answered ${created.status}`);
    const ARM_WORDS = /anakinra|interferon|placebo|saline/i;

    // Statistician: blinded by default, the switch to the unblinded view, the unblinded report in a tab of its own.
    const statistician = await freshPage();
    await signInAs(statistician.page, 'statistician');
    await statistician.page.goto(`${web.url}/analysis`);
    await statistician.page.locator('[data-analysis="blinded"]').waitFor({ timeout: 60_000 });
    await statistician.page.getByRole('radio', { name: /^Unblinded/ }).check();
    const unblinded = statistician.page.locator('[data-analysis="unblinded"]');
    await unblinded.waitFor({ timeout: 60_000 });
    assert.match(await unblinded.innerText(), /UNBLINDED analysis/);
    assert.match(await unblinded.locator('table.endpoints thead').innerText(), /placebo/, 'the unblinded table has a column per arm');
    const link = statistician.page.locator('a[data-report-link="unblinded"]');
    await link.waitFor({ timeout: 60_000 });
    assert.match((await link.getAttribute('href')) ?? '', /^blob:/);
    await statistician.page.frameLocator('iframe.report-frame').locator('text=UNBLINDED REPORT').waitFor();
    await statistician.page.locator('.plot svg').first().waitFor();
    await assertAccessible(statistician.page, 'the unblinded analysis');
    await screenshot(statistician.page, 'analysis-statistician');
    const [tab] = await Promise.all([context.waitForEvent('page'), link.click()]);
    await tab.waitForLoadState();
    assert.match(await tab.locator('body').innerText(), /UNBLINDED REPORT/);
    await screenshot(tab, 'analysis-report-unblinded');
    await tab.close();
    assert.deepEqual(statistician.errors, []);

    // Investigator: the blinded view only, no switch, and no arm word in the page, the report or any API answer.
    const investigator = await freshPage();
    // Every answer under /api/trials/{trialId}/ (the list of trials names the public protocol's title).
    const bodies: string[] = [];
    investigator.page.on('response', async (response) => {
      if (!new URL(response.url()).pathname.startsWith('/api/trials/')) return;
      bodies.push(await response.text().catch(() => ''));
    });
    await signInAs(investigator.page, 'investigator');
    await investigator.page.goto(`${web.url}/analysis`);
    await investigator.page.locator('[data-analysis="blinded"]').waitFor({ timeout: 60_000 });
    await investigator.page.frameLocator('iframe.report-frame').locator('text=BLINDED POOLED REPORT').waitFor();
    await investigator.page.locator('a[data-report-link="blinded"]').waitFor();
    assert.equal(await investigator.page.getByRole('radio', { name: /^Unblinded/ }).count(), 0, 'no switch for a blinded role');
    assert.doesNotMatch(await investigator.page.locator('main').innerText(), ARM_WORDS);
    const report = await investigator.page.frameLocator('iframe.report-frame').locator('body').innerText();
    assert.doesNotMatch(report, ARM_WORDS);
    assert.ok(bodies.some((b) => b.includes('"view":"blinded"')), 'the blinded analysis was received');
    for (const body of bodies) assert.doesNotMatch(body, ARM_WORDS, `an investigator's analysis answer carried an arm word: ${body.slice(0, 200)}`);
    await assertAccessible(investigator.page, 'the blinded analysis');
    await screenshot(investigator.page, 'analysis-investigator');
    assert.deepEqual(investigator.errors, []);
  });

  test('signing out forgets the session', async () => {
    const { page } = await freshPage();
    await signIn(page, web.url, 'clinician');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Username').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('immunoguide.session')), null);
    await page.goto(`${web.url}/census`);
    await page.getByLabel('Username').waitFor();
  });
});
