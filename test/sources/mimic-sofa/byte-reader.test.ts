/**
 * The byte-level reading of plain CSV files (chartevents, labevents and outputevents rows parsed
 * on their bytes, inputevents rows skipped on their item id before decoding) must read exactly what the text path
 * reads. The text path is what .csv.gz files go through, so the same directory written plain and
 * gzipped must give the same tables, counts and issues (with the same line numbers), on one
 * thread and on several.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, test } from 'node:test';
import { mimicCodeSofa } from '../../../src/sources/mimic/sofa/hourly.ts';
import { scoreMimicSofaStays } from '../../../src/sources/mimic/sofa/parallel.ts';
import type { MimicSofaStay } from '../../../src/sources/mimic/sofa/hourly.ts';
import { type MimicReadResult, readMimicSofaTables } from '../../../src/sources/mimic/sofa/read.ts';

let plain: string;
let gzipped: string;

const CHART_HEADER = 'subject_id,hadm_id,stay_id,caregiver_id,charttime,storetime,itemid,value,valuenum,valueuom,warning';

/** Rows in every form the byte path must either read like the text path or leave to it. */
function edgeRows(): string[] {
  const t = '2150-01-01 10:00:00';
  const s = '2150-01-01 10:05:00';
  return [
    `1,101,1001,1,${t},${s},220045,80,80,bpm,0`, // heart rate
    `1,101,1001,1,2150-01-01 11:00:00,${s},220181,72.5,72.5,mmHg,0`, // decimal MAP
    `1,101,1001,1,2150-01-01 11:00:00,${s},220052,0070,0070,mmHg,0`, // leading zeros
    `1,101,1001,1,2150-01-01T12:00:00,${s},220181,65,65,mmHg,0`, // T separator
    `1,101,1001,1,2150-01-01 13:00,${s},220181,66,66,mmHg,0`, // no seconds: text path only
    `1,101,1001,1,2150-01-01 13:30:00.5,${s},220181,66,66,mmHg,0`, // fraction: text path only
    `1,101,1001,1,not a time,${s},220181,70,70,mmHg,0`, // bad time: reported
    `1,101,1001,1,2150-02-30 10:00:00,${s},220181,70,70,mmHg,0`, // no such date: reported
    `1,101,1001,1,${t},bad store,226732,Nasal cannula,,,0`, // bad storetime: reported
    `1,101,1001,1,${t},,226732,Nasal cannula,,,0`, // no storetime
    `1,101,1001,1,2150-01-01 14:00:00,${s},226732,Canule nasale à haut débit,,,0`, // UTF-8 text
    `1,101,1001,1,2150-01-01 14:00:00,${s},223834,4,4,L/min,0`, // O2 flow
    `1,101,1001,1,2150-01-01 15:00:00,${s},223835,1e2,1e2,%,0`, // exponent
    `1,101,1001,1,2150-01-01 15:00:00,${s},223835, 40 , 40 ,%,0`, // spaces: text path
    `1,101,1001,1,2150-01-01 16:00:00,${s},223835,-3,-3,%,0`, // negative
    `1,101,1001,1,2150-01-01 16:00:00,${s},220181,abc,abc,mmHg,0`, // bad number: reported
    `1,101,1001,1,2150-01-01 17:00:00,${s},220181,,,mmHg,0`, // null valuenum
    `1,101,,1,2150-01-01 17:00:00,${s},220045,80,80,bpm,0`, // no stay
    `1,101, 1001,1,2150-01-01 17:00:00,${s},220045,80,80,bpm,0`, // stay with a space: text path
    `x1,101,1001,1,2150-01-01 17:00:00,${s},220045,80,80,bpm,0`, // bad subject: reported
    `1,101,1001,1,2150-01-01 18:00:00,${s},220045,80,80,bpm,0,extra`, // too many fields: reported
    `1,101,1001,1,2150-01-01 18:00:00,${s},220045,80,80,bpm`, // too few fields: reported
    `1,101,1001,1,2150-01-01 18:00:00,${s},999999,80,80,bpm`, // another item, too few fields: skipped
    `1,101,1001,1,2150-01-01 18:00:00,${s},x,80,80,bpm,0`, // item not a number: skipped
    '', // empty line
    `1,101,1001,1,2150-01-01 19:00:00,${s},223900,No Response-ETT,,,0`, // intubated verbal
    `1,101,1001,1,2150-01-01 19:00:00,${s},223901,"Obeys, commands",6,,0`, // quoted: text path
    `1,101,1001,1,2150-01-01 19:00:00,${s},225059,"a note`, // a quoted field over two lines
    `with 220181 inside, and a comma",,,0`,
    `1,101,1001,1,2150-01-01 20:00:00,${s},223849,"CMV/ASSIST`, // a wanted item, quoted over two lines
    `AutoFlow",,,0`,
    `1,101,1001,1,2150-01-01 20:00:00,${s},223849,CPAP/PSV,,,0`,
  ];
}

