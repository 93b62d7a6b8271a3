/**
 * The parallel MIMIC-IV reader (byte ranges of large files on worker threads, tables merged)
 * gives exactly what the single-threaded reader gives: same hourly scores, same counts, same
 * issues with the same absolute line numbers.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { mimicCodeSofa } from '../../../src/sources/mimic/sofa/hourly.ts';
import { readMimicSofaTablesParallel } from '../../../src/sources/mimic/sofa/parallel.ts';
import { readMimicSofaTables } from '../../../src/sources/mimic/sofa/read.ts';

let dir: string;
const BAD_LINES: number[] = [];

/** A deterministic pseudo-random cohort: 12 stays, hourly vitals, GCS, gases, labs, urine, infusions. */
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-sofa-parallel-'));
  fs.mkdirSync(path.join(dir, 'icu'));
  fs.mkdirSync(path.join(dir, 'hosp'));
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const time = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
  const stays: string[] = ['subject_id,hadm_id,stay_id,first_careunit,last_careunit,intime,outtime,los'];
  const chart: string[] = ['subject_id,hadm_id,stay_id,caregiver_id,charttime,storetime,itemid,value,valuenum,valueuom,warning'];
  const labs: string[] = ['labevent_id,subject_id,hadm_id,specimen_id,itemid,order_provider_id,charttime,storetime,value,valuenum,valueuom,ref_range_lower,ref_range_upper,flag,priority,comments'];
  const inputs: string[] = ['subject_id,hadm_id,stay_id,caregiver_id,starttime,endtime,storetime,itemid,amount,amountuom,rate,rateuom,orderid,linkorderid,ordercategoryname,secondaryordercategoryname,ordercomponenttypedescription,ordercategorydescription,patientweight,totalamount,totalamountuom,isopenbag,continueinnextdept,statusdescription,originalamount,originalrate'];
  const outputs: string[] = ['subject_id,hadm_id,stay_id,caregiver_id,charttime,storetime,itemid,value,valueuom'];
  let specimen = 1;
  for (let s = 1; s <= 12; s++) {
    const hadm = 100 + s;
    const stay = 1000 + s;
    const intime = Date.UTC(2150, 0, s, 7, 13);
    stays.push(`${s},${hadm},${stay},MICU,MICU,${time(intime)},${time(intime + 60 * 3_600_000)},2.5`);
    for (let h = 0; h < 60; h++) {
      const t = intime + h * 3_600_000 + Math.floor(rnd() * 50) * 60_000;
      chart.push(`${s},${hadm},${stay},1,${time(t)},${time(t + 60_000)},220045,80,80,bpm,0`);
      chart.push(`${s},${hadm},${stay},1,${time(t)},${time(t + 60_000)},220181,${Math.round(55 + rnd() * 30)},${Math.round(55 + rnd() * 30)},mmHg,0`);
      chart.push(`${s},${hadm},${stay},1,${time(t)},${time(t + 60_000)},225059,"a note, with a comma",,,0`);
      if (h % 4 === 0) {
        chart.push(`${s},${hadm},${stay},1,${time(t)},${time(t + 60_000)},223901,x,${1 + Math.floor(rnd() * 6)},,0`);
        chart.push(`${s},${hadm},${stay},1,${time(t)},${time(t + 60_000)},223900,${rnd() < 0.3 ? 'No Response-ETT,' : `x,${1 + Math.floor(rnd() * 5)}`},,0`);
        chart.push(`${s},${hadm},${stay},1,${time(t)},${time(t + 60_000)},223849,${rnd() < 0.5 ? 'CMV/ASSIST' : 'CPAP/PSV'},,,0`);
        chart.push(`${s},${hadm},${stay},1,${time(t)},${time(t + 60_000)},223835,${rnd() < 0.5 ? '0.55' : '40'},${rnd() < 0.5 ? 0.55 : 40},,0`);
        const sp = specimen++;
        labs.push(`${sp * 3},${s},${hadm},${sp},52033,,${time(t)},${time(t)},ART.,,,,,,,`);
        labs.push(`${sp * 3 + 1},${s},${hadm},${sp},50821,,${time(t)},${time(t)},${Math.round(60 + rnd() * 200)},${Math.round(60 + rnd() * 200)},mmHg,,,,,`);
        labs.push(`${sp * 3 + 2},${s},${hadm},${sp + 100000},51265,,${time(t)},${time(t)},${Math.round(10 + rnd() * 200)},${Math.round(10 + rnd() * 200)},K/uL,,,,,`);
        outputs.push(`${s},${hadm},${stay},1,${time(t)},${time(t)},226559,${Math.round(rnd() * 120)},ml`);
        inputs.push(`${s},${hadm},${stay},1,${time(t)},${time(t + 2.5 * 3_600_000)},${time(t)},221906,1,mg,${(rnd() * 0.2).toFixed(3)},mcg/kg/min,1,1,,,,,80,1,mg,0,0,FinishedRunning,1,0.1`);
      }
    }
  }
  // Malformed rows at known places (physical line = index + 1).
  for (const at of [50, 777, 1500, 2222]) {
    chart.splice(at - 1, 0, `1,101,1001,1,not a time,2150-01-01 10:00:00,220181,70,70,mmHg,0`);
    BAD_LINES.push(at);
  }
  fs.writeFileSync(path.join(dir, 'icu', 'icustays.csv'), `${stays.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'icu', 'chartevents.csv'), `${chart.join('\r\n')}\r\n`);
  fs.writeFileSync(path.join(dir, 'hosp', 'labevents.csv'), `${labs.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'icu', 'inputevents.csv'), `${inputs.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'icu', 'outputevents.csv'), `${outputs.join('\n')}`); // no final newline
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('parallel reading (ranges of every file on 3 threads) equals the single-threaded reader', async () => {
  const single = await readMimicSofaTables(dir);
  const parallel = await readMimicSofaTablesParallel(dir, { workers: 3, splitBytes: 4096 });
  assert.deepEqual(
    single.issues.map((i) => [path.basename(i.file), i.line]),
    BAD_LINES.map((line) => ['chartevents.csv', line]),
  );
  assert.deepEqual(parallel.issues, single.issues);
  assert.deepEqual(
    parallel.files.map((f) => [f.table, f.rows, f.kept, f.rejected]).sort(),
    single.files.map((f) => [f.table, f.rows, f.kept, f.rejected]).sort(),
  );
  const a = mimicCodeSofa(single.tables);
  const b = mimicCodeSofa(parallel.tables);
  assert.equal(a.length, 12);
  assert.ok(a.some((s) => s.hours.some((h) => h.total >= 6)), 'the cohort scores');
  assert.deepEqual(b, a);
});
