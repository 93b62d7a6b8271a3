/**
 * The parallel MIMIC-IV scorer (patients cut into parts by subject_id, each part read and scored
 * on its own thread, stays merged back in stay order) gives exactly what the single-threaded
 * reader and scorer give: same hourly scores in the same order, same counts, same issues with the
 * same line numbers.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { mimicCodeSofa } from '../../../src/sources/mimic/sofa/hourly.ts';
import { type StayCsv, scoreMimicSofaCsv, scoreMimicSofaStays } from '../../../src/sources/mimic/sofa/parallel.ts';
import type { MimicSofaStay } from '../../../src/sources/mimic/sofa/hourly.ts';
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

test('scoring on 2 and 3 threads equals reading and scoring on one', async () => {
  const single = await readMimicSofaTables(dir);
  assert.deepEqual(
    single.issues.map((i) => [path.basename(i.file), i.line]),
    BAD_LINES.map((line) => ['chartevents.csv', line]),
  );
  const expected = mimicCodeSofa(single.tables);
  assert.equal(expected.length, 12);
  assert.ok(expected.some((s) => s.hours.some((h) => h.total >= 6)), 'the cohort scores');
  for (const workers of [2, 3]) {
    const stays: MimicSofaStay[] = [];
    const parallel = await scoreMimicSofaStays(dir, { workers }, (stay) => stays.push(stay));
    assert.deepEqual(parallel.issues, single.issues, `${workers} threads: issues`);
    assert.equal(parallel.issuesDropped, 0);
    assert.deepEqual(parallel.files, single.files, `${workers} threads: files and counts`);
    assert.deepEqual(stays, expected, `${workers} threads: stays in stay order`);
  }
});

test('as CSV text: the same rows in the same order, with a cap on the issues kept', async () => {
  const single = await readMimicSofaTables(dir, { maxIssues: 2 });
  const chunks: StayCsv[] = [];
  const parallel = await scoreMimicSofaCsv(dir, { workers: 2, maxIssues: 2 }, (stay) => chunks.push(stay));
  assert.deepEqual(parallel.issues, single.issues);
  assert.equal(parallel.issuesDropped, single.issuesDropped);
  assert.equal(parallel.issuesDropped, BAD_LINES.length - 2);
  const expected = mimicCodeSofa(single.tables);
  assert.deepEqual(
    chunks.map((c) => c.stayId),
    expected.map((s) => s.stayId),
  );
  assert.deepEqual(
    chunks.map((c) => c.rows),
    expected.map((s) => s.hours.length),
  );
  const single1: StayCsv[] = [];
  await scoreMimicSofaCsv(dir, { workers: 1 }, (stay) => single1.push(stay));
  assert.deepEqual(chunks, single1);
});