/** labevents rows the byte path reads (or leaves to the text path) like the text path. */
function labEdgeRows(): string[] {
  const h = 'ref,,,ROUTINE,';
  return [
    `10,1,101,20,50821,,2150-01-01 12:00:00,,95.5,95.5,mmHg,${h}`, // decimal pO2
    `11,1,101,20,52033,,2150-01-01 12:00:00,,ARTÉRIEL,,,${h}`, // UTF-8 specimen type text
    `12,1,,21,50912,,2150-01-01 12:00:00,,1.2,1.2,mg/dL,${h}`, // no admission
    `13,1,101,,51265,,2150-01-01 12:00:00,,150,150,K/uL,${h}`, // no specimen: one NULL group
    `14,1,101,,50885,,2150-01-01 12:00:00,,2e0,2e0,mg/dL,${h}`, // exponent, NULL specimen too
    `15,1,101,22,50816,,2150-01-01T12:30:00,,50,50,%,${h}`, // T separator
    `16,1,101,22,50816,,2150-01-01 12:30,,50,50,%,${h}`, // no seconds: text path only
    `17,1,101, 23,50821,,2150-01-01 12:30:00,,80,80,mmHg,${h}`, // specimen with a space: kept as is
    `18,1,x101,24,50821,,2150-01-01 12:30:00,,80,80,mmHg,${h}`, // bad admission: reported
    `19,1,101,24,50821,,2150-13-01 12:30:00,,80,80,mmHg,${h}`, // bad time: reported
    `20,1,101,25,50821,,2150-01-01 12:30:00,,,,mmHg,${h}`, // null valuenum
    `21,1,101,25,50821,,2150-01-01 12:30:00,,-0,-0,mmHg,${h}`, // negative zero
    `22,1,101,26,52033,,2150-01-01 12:30:00,,"VEN, MIXED",,,${h}`, // quoted: text path
    `23,1,101,26,52033,,2150-01-01 12:30:00,,,,,${h},extra`, // too many fields: reported
  ];
}

/** outputevents rows, the same. */
function outputEdgeRows(): string[] {
  const s = '2150-01-01 10:05:00';
  return [
    `1,101,1001,1,2150-01-01 10:00:00,226559,150,mL,${s}`, // Foley
    `1,101,1001,1,2150-01-01 10:00:00,226560,25.5,mL,${s}`, // decimal, same time: summed
    `1,101,1001,1,2150-01-01 11:00:00,227488,40,mL,${s}`, // irrigant in: negative
    `1,101,1001,1,2150-01-01 12:00:00,226559,,mL,${s}`, // null volume
    `1,101,,1,2150-01-01 12:00:00,226559,100,mL,${s}`, // no stay: skipped by the concept
    `1,101,1001,1,2150-01-01 13:00:00,226559, 70,mL,${s}`, // space: text path
    `1,101,1001,1,2150-01-01 13:00:00,226559,lots,mL,${s}`, // bad volume: reported
    `1,101,1001,1,2150-01-01 25:00:00,226559,70,mL,${s}`, // bad time: reported
    `1,101,1001,1,2150-01-01 14:00:00,220045,70,mL,${s}`, // not a urine item: skipped
    `1,101,1001,1,2150-01-01 14:00:00,226559,70`, // too few fields: reported
  ];
}

