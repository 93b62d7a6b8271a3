/**
 * `immunoguide sofa DIR --format mimic-iv --hourly --out FILE.csv`: MIMIC-IV tables in the
 * published layout (hosp/, icu/; .csv and .csv.gz) to mimic-code's hourly sofa columns.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { runCli } from '../support/cli.ts';

const HEADERS = {
  'icu/icustays': 'subject_id,hadm_id,stay_id,first_careunit,last_careunit,intime,outtime,los',
  'icu/chartevents': 'subject_id,hadm_id,stay_id,caregiver_id,charttime,storetime,itemid,value,valuenum,valueuom,warning',
  'hosp/labevents':
    'labevent_id,subject_id,hadm_id,specimen_id,itemid,order_provider_id,charttime,storetime,value,valuenum,valueuom,ref_range_lower,ref_range_upper,flag,priority,comments',
  'icu/inputevents':
    'subject_id,hadm_id,stay_id,caregiver_id,starttime,endtime,storetime,itemid,amount,amountuom,rate,rateuom,orderid,linkorderid,ordercategoryname,secondaryordercategoryname,ordercomponenttypedescription,ordercategorydescription,patientweight,totalamount,totalamountuom,isopenbag,continueinnextdept,statusdescription,originalamount,originalrate',
  'icu/outputevents': 'subject_id,hadm_id,stay_id,caregiver_id,charttime,storetime,itemid,value,valueuom',
} as const;

let dir: string;

function write(table: keyof typeof HEADERS, rows: string[], gzip = false): void {
  const file = path.join(dir, `${table}.csv${gzip ? '.gz' : ''}`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const text = `${[HEADERS[table], ...rows].join('\n')}\n`;
  fs.writeFileSync(file, gzip ? gzipSync(text) : text);
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-sofa-mimic-'));
  write('icu/icustays', [
    '1,100,1000,MICU,MICU,2150-01-01 09:20:00,2150-01-02 12:00:00,1.1',
    '2,200,2000,MICU,MICU,2150-01-01 09:00:00,2150-01-01 20:00:00,0.5',
  ]);
  write(
    'icu/chartevents',
    [
      '1,100,1000,1,2150-01-01 09:30:00,2150-01-01 09:31:00,220045,80,80,bpm,0',
      '1,100,1000,1,2150-01-02 11:45:00,2150-01-02 11:46:00,220045,80,80,bpm,0',
      // GCS 6 + 4 + 3 = 13 -> 1 at row 1; a quoted value with a comma in an unrelated item.
      '1,100,1000,1,2150-01-01 10:30:00,2150-01-01 10:31:00,223901,Obeys Commands,6,,0',
      '1,100,1000,1,2150-01-01 10:30:00,2150-01-01 10:31:00,223900,Confused,4,,0',
      '1,100,1000,1,2150-01-01 10:30:00,2150-01-01 10:31:00,220739,To Speech,3,,0',
      '1,100,1000,1,2150-01-01 10:40:00,2150-01-01 10:41:00,225059,"free text, with a comma",,,0',
      // Stay 2 has no heart rate: no rows (mimic-code's hour grid starts at the first heart rate).
      '2,200,2000,1,2150-01-01 10:00:00,2150-01-01 10:01:00,220181,60,60,mmHg,0',
    ],
    true,
  );
  write('hosp/labevents', [
    '1,1,100,55,51265,,2150-01-01 11:00:00,2150-01-01 12:00:00,45,45,K/uL,150,440,abnormal,ROUTINE,',
    '2,1,100,56,50885,,2150-01-01 23:59:00,2150-01-02 00:30:00,2.0,2.0,mg/dL,0,1.5,abnormal,ROUTINE,',
    '3,1,100,57,50912,,not a time,2150-01-02 00:30:00,1.0,1.0,mg/dL,0.5,1.2,,ROUTINE,',
  ]);
  write('icu/inputevents', [
    '1,100,1000,1,2150-01-01 11:30:00,2150-01-01 13:00:00,2150-01-01 11:31:00,221906,1,mg,0.12,mcg/kg/min,1,1,,,,,80,1,mg,0,0,FinishedRunning,1,0.12',
  ]);
  write('icu/outputevents', ['1,100,1000,1,2150-01-01 12:00:00,2150-01-01 12:01:00,226559,100,ml']);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('hourly rows in mimic-code columns, bad rows reported with file and line, exit 1', async () => {
  const out = path.join(dir, 'sofa.csv');
  const run = await runCli(['sofa', dir, '--format', 'mimic-iv', '--hourly', '--out', out]);
  assert.equal(run.exitCode, 1, run.stderr);
  assert.match(run.stderr, /labevents\.csv:4: charttime "not a time" is not a time/);
  const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.equal(
    lines[0],
    'stay_id,hr,starttime,endtime,respiration_24hours,coagulation_24hours,liver_24hours,cardiovascular_24hours,cns_24hours,renal_24hours,sofa_24hours',
  );
  // Stay 1000: 09:30 -> hour 0 ends 10:00; last heart rate 02 11:45 -> 26 clock hours -> rows 0..26. Stay 2000: none.
  assert.equal(lines.length, 1 + 27);
  const row = (hr: number) => lines.find((l) => l.startsWith(`1000,${hr},`));
  assert.equal(row(0), '1000,0,2150-01-01T09:00:00,2150-01-01T10:00:00,0,0,0,0,0,0,0');
  // Row 1 (10:00, 11:00]: GCS 13 -> 1 and platelets 45 at 11:00 exactly -> 3. Rows 2 and 3 (hour ends 12:00
  // and 13:00): norepinephrine 0.12 running -> 4. The urine charting at 12:00 covers 2.5 h only: no renal score.
  assert.equal(row(1), '1000,1,2150-01-01T10:00:00,2150-01-01T11:00:00,0,3,0,0,1,0,4');
  assert.equal(row(2), '1000,2,2150-01-01T11:00:00,2150-01-01T12:00:00,0,3,0,4,1,0,8');
  assert.equal(row(3), '1000,3,2150-01-01T12:00:00,2150-01-01T13:00:00,0,3,0,4,1,0,8');
  // Row 25 (window rows 2..25): GCS and platelets (row 1) have left; bilirubin 2.0 at 01 23:59 (row 14) -> 2.
  assert.equal(row(25), '1000,25,2150-01-02T10:00:00,2150-01-02T11:00:00,0,0,2,4,0,0,6');
});

test('--json without --out gives every hour with its inputs; without --hourly, one row per day', async () => {
  const json = await runCli(['sofa', dir, '--hourly', '--json']);
  const doc = json.json<{ preset: { id: string }; stays: Array<{ stayId: number; hours: Array<{ hr: number; inputs: { plateletMin: number | null }; hourly: { coagulation: number | null } }> }> }>();
  assert.equal(doc.preset.id, 'mimic-iv');
  const hours = doc.stays[0]!.hours;
  assert.equal(hours[1]!.inputs.plateletMin, 45);
  assert.equal(hours[1]!.hourly.coagulation, 3);
  assert.equal(hours[2]!.hourly.coagulation, null);

  const daily = await runCli(['sofa', dir, '--json']);
  const days = daily.json<{ stays: Array<{ stayId: number; days: Array<{ day: number; hr: number; total: number }> }> }>().stays[0]!.days;
  assert.deepEqual(
    days.map((d) => [d.day, d.hr]),
    [
      [1, 23],
      [2, 26],
    ],
  );
  assert.equal(days[0]!.total, 1 + 3 + 2 + 4, 'day 1: GCS 13, platelets 45, bilirubin 2.0, norepinephrine 0.12');
});

test('usage errors: --out without --hourly, other presets with mimic-iv, not a MIMIC-IV directory', async () => {
  const noHourly = await runCli(['sofa', dir, '--out', path.join(dir, 'x.csv')]);
  assert.equal(noHourly.exitCode, 2);
  assert.match(noHourly.stderr, /add --hourly/);
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-empty-'));
  try {
    const missing = await runCli(['sofa', empty, '--format', 'mimic-iv', '--hourly']);
    assert.equal(missing.exitCode, 1);
    assert.match(missing.stderr, /no icustays\.csv/);
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
