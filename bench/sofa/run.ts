/**
 * bench/sofa/run.ts: hourly SOFA of ImmunoGuide against mimic-code's SQL on PostgreSQL.
 *
 *   node --import tsx bench/sofa/run.ts --stays 10000 --seed 1 [--gzip] [--filler 6]
 *                                       [--work DIR] [--reuse] [--skip-reference] [--runs 3]
 *
 * 1. generate.ts writes a synthetic MIMIC-IV cohort into WORK/cohort (skipped with --reuse when
 *    WORK/meta.json says the same stays/seed/gzip/filler were generated);
 * 2. `node bin/immunoguide.mjs sofa WORK/cohort --format mimic-iv --hourly --out WORK/ours.csv`
 *    as a child process, --runs times (default 3, the median counts): wall time and peak RSS (GNU
 *    time's %M when /usr/bin/time exists). Before the reference: after its load, PostgreSQL's
 *    background work (autovacuum of the new tables, checkpoints) would run alongside;
 * 3. reference.ts loads the cohort into PostgreSQL and runs mimic-code's concept SQL (timed),
 *    writing WORK/reference.csv (skipped with --reuse when that file exists for the same cohort;
 *    with --skip-reference it must exist);
 * 4. compare.ts: hour-by-hour agreement.
 * Prints a Markdown summary and writes it to bench/out/sofa.json. Exit status 1 when the two
 * disagree; when ImmunoGuide's side fails (e.g. the command does not exist yet) it reports
 * "ours: not available" and exits 0 with the reference timings only.
 * Needs PostgreSQL and psql, and mimic-code in MIMIC_CODE_DIR (see reference.ts).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { compareSofaCsv, formatComparison } from './compare.ts';
import type { CompareResult } from './compare.ts';
import { generateCohort, parseGenerateArgs } from './generate.ts';
import type { GenerateOptions } from './generate.ts';
import { defaultReferenceEnv, runReference } from './reference.ts';
import type { ReferenceResult } from './reference.ts';

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(`--${name}`);
const option = (name: string, fallback: string): string => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? fallback : (args[index + 1] ?? fallback);
};

const REPO = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(REPO, 'bin/immunoguide.mjs');
const GNU_TIME = '/usr/bin/time';

interface Meta {
  stays: number;
  seed: number;
  gzip: boolean;
  filler: number;
  generated: boolean;
  reference: boolean;
}

interface OursResult {
  available: boolean;
  wallMs: number;
  maxRssMb?: number;
  exitCode: number | null;
  message: string;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);

/** Runs ImmunoGuide's CLI as its own process so wall time and peak RSS are its own. */
async function runOurs(cohort: string, out: string, extra: readonly string[] = []): Promise<OursResult> {
  fs.rmSync(out, { force: true });
  const cli = [BIN, 'sofa', cohort, '--format', 'mimic-iv', '--hourly', '--out', out, ...extra];
  const timeFile = `${out}.time`;
  const useTime = fs.existsSync(GNU_TIME);
  const [command, commandArgs] = useTime
    ? [GNU_TIME, ['-f', '%e %M', '-o', timeFile, process.execPath, ...cli]]
    : [process.execPath, cli];
  const started = performance.now();
  const child = spawn(command, commandArgs, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code));
  });
  const wallMs = performance.now() - started;
  let maxRssMb: number | undefined;
  if (useTime && fs.existsSync(timeFile)) {
    // GNU time appends "Command exited with non-zero status N" before the format line on failure
    const last = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const kb = Number(last.split(' ')[1]);
    if (Number.isFinite(kb)) maxRssMb = kb / 1024;
    fs.rmSync(timeFile, { force: true });
  }
  const message = output.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
  const available = exitCode === 0 && fs.existsSync(out);
  return { available, wallMs, maxRssMb, exitCode, message };
}

