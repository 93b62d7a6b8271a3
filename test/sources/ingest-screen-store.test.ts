import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultConceptDictionary } from '../../src/sources/concepts/dictionary.ts';
import type { SourceMeasurement } from '../../src/sources/import-format.ts';
import { type PatientScreen, type ScreenOptions, runScreen } from '../../src/sources/ingest/screen.ts';
import { chunkLines } from '../../src/sources/ingest/screen-chunks.ts';
import { Block, Codes, PatientColumns, type PatientTransfer } from '../../src/sources/ingest/screen-patient.ts';
import { PatientStore } from '../../src/sources/ingest/screen-store.ts';
import { syntheticCohort } from '../../src/sources/synthetic/cohort.ts';
import { exportFhirNdjson } from '../../src/sources/synthetic/export-fhir.ts';

/** Measurements of a few patients, interleaved, with every kind of column and extra. */
function measurements(count: number): SourceMeasurement[] {
  const list: SourceMeasurement[] = [];
  const start = Date.UTC(2026, 0, 5);
  for (let i = 0; i < count; i++) {
    const patientId = `P-${(i * 7) % 5}`;
    const time = new Date(start + ((i * 37) % 500) * 60_000).toISOString();
    const kind = i % 6;
    const m: SourceMeasurement =
      kind === 0
        ? { patientId, concept: 'ferritin', value: 100 + i, unit: 'ng/mL', time, provenance: { source: 'fhir', recordId: `Observation/f-${i}` } }
        : kind === 1
          ? { patientId, concept: 'platelets', value: 150 + i, unit: '10*3/uL', time, reported: { value: 150 + i, unit: '10*9/L' }, provenance: { source: 'fhir', recordId: `Observation/p-${i}` } }
          : kind === 2
            ? { patientId, concept: 'urine_output', value: i, unit: 'mL', time, endTime: new Date(Date.parse(time) + 3_600_000).toISOString(), provenance: { source: 'fhir', recordId: `Observation/u-${i}` } }
            : kind === 3
              ? { patientId, concept: 'gcs_verbal', value: 1, unit: '1', time, qualifiers: { gcsVerbalIntubated: true }, provenance: { source: 'fhir', recordId: `Observation/g-${i}` } }
              : { patientId, concept: 'creatinine', value: i / 10, unit: 'mg/dL', time, provenance: { source: 'fhir', recordId: `Observation/c-${i}` } };
    list.push(m);
  }
  return list;
}

/** Every patient the store hands out after finish(), in order; checks the count finish() gave. */
function drain(store: PatientStore): PatientTransfer[] {
  const count = store.finish();
  const patients: PatientTransfer[] = [];
  for (let patient = store.next(); patient !== undefined; patient = store.next()) patients.push(patient);
  assert.equal(patients.length, count, 'finish() counts the patients next() hands out');
  assert.equal(store.next(), undefined);
  return patients;
}

