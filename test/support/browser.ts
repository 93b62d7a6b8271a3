/// <reference lib="dom" />
// (page.evaluate callbacks run in the browser: they use DOM types.)
/**
 * End-to-end support for the web app: Debian's Chromium driven by playwright-core (no browser
 * download), the real server started as `npm start` starts it (child process, embedded database
 * in a temporary directory, synthetic demo cohort), axe-core accessibility checks and screenshots.
 *
 * Without /usr/bin/chromium the browser tests are skipped with the reason; under CI=true they are
 * mandatory and fail instead (.ci/run installs Debian's chromium).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { type Browser, type BrowserContext, type Locator, type Page, chromium } from 'playwright-core';
import { type ServerProcess, startServerProcess } from './process.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const BROWSER_REQUIRED = process.env.CI === 'true';
export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'docs/screenshots');
export const WEB_DIST_INDEX = path.join(REPO_ROOT, 'web/dist/index.html');

/**
 * Chromium flags: headless, no sandbox (CI runs as root), and none of the background services
 * that would try to reach Google from a closed network.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** `skip` option for describe(): false to run, or the reason to skip. Throws under CI when Chromium is missing. */
export function browserSkip(): false | string {
  const problems: string[] = [];
  if (!fs.existsSync(CHROMIUM_PATH)) problems.push(`no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`);
  if (!fs.existsSync(WEB_DIST_INDEX)) problems.push('the web app is not built (npm run build:web)');
  if (problems.length === 0) return false;
  if (BROWSER_REQUIRED) throw new Error(`browser tests cannot run (mandatory under CI=true): ${problems.join('; ')}`);
  return `browser tests skipped: ${problems.join('; ')}`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

export interface WebServer {
  url: string;
  server: ServerProcess;
  dataDir: string;
  stop(): Promise<void>;
}

/** The server as `npm start` runs it, on a free port and a fresh embedded database (demo cohort seeded). */
export async function startWebServer(env: NodeJS.ProcessEnv = {}): Promise<WebServer> {
  const dataDir = env.IMMUNOGUIDE_DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ig-web-'));
  const server = await startServerProcess({ IMMUNOGUIDE_DATA_DIR: dataDir, ...env }, 120_000);
  return {
    url: server.summary.url,
    server,
    dataDir,
    async stop() {
      const code = await server.stop();
      if (env.IMMUNOGUIDE_DATA_DIR === undefined) fs.rmSync(dataDir, { recursive: true, force: true });
      assert.equal(code, 0, `server exited with ${code}: ${server.stderr()}`);
    },
  };
}

/** A page that fails the test on any uncaught script error or console error of the app. */
export async function newPage(context: BrowserContext): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // 401/403/404 answers are expected in some flows and logged by the browser as resource errors.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  return { page, errors };
}

/** Signs in through the form and waits for the main navigation. */
export async function signIn(page: Page, baseUrl: string, username: string, password = 'demo'): Promise<void> {
  await page.goto(`${baseUrl}/signin`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string }>;
}

/** Runs axe-core (WCAG 2.x A/AA rules and best practices) on the page; answers the violations. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol: the app's Content-Security-Policy (script-src 'self')
  // rightly refuses an injected <script>, and the test must not weaken it (no bypassCSP).
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(`${AXE_SOURCE};true`);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  });
}

/** Fails with a readable list when axe finds a serious or critical violation. */
export async function assertAccessible(page: Page, where: string): Promise<AxeViolation[]> {
  const violations = await axeViolations(page);
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    serious.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`),
    [],
    `axe-core found serious accessibility violations on ${where}`,
  );
  return violations;
}

/**
 * Saves docs/screenshots/NAME.png (shown in the README): what a ward screen shows (the page's
 * first 1440 x 900 screen), or one element in full (e.g. the patient timeline).
 */
export async function screenshot(target: Page | Locator, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await target.screenshot({ path: file, animations: 'disabled' });
  return file;
}