async function main(): Promise<number> {
  const generate: GenerateOptions = parseGenerateArgs([...args, '--out', 'unused']);
  const work = path.resolve(option('work', `/tmp/immunoguide-sofa-bench/stays${generate.stays}-seed${generate.seed}${generate.gzip ? '-gz' : ''}`));
  generate.out = path.join(work, 'cohort');
  const referenceCsv = path.join(work, 'reference.csv');
  const oursCsv = path.join(work, 'ours.csv');
  const metaFile = path.join(work, 'meta.json');
  fs.mkdirSync(work, { recursive: true });
  const previous: Partial<Meta> = fs.existsSync(metaFile) ? (JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Partial<Meta>) : {};
  const sameCohort =
    previous.generated === true && previous.stays === generate.stays && previous.seed === generate.seed && previous.gzip === generate.gzip && previous.filler === generate.filler;
  const meta: Meta = { stays: generate.stays, seed: generate.seed, gzip: generate.gzip, filler: generate.filler, generated: false, reference: false };
  const saveMeta = (): void => fs.writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);

  console.log(`# SOFA benchmark: ${generate.stays.toLocaleString('en-US')} stays, seed ${generate.seed}, work dir ${work}\n`);
  let generateMs: number | undefined;
  if (flag('reuse') && sameCohort) {
    console.log('generate: reusing the cohort in the work dir');
    meta.generated = true;
  } else {
    saveMeta();
    const summary = await generateCohort(generate);
    generateMs = summary.ms;
    meta.generated = true;
    console.log(`generate: ${summary.stays} stays, ${(summary.bytes / 1e6).toFixed(1)} MB in ${seconds(summary.ms)} s`);
    for (const [table, n] of Object.entries(summary.rows)) console.log(`  ${table}: ${n.toLocaleString('en-US')} rows`);
  }
  saveMeta();

  // Ours first: after the reference has loaded its gigabytes, PostgreSQL's background work
  // (autovacuum of the new tables, checkpoints) would run alongside and slow ours down.
  const runs = Math.max(1, Math.floor(Number(option('runs', '3'))) || 1);
  console.log(`\nours: immunoguide sofa --format mimic-iv --hourly, ${runs} run(s), the median counts`);
  const oursRuns: OursResult[] = [];
  for (let i = 0; i < runs; i++) {
    const run = await runOurs(generate.out, oursCsv);
    oursRuns.push(run);
    if (!run.available) break;
    console.log(`  run ${i + 1}: wall ${seconds(run.wallMs)} s, peak RSS ${run.maxRssMb === undefined ? 'n/a' : `${run.maxRssMb.toFixed(0)} MB`}${run.message ? ` (${run.message})` : ''}`);
  }
  const ours = oursRuns.some((r) => !r.available) ? oursRuns.at(-1)! : [...oursRuns].sort((a, b) => a.wallMs - b.wallMs)[Math.floor((oursRuns.length - 1) / 2)]!;

  let reference: ReferenceResult | undefined;
  let referenceWallMs: number | undefined;
  const referenceReusable = sameCohort && previous.reference === true && fs.existsSync(referenceCsv);
  if (flag('skip-reference') || (flag('reuse') && referenceReusable)) {
    if (!referenceReusable) {
      console.error(`--skip-reference: no reference.csv for this cohort in ${work}`);
      return 2;
    }
    console.log('\nreference: reusing reference.csv (no timings this run)');
    meta.reference = true;
  } else {
    console.log('');
    const started = performance.now();
    try {
      reference = await runReference({ dir: generate.out, out: referenceCsv, ...defaultReferenceEnv() });
    } catch (error) {
      console.error(`reference failed: ${(error as Error).message}`);
      return 2;
    }
    referenceWallMs = performance.now() - started;
    meta.reference = true;
  }
  saveMeta();

  let comparison: CompareResult | undefined;
  if (!ours.available) {
    console.log(`ours: not available (exit ${ours.exitCode}${ours.message ? `: ${ours.message}` : ''})`);
  } else {
    const decimal = await compareSofaCsv(oursCsv, referenceCsv);
    console.log(`\n## Agreement, default (P/F band edges exact in decimal, CLINICAL.md)\n\n${formatComparison(decimal)}`);
    // The exact check: the same arithmetic as PostgreSQL for P/F (the one deliberate difference).
    const exactCsv = oursCsv.replace(/\.csv$/, '-pf-float64.csv');
    const exact = await runOurs(generate.out, exactCsv, ['--pf-float64']);
    if (exact.available) {
      comparison = await compareSofaCsv(exactCsv, referenceCsv);
      console.log(`\n## Agreement with --pf-float64 (P/F in binary floating point, as PostgreSQL)\n\n${formatComparison(comparison)}`);
    }
  }

  const setupMs = reference?.setup.reduce((sum, t) => sum + t.ms, 0);
  const sofaSqlMs = reference?.concepts.find((t) => t.step === 'score/sofa.sql')?.ms;
  const row = (label: string, ms: number | undefined, note = ''): string => `| ${label} | ${ms === undefined ? 'n/a' : seconds(ms)} | ${note} |`;
  const speedup = (ms: number | undefined): string =>
    ms !== undefined && ours.available ? `${(ms / ours.wallMs).toFixed(1)}x ours` : '';
  console.log(
    [
      '',
      `## Timings (${generate.stays.toLocaleString('en-US')} stays${reference ? `, ${reference.rows.toLocaleString('en-US')} hourly rows` : ''})`,
      '',
      '| step | s | |',
      '|---|---:|---|',
      row('generate cohort', generateMs),
      row('PostgreSQL: create + COPY + constraints + indexes + analyze', setupMs),
      row('PostgreSQL: concept SQL, dependencies', reference && sofaSqlMs !== undefined ? reference.conceptsMs - sofaSqlMs : undefined),
      row('PostgreSQL: concept SQL, sofa.sql', sofaSqlMs),
      row('PostgreSQL: concept SQL total', reference?.conceptsMs, speedup(reference?.conceptsMs)),
      row('PostgreSQL: everything from CSV to reference.csv', referenceWallMs, speedup(referenceWallMs)),
      row(`ImmunoGuide: CSV to ours.csv (one process; median of ${oursRuns.length})`, ours.available ? ours.wallMs : undefined, ours.available && ours.maxRssMb !== undefined ? `peak RSS ${ours.maxRssMb.toFixed(0)} MB` : ours.available ? '' : 'not available'),
    ].join('\n'),
  );

  const outDir = path.join(REPO, 'bench/out');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(
    path.join(outDir, 'sofa.json'),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, stays: generate.stays, seed: generate.seed, gzip: generate.gzip, filler: generate.filler, generateMs, reference, referenceWallMs, ours, oursRuns, comparison: comparison && { ...comparison, examples: comparison.examples.length } }, null, 2)}\n`,
  );
  if (comparison === undefined) return 0;
  return comparison.differences === 0 ? 0 : 1;
}

process.exitCode = await main();
