/**
 * `immunoguide sofa PATH --format csv|fhir --preset mimic-iv --hourly --out FILE.csv` writes the
 * rows `--format mimic-iv` writes for the same data (the stay of
 * test/sources/mimic-sofa/same-data.ts, its expected scores worked out there).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { MIMIC_HEADERS } from '../../src/sources/synthetic/export-mimic.ts';
import { sameDataCsv, sameDataFhir, sameDataMimic } from '../sources/mimic-sofa/same-data.ts';
import { runCli } from '../support/cli.ts';

let dir: string;
const HEADER = 'stay_id,hr,starttime,endtime,respiration_24hours,coagulation_24hours,liver_24hours,cardiovascular_24hours,cns_24hours,renal_24hours,sofa_24hours';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-sofa-canonical-'));
  const rows = sameDataMimic();
  const tables = { 'icu/icustays': rows.lines.icustays, 'icu/chartevents': rows.lines.chartevents, 'hosp/labevents': rows.lines.labevents, 'icu/inputevents': rows.lines.inputevents, 'icu/outputevents': rows.lines.outputevents };
  for (const [table, lines] of Object.entries(tables)) {
    const file = path.join(dir, 'mimic', `${table}.csv`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${[MIMIC_HEADERS[table as keyof typeof MIMIC_HEADERS], ...lines].join('\n')}\n`);
  }
  fs.writeFileSync(path.join(dir, 'stay.ndjson'), `${sameDataFhir().map((r) => JSON.stringify(r)).join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'stay.csv'), sameDataCsv());
  // A FHIR Bundle (one JSON document) of the same resources.
  const bundle = { resourceType: 'Bundle', type: 'collection', entry: sameDataFhir().map((resource) => ({ fullUrl: `urn:uuid:${String(resource.id)}`, resource })) };
  fs.writeFileSync(path.join(dir, 'bundle.json'), JSON.stringify(bundle));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function hourly(input: string, extra: string[]): Promise<string[]> {
  const out = path.join(dir, `${path.basename(input)}-${extra.join('')}.csv`);
  const run = await runCli(['sofa', input, ...extra, '--hourly', '--out', out]);
  assert.equal(run.exitCode, 0, run.stderr);
  assert.match(run.stdout, /wrote 27 hourly row\(s\) of 1 stay\(s\) to .* \(preset mimic-iv\)/);
  return fs.readFileSync(out, 'utf8').trimEnd().split('\n');
}

test('FHIR (NDJSON and a Bundle) and the measurement CSV give the rows of the MIMIC-IV tables', async () => {
  const mimic = await hourly(path.join(dir, 'mimic'), ['--format', 'mimic-iv']);
  assert.equal(mimic[0], HEADER);
  // Stay 1000: first heart rate 01 09:30, last 02 11:45 -> rows 0..26; the scores of same-data.ts.
  assert.equal(mimic[2], '1000,1,2150-01-01T10:00:00,2150-01-01T11:00:00,4,0,0,3,0,0,7');
  assert.equal(mimic[24], '1000,23,2150-01-02T08:00:00,2150-01-02T09:00:00,4,2,0,3,2,4,15');
  assert.deepEqual(await hourly(path.join(dir, 'stay.ndjson'), ['--format', 'fhir', '--preset', 'mimic-iv']), mimic);
  assert.deepEqual(await hourly(path.join(dir, 'stay.ndjson'), []), mimic, 'fhir is the format of an .ndjson file, mimic-iv the default preset');
  assert.deepEqual(await hourly(path.join(dir, 'bundle.json'), ['--format', 'fhir']), mimic);
  assert.deepEqual(await hourly(path.join(dir, 'stay.csv'), ['--format', 'csv']), mimic);
  assert.deepEqual(await hourly(path.join(dir, 'stay.csv'), ['--pf-float64']), mimic);
});

test('--json gives each stay with its patient and the inputs of every hour; warnings name what was not scored', async () => {
  const run = await runCli(['sofa', path.join(dir, 'stay.ndjson'), '--hourly', '--json']);
  assert.equal(run.exitCode, 0, run.stderr);
  const doc = run.json<{
    preset: { id: string };
    stays: Array<{ stayId: string; patientId: string; hours: Array<{ hr: number; endtime: string; inputs: { pao2fio2ratioVent: number | null } }> }>;
    staysWithoutHeartRate: string[];
    records: number;
  }>();
  assert.equal(doc.preset.id, 'mimic-iv');
  assert.deepEqual([doc.stays[0]!.stayId, doc.stays[0]!.patientId], ['1000', '1']);
  assert.deepEqual([doc.stays[0]!.hours[1]!.endtime, doc.stays[0]!.hours[1]!.inputs.pao2fio2ratioVent], ['2150-01-01T11:00:00', 60]);
  assert.deepEqual(doc.staysWithoutHeartRate, []);
  assert.equal(doc.records, sameDataFhir().length);

  // Without heart rates there is no hour grid; a lab without its encounter links to no admission.
  const stripped = sameDataFhir()
    .filter((r) => !String(r.id).startsWith('hr'))
    .map((r) => (r.id === 'plt1' ? { ...r, encounter: undefined } : r));
  const file = path.join(dir, 'no-heart-rate.ndjson');
  fs.writeFileSync(file, stripped.map((r) => JSON.stringify(r)).join('\n'));
  const none = await runCli(['sofa', file, '--hourly']);
  assert.equal(none.exitCode, 0);
  assert.equal(none.stdout, `${HEADER}\n`);
  assert.match(none.stderr, /1 stay\(s\) without a heart rate \(1000\): mimic-code's hour grid starts at a stay's first heart rate/);
  assert.match(none.stderr, /not scored: platelets 1/);
});

test('bad records are listed and exit 1; usage errors exit 2', async () => {
  const file = path.join(dir, 'bad.csv');
  fs.writeFileSync(file, `${sameDataCsv()}1000,2150-01-01T12:00:00Z,platelets,lots,10*3/uL,\n`);
  const bad = await runCli(['sofa', file, '--hourly', '--out', path.join(dir, 'bad-out.csv')]);
  assert.equal(bad.exitCode, 1);
  assert.match(bad.stderr, /line 16: column value: "lots" is not a number/);
  assert.equal(fs.readFileSync(path.join(dir, 'bad-out.csv'), 'utf8').split('\n').length, 1 + 27 + 1, 'the good lines are still scored');

  const start = await runCli(['sofa', path.join(dir, 'stay.csv'), '--hourly', '--start', '2150-01-01T00:00:00Z']);
  assert.equal(start.exitCode, 2);
  assert.match(start.stderr, /--start sets day 1 of daily scores/);
  const daily = await runCli(['sofa', path.join(dir, 'stay.ndjson')]);
  assert.equal(daily.exitCode, 2);
  assert.match(daily.stderr, /--preset mimic-iv --hourly/);
});
