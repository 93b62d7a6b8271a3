/**
 * bench/sofa/canonical-agreement.ts: does the canonical measurement stream carry what
 * mimic-code's hourly SOFA conventions read from the raw MIMIC-IV tables?
 *
 *   node --import tsx bench/sofa/canonical-agreement.ts [--stays 200] [--seed 1] [--filler 6]
 *                                                      [--dir DIR] [--examples 12] [--pf-float64]
 *
 * On a seeded cohort of generate.ts (written to DIR, default
 * /tmp/immunoguide-sofa-bench/canonical-STAYS-SEED, reused when DIR/meta.json says the same
 * stays/seed/filler), the hourly rows of
 *   (i)  the tables read directly (read.ts, what `sofa DIR --format mimic-iv` scores), and
 *   (ii) the tables imported as canonical measurements (src/sources/mimic/parse.ts, as
 *        `immunoguide import` parses them) fed back through from-measurements.ts
 * are matched on (stay_id, hr) and compared: rows in one path only, per component (the 24 h
 * value) and the total the share of identical hours, the share of identical hourly inputs, and
 * the first differing hours with both sides' inputs. Both paths score with mimicCodeSofa, so every
 * difference is in what reached the collector. Timings are indicative only (shared machine).
 */
import fs from 'node:fs';
import path from 'node:path';
import { readCanonicalInputs } from '../../src/cli/commands/sofa.ts';
import { defaultConceptDictionary } from '../../src/sources/concepts/dictionary.ts';
import { mimicSofaTablesFromMeasurements } from '../../src/sources/mimic/sofa/from-measurements.ts';
import { COMPONENTS, type HourInputs, type MimicSofaHour, type MimicSofaStay, mimicCodeSofa, naiveIso } from '../../src/sources/mimic/sofa/hourly.ts';
import { readMimicSofaTables } from '../../src/sources/mimic/sofa/read.ts';
import { generateCohort } from './generate.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? fallback : (args[index + 1] ?? fallback);
};
const stays = Number(option('stays', '200'));
const seed = Number(option('seed', '1'));
const filler = Number(option('filler', '6'));
const maxExamples = Number(option('examples', '12'));
const pfArithmetic = args.includes('--pf-float64') ? ('float64' as const) : ('decimal' as const);
const dir = path.resolve(option('dir', `/tmp/immunoguide-sofa-bench/canonical-${stays}-${seed}`));

const metaFile = path.join(dir, 'meta.json');
const meta = JSON.stringify({ stays, seed, filler });
if (!fs.existsSync(metaFile) || fs.readFileSync(metaFile, 'utf8') !== meta) {
  const generated = await generateCohort({ stays, seed, filler, gzip: false, out: dir });
  fs.writeFileSync(metaFile, meta);
  console.log(`generated ${generated.stays} stays (${generated.subjects} subjects) in ${dir}`);
} else console.log(`reusing the cohort in ${dir}`);

let started = performance.now();
const direct = await readMimicSofaTables(dir);
const directStays = mimicCodeSofa(direct.tables, { pfArithmetic });
const directMs = performance.now() - started;

started = performance.now();
const canonical = await readCanonicalInputs([dir], 'mimic-iv', defaultConceptDictionary(), 100);
const built = mimicSofaTablesFromMeasurements({ measurements: canonical.measurements, stays: canonical.stays });
const canonicalStays = mimicCodeSofa(built.tables, { pfArithmetic });
const canonicalMs = performance.now() - started;

const keyed = (list: readonly MimicSofaStay[], label: (id: number) => string): Map<string, MimicSofaHour> => {
  const map = new Map<string, MimicSofaHour>();
  for (const stay of list) for (const hour of stay.hours) map.set(`${label(stay.stayId)},${hour.hr}`, hour);
  return map;
};
const a = keyed(directStays, String);
const b = keyed(canonicalStays, built.stayLabel);