before(() => {
  plain = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-sofa-bytes-'));
  gzipped = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-sofa-bytes-gz-'));
  const stays = ['subject_id,hadm_id,stay_id,first_careunit,last_careunit,intime,outtime,los', '1,101,1001,MICU,MICU,2150-01-01 09:00:00,2150-01-04 09:00:00,3'];
  const chart = [CHART_HEADER, ...edgeRows()];
  // Over a megabyte of ordinary rows (other items and wanted ones) so lines cross the reader's
  // 1 MiB blocks, then one line longer than a block, then the edge rows again.
  for (let i = 0; i < 14_000; i++) {
    const at = new Date(Date.UTC(2150, 0, 1, 9, i)).toISOString().slice(0, 19).replace('T', ' ');
    chart.push(i % 3 === 0 ? `1,101,1001,1,${at},${at},220181,${60 + (i % 40)},${60 + (i % 40)},mmHg,0` : `1,101,1001,1,${at},${at},220210,${i % 30},${i % 30},insp/min,0`);
  }
  chart.push(`1,101,1001,1,2150-01-02 10:00:00,2150-01-02 10:00:00,226732,${'very long device name '.repeat(60_000)},,,0`);
  chart.push(...edgeRows());
  const files: Record<string, string> = {
    'icu/icustays.csv': `${stays.join('\n')}\n`,
    'icu/chartevents.csv': `${chart.join('\r\n')}\r\n`,
    'hosp/labevents.csv':
      'labevent_id,subject_id,hadm_id,specimen_id,itemid,order_provider_id,charttime,storetime,value,valuenum,valueuom,ref_range_lower,ref_range_upper,flag,priority,comments\n' +
      '1,1,101,7,50821,,2150-01-01 10:00:00,,90,90,mmHg,,,,,\n' +
      '2,1,101,7,52033,,2150-01-01 10:00:00,,ART.,,,,,,,\n' +
      '3,1,101,8,99999,,2150-01-01 10:00:00,,1,1,x,,,,,\n' + // another item: skipped on its bytes
      '4,1,101,9,51265,,2150-01-01 10:00:00,,bad,bad,K/uL,,,,,\n' + // bad number: reported
      labEdgeRows().join('\n') +
      '\n',
    'icu/outputevents.csv': `subject_id,hadm_id,stay_id,caregiver_id,charttime,itemid,value,valueuom,storetime\n${outputEdgeRows().join('\n')}\n`,
  };
  for (const [name, text] of Object.entries(files)) {
    for (const dir of [plain, gzipped]) fs.mkdirSync(path.join(dir, path.dirname(name)), { recursive: true });
    fs.writeFileSync(path.join(plain, name), text);
    fs.writeFileSync(path.join(gzipped, `${name}.gz`), zlib.gzipSync(text));
  }
});

after(() => {
  fs.rmSync(plain, { recursive: true, force: true });
  fs.rmSync(gzipped, { recursive: true, force: true });
});

const basename = (r: MimicReadResult) => ({
  issues: r.issues.map((i) => [path.basename(i.file).replace(/\.gz$/, ''), i.line, i.message]),
  files: r.files.map((f) => [f.table, f.rows, f.kept, f.rejected]).sort(),
});

test('plain files read on their bytes give what the text path gives for the same rows gzipped', async () => {
  const bytes = await readMimicSofaTables(plain);
  const text = await readMimicSofaTables(gzipped);
  assert.deepEqual(basename(bytes), basename(text));
  assert.deepEqual(bytes.tables.exportState(), text.tables.exportState());
  // The rows that must be reported are (twice: the edge rows come before and after the filler).
  const reported = basename(bytes).issues.filter(([file]) => file === 'chartevents.csv').map(([, , message]) => message);
  for (const what of ['charttime "not a time"', 'charttime "2150-02-30 10:00:00"', 'storetime "bad store"', 'valuenum "abc"', 'subject_id "x1"', 'the row has 12 fields', 'the row has 10 fields']) {
    assert.equal(reported.filter((m) => String(m).includes(what)).length, 2, `${what} reported twice in ${JSON.stringify(reported)}`);
  }
  assert.equal(reported.length, 14);
  assert.ok(basename(bytes).issues.some(([file, line]) => file === 'labevents.csv' && line === 5));
  const lines = (file: string) => basename(bytes).issues.filter(([name]) => name === file).map(([, line]) => line);
  // labevents: the bad number (line 5), the bad admission, the bad time, too many fields.
  assert.deepEqual(lines('labevents.csv'), [5, 14, 15, 19]);
  // outputevents: the bad volume, the bad time, too few fields.
  assert.deepEqual(lines('outputevents.csv'), [8, 9, 11]);
  assert.deepEqual(mimicCodeSofa(bytes.tables), mimicCodeSofa(text.tables));
});

test('the same on threads that each keep a part of the patients (rows routed on their bytes or their text)', async () => {
  const single = await readMimicSofaTables(plain);
  const stays: MimicSofaStay[] = [];
  const parallel = await scoreMimicSofaStays(plain, { workers: 3 }, (stay) => stays.push(stay));
  assert.deepEqual(parallel.issues, single.issues);
  assert.deepEqual(parallel.files, single.files);
  assert.deepEqual(stays, mimicCodeSofa(single.tables));
});