describe('the screen measurement store', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-screen-store-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('gives each patient its measurements in order, with their extras, whether they went through the temporary file or not', () => {
    const input = measurements(1000);
    const cited = (m: SourceMeasurement) => m.concept === 'ferritin';
    const read = (memoryRows: number, dir: string) => {
      fs.mkdirSync(dir);
      const codes = new Codes();
      const store = new PatientStore(codes, { memoryRows, dir });
      store.facts({ id: 'P-9', sex: 'female' }); // a patient without measurements
      for (const m of input) store.push(m, cited(m));
      const spilled = store.spilledBytes;
      // The file is removed as soon as it is opened: nothing is left behind even if the process dies.
      assert.deepEqual(fs.readdirSync(dir), []);
      const patients = drain(store).map((transfer) => {
        const columns = new PatientColumns(transfer);
        return { id: columns.id, facts: columns.patientFacts(), lastTime: columns.lastTime, measurements: columns.measurements(codes.values) };
      });
      store.close();
      return { spilled, patients };
    };
    const inMemory = read(1 << 20, path.join(tmp, 'a'));
    assert.equal(inMemory.spilled, 0);
    assert.deepEqual(
      inMemory.patients.map((p) => p.id),
      ['P-0', 'P-1', 'P-2', 'P-3', 'P-4', 'P-9'],
    );
    // What went in, per patient in arrival order: numbers, units, times, and the extras kept.
    for (const patient of inMemory.patients) {
      const expected = input
        .filter((m) => m.patientId === patient.id)
        .map((m) => ({
          patientId: m.patientId,
          concept: m.concept,
          value: m.value,
          unit: m.unit,
          time: m.time,
          ...(m.endTime === undefined ? {} : { endTime: m.endTime }),
          ...(m.reported === undefined ? {} : { reported: m.reported }),
          ...(cited(m) ? { provenance: m.provenance } : {}),
          ...(m.qualifiers === undefined ? {} : { qualifiers: m.qualifiers }),
        }));
      assert.deepEqual(patient.measurements, expected, patient.id);
    }
    assert.deepEqual(inMemory.patients.at(-1)!.facts, { id: 'P-9', birthDate: null, sex: 'female', deceasedAt: null });
    for (const memoryRows of [1, 7, 333]) {
      const dir = path.join(tmp, `rows-${memoryRows}`);
      const spilled = read(memoryRows, dir);
      assert.ok(spilled.spilled > 0, `${memoryRows} rows in memory`);
      assert.deepEqual(spilled.patients, inMemory.patients, `${memoryRows} rows in memory`);
      assert.deepEqual(fs.readdirSync(dir), []);
    }
  });

  it('keeps thousands of patients apart: facts, sites, and measurements in many segments each', () => {
    const codes = new Codes();
    const store = new PatientStore(codes, { memoryRows: 5, dir: path.join(tmp, 'many') });
    const patients = 2500;
    const start = Date.UTC(2026, 0, 5);
    // Three rounds over every patient: each patient's rows land in three or more segments.
    for (let round = 0; round < 3; round++) {
      for (let p = 0; p < patients; p++) {
        const id = `patient-${String(p).padStart(5, '0')}`;
        if (round === 1) store.facts({ id, siteId: `site-${p % 3}`, birthDate: `19${String(p % 90).padStart(2, '0')}-01-01`, sex: p % 2 === 0 ? 'female' : 'male', ...(p % 7 === 0 ? { deceasedAt: '2026-01-20T00:00:00.000Z' } : {}) });
        const time = new Date(start + (round * patients + p) * 60_000).toISOString();
        store.push({ patientId: id, concept: 'creatinine', value: round * 10_000 + p, unit: 'mg/dL', time, provenance: { source: 'fhir', recordId: `Observation/${p}-${round}` } }, false);
      }
    }
    assert.ok(store.spilledBytes > 0);
    const transfers = drain(store);
    assert.equal(transfers.length, patients);
    for (const [p, transfer] of transfers.entries()) {
      const id = `patient-${String(p).padStart(5, '0')}`;
      assert.equal(transfer.id, id);
      const columns = new PatientColumns(transfer);
      assert.deepEqual(
        columns.measurements(codes.values).map((m) => m.value),
        [p, 10_000 + p, 20_000 + p],
        id,
      );
      assert.equal(columns.lastTime, start + (2 * patients + p) * 60_000);
      assert.equal(transfer.siteId, `site-${p % 3}`);
      assert.deepEqual(columns.patientFacts(), {
        id,
        birthDate: `19${String(p % 90).padStart(2, '0')}-01-01`,
        sex: p % 2 === 0 ? 'female' : 'male',
        deceasedAt: p % 7 === 0 ? '2026-01-20T00:00:00.000Z' : null,
      });
    }
    store.close();
  });

  it('reads back directories whose lines are longer than one read of the merge, and ids with line breaks', () => {
    const codes = new Codes();
    const store = new PatientStore(codes, { memoryRows: 3, dir: path.join(tmp, 'long-ids') });
    // Ids longer than the 8 KiB the merge reads of a directory at a time, and one with a newline.
    const ids = ['a'.repeat(20_000), `b-${'é'.repeat(9_000)}`, 'c\nd', 'c', 'z'];
    const start = Date.UTC(2026, 0, 5);
    for (let round = 0; round < 4; round++) {
      for (const [p, id] of ids.entries()) {
        store.push({ patientId: id, concept: 'creatinine', value: round * 10 + p, unit: 'mg/dL', time: new Date(start + round * 60_000).toISOString(), provenance: { source: 'fhir', recordId: `Observation/${round}` } }, false);
      }
    }
    store.facts({ id: 'c\nd', sex: 'other' });
    assert.ok(store.spilledBytes > 40_000);
    const transfers = drain(store);
    assert.deepEqual(
      transfers.map((t) => t.id),
      [...ids].sort(),
    );
    for (const transfer of transfers) {
      const p = ids.indexOf(transfer.id);
      assert.deepEqual(new PatientColumns(transfer).measurements(codes.values).map((m) => m.value), [p, 10 + p, 20 + p, 30 + p], transfer.id.slice(0, 10));
    }
    assert.equal(transfers.find((t) => t.id === 'c\nd')!.facts.sex, 'other');
    store.close();
  });

  it('spills when the extras outgrow their share of memory, and gives back any text as it came', () => {
    // Few rows (never enough to fill the log of 1,000) but long record ids in every script: the
    // extras' bytes (32 per row of the log, 32,000 here) send the log to the file.
    const pieces = ['é', '😀', '\u2028', '"quoted"', 'back\\slash', '\ud800', 'Ω'.repeat(40), 'x'.repeat(500)];
    const input: SourceMeasurement[] = [];
    for (let i = 0; i < 400; i++) {
      // Two ids that UTF-8 would both turn into "Q-2-long-id-\ufffd" stay two patients.
      const patientId = i % 3 < 2 ? `Q-${i % 3}` : i % 2 === 0 ? 'Q-2-long-id-\ud800' : 'Q-2-long-id-\udbff';
      const recordId = `MedicationAdministration/${pieces[i % pieces.length]!.repeat(1 + (i % 4))}-${i}`;
      input.push({ patientId, concept: 'antibiotic', value: 1, unit: '1', time: new Date(Date.UTC(2026, 0, 5) + i * 60_000).toISOString(), provenance: { source: 'fhir', recordId } });
    }
    const dir = path.join(tmp, 'extras');
    fs.mkdirSync(dir);
    const codes = new Codes();
    const store = new PatientStore(codes, { memoryRows: 1000, dir });
    for (const m of input) store.push(m, true);
    assert.ok(store.spilledBytes > 0, 'the extras sent the log to the file');
    const transfers = drain(store);
    assert.deepEqual(
      transfers.map((t) => t.id),
      ['Q-0', 'Q-1', 'Q-2-long-id-\ud800', 'Q-2-long-id-\udbff'],
    );
    for (const transfer of transfers) {
      const id = transfer.id;
      const got = new PatientColumns(transfer).measurements(codes.values);
      const expected = input
        .filter((m) => m.patientId === id)
        .map((m) => ({ patientId: m.patientId, concept: m.concept, value: m.value, unit: m.unit, time: m.time, provenance: m.provenance }));
      assert.deepEqual(got, expected, id);
    }
    store.close();
  });

  it('writes instants as toISOString does', () => {
    const times = [0, 1, 999, 951_782_400_000, 951_868_799_999, 1_767_571_200_000, 1_767_571_200_000, 1_767_657_599_999, 253_402_300_799_999, 253_402_300_800_000, -1, -62_198_755_200_000, 1.5];
    // And instants anywhere in 1970-9999, some on a grid of minutes (times of day repeat).
    let seed = 7;
    const random = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    for (let i = 0; i < 2000; i++) times.push(Math.floor(random() * 253_402_300_800_000), Math.floor(random() * 2_000_000_000) * 60_000);
    const block = new Block(times.length);
    const codes = new Codes();
    times.forEach((time, r) => {
      block.time[r] = time;
      block.end[r] = r % 2 === 0 ? Number.NaN : time + 1;
      block.concept[r] = codes.of('creatinine');
      block.unit[r] = codes.of('mg/dL');
    });
    const columns = new PatientColumns({ id: 'P', siteId: null, facts: { id: 'P', birthDate: null, sex: null, deceasedAt: null }, length: times.length, lastTime: 0, block: block.buffer, extras: [] });
    const list = columns.measurements(codes.values);
    assert.deepEqual(
      list.map((m) => m.time),
      times.map((time) => new Date(time).toISOString()),
    );
    assert.deepEqual(
      list.map((m) => m.endTime),
      times.map((time, r) => (r % 2 === 0 ? undefined : new Date(time + 1).toISOString())),
    );
  });

  it('cuts a chunk of long lines into the lines of decoding it whole (pieces decoded apart)', () => {
    // Lines of up to 100 kB (longer than a decoded piece), characters of 1 to 4 bytes, invalid
    // UTF-8 right before a line end, CRLF, empty lines, a byte order mark, no final newline.
    let seed = 3;
    const random = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    for (const ascii of [true, false]) {
      const parts: Buffer[] = [Buffer.from(ascii ? '' : '\ufeff')];
      for (let i = 0; i < 300; i++) {
        const length = Math.floor(random() ** 3 * 100_000);
        const text = 'x'.repeat(length).replace(/x/g, () => (ascii || random() < 0.9 ? String.fromCharCode(97 + Math.floor(random() * 26)) : ['é', '☃', '😀'][Math.floor(random() * 3)]!));
        parts.push(Buffer.from(text), ...(ascii || i % 7 !== 0 ? [] : [Buffer.from([0xe2, 0x98])]), Buffer.from(i % 5 === 0 ? '\r\n' : '\n'));
      }
      parts.push(Buffer.from('last'));
      const bytes = Buffer.concat(parts);
      const whole = bytes.toString('utf8').split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
      whole[0] = whole[0]!.replace(/^\ufeff/, '');
      const buffer = new ArrayBuffer(bytes.length + 10);
      bytes.copy(new Uint8Array(buffer));
      assert.deepEqual(chunkLines(buffer, bytes.length, true), whole, ascii ? 'ASCII' : 'UTF-8');
    }
  });

  it('screens the same through the temporary file, in one thread and on worker threads', async () => {
    const dir = path.join(tmp, 'fhir');
    const report = await exportFhirNdjson(syntheticCohort({ patients: 12, seed: 8, days: 3 }), dir);
    assert.ok(report.measurements > 1000);
    const screen = async (options: Partial<ScreenOptions>): Promise<string> => {
      const patients: PatientScreen[] = [];
      const summary = await runScreen([dir], { dictionary: defaultConceptDictionary(), ...options, onPatient: (p) => patients.push(p), now: () => 0 });
      return JSON.stringify({ patients, summary });
    };
    const reference = await screen({ workers: 1 });
    // Cited provenance travels through the file too (Sepsis-3 names its culture records).
    assert.ok(reference.includes('"culture":{"time":"2026-01-04T21:09:00.000Z","id":"DiagnosticReport/SYN-000001-1"}'));
    const tempDir = path.join(tmp, 'spill');
    fs.mkdirSync(tempDir);
    for (const workers of [1, 2]) {
      for (const memoryMeasurements of [1, 97, 5000]) {
        assert.equal(await screen({ workers, memoryMeasurements, tempDir, chunkRecords: 500 }), reference, `${workers} workers, ${memoryMeasurements} measurements in memory`);
        assert.deepEqual(fs.readdirSync(tempDir), []);
      }
    }
    // Threads replaced while assessing (here after every batch: any heap is over one byte).
    assert.equal(await screen({ workers: 2, recycleWorkerHeapBytes: 1, chunkRecords: 500 }), reference, 'threads replaced after every batch');
  });
});