const columns = [...COMPONENTS, 'sofa'] as const;
const identical = Object.fromEntries(columns.map((c) => [c, 0])) as Record<(typeof columns)[number], number>;
const inputKeys = Object.keys(directStays.find((s) => s.hours.length > 0)?.hours[0]?.inputs ?? {}) as Array<keyof HourInputs>;
const sameInput = Object.fromEntries(inputKeys.map((k) => [k, 0])) as Record<keyof HourInputs, number>;
const firstDifference = new Map<string, string>();
const staysDiffering = new Set<string>();
let matched = 0;
for (const [key, x] of a) {
  const y = b.get(key);
  if (y === undefined) continue;
  matched++;
  const differing: Array<(typeof columns)[number]> = [];
  for (const c of columns) {
    const same = c === 'sofa' ? x.total === y.total : x.components[c] === y.components[c];
    if (same) identical[c]++;
    else differing.push(c);
  }
  for (const k of inputKeys) if (x.inputs[k] === y.inputs[k]) sameInput[k]++;
  if (differing.length === 0) continue;
  const stay = key.slice(0, key.indexOf(','));
  staysDiffering.add(stay);
  for (const c of differing) {
    if (c === 'sofa' || firstDifference.has(c)) continue;
    const inputs = inputKeys.filter((k) => x.inputs[k] !== y.inputs[k]).map((k) => `${k} ${x.inputs[k]} / ${y.inputs[k]}`);
    const hourly = (h: MimicSofaHour) => COMPONENTS.map((n) => h.hourly[n] ?? '-').join(' ');
    firstDifference.set(
      c,
      `${c} at stay_id,hr=${key} (hour ending ${naiveIso(x.endtime)}): direct ${x.components[c]}, canonical ${y.components[c]}; ` +
        `hourly scores direct [${hourly(x)}] canonical [${hourly(y)}]; inputs of this hour (direct / canonical): ${inputs.join('; ') || 'identical (an earlier hour of the 24 h window differs)'}`,
    );
  }
}
const onlyDirect = [...a.keys()].filter((k) => !b.has(k));
const onlyCanonical = [...b.keys()].filter((k) => !a.has(k));
const percent = (n: number) => (matched === 0 ? '-' : `${((100 * n) / matched).toFixed(2)} %`);

console.log(`\n## Canonical measurements vs MIMIC-IV tables: hourly SOFA (preset mimic-iv, P/F ${pfArithmetic})\n`);
console.log(`cohort: ${stays} stays, seed ${seed}, filler ${filler}; ${directStays.length} stays scored directly, ${canonicalStays.length} through the canonical stream`);
console.log(`canonical import: ${canonical.records.toLocaleString('en-US')} rows read, ${canonical.measurements.length.toLocaleString('en-US')} measurements, ${canonical.rejected} rows rejected by the unit rules`);
console.log(`unlinked measurements: ${[...built.unlinked].map(([c, n]) => `${c} ${n}`).join(', ') || 'none'}`);
console.log(`time (indicative): direct ${(directMs / 1000).toFixed(1)} s, canonical import + scoring ${(canonicalMs / 1000).toFixed(1)} s\n`);
console.log(`hour rows: ${matched.toLocaleString('en-US')} in both, ${onlyDirect.length} only direct, ${onlyCanonical.length} only canonical; stays with any difference: ${staysDiffering.size + new Set([...onlyDirect, ...onlyCanonical].map((k) => k.slice(0, k.indexOf(',')))).size}\n`);
console.log('| column | identical hours |');
console.log('|---|---|');
for (const c of columns) console.log(`| ${c === 'sofa' ? 'sofa_24hours' : `${c}_24hours`} | ${percent(identical[c])} |`);
console.log('\n| hourly input | identical hours |');
console.log('|---|---|');
for (const k of inputKeys) console.log(`| ${k} | ${percent(sameInput[k])} |`);
if (firstDifference.size > 0 || onlyDirect.length + onlyCanonical.length > 0) {
  console.log('\nFirst differing hour per component:');
  for (const text of firstDifference.values()) console.log(`- ${text}`);
  for (const key of onlyDirect.slice(0, maxExamples)) console.log(`- only direct: stay_id,hr=${key}`);
  for (const key of onlyCanonical.slice(0, maxExamples)) console.log(`- only canonical: stay_id,hr=${key}`);
}
