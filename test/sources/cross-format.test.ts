/**
 * Issue 4 acceptance: the same synthetic cohort of 500 patients imported as FHIR NDJSON, as
 * MIMIC-IV CSV tables and as the simple CSV yields identical canonical measurements (and the
 * generator's own), and identical daily SOFA and immune classes.
 *
 * Each export goes through the real import pipeline into one store (provenance sources fhir,
 * mimic-iv and csv side by side); the measurements are read back per source and compared as
 * sorted canonical tuples (patient, concept, value, unit, start, end). MIMIC-IV has integer
 * subject ids: they are mapped back to the synthetic ids. mHLA-DR has no MIMIC-IV item: the
 * test maps a site-local itemid in a site concepts file, as a hospital would.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { classifyTimeline } from '../../src/clinical/immune/index.ts';
import { sofaDays } from '../../src/clinical/sofa/index.ts';
import type { Measurement } from '../../src/clinical/types.ts';
import { type ConceptDictionary, loadConceptDictionary } from '../../src/sources/concepts/dictionary.ts';
import { canonicalTuple } from '../../src/sources/import-format.ts';
import { runImport } from '../../src/sources/ingest/run.ts';
import { type SyntheticRecord, syntheticCohort } from '../../src/sources/synthetic/cohort.ts';
import { exportSimpleCsv } from '../../src/sources/synthetic/export-csv.ts';
import { exportFhirNdjson } from '../../src/sources/synthetic/export-fhir.ts';
import { exportMimicIv, syntheticPatientId } from '../../src/sources/synthetic/export-mimic.ts';
import type { Database } from '../../src/store/db.ts';
import { StoreImportSink } from '../../src/store/import-sink.ts';
import { type TestDatabase, openTestDatabase, testBackends } from '../support/backends.ts';

const PATIENTS = 500;
const DAYS = 4;
const HLA_DR_ITEMID = 990_001;
const SOURCES = ['fhir', 'mimic-iv', 'csv'] as const;

describe(`one synthetic cohort of ${PATIENTS} patients as FHIR NDJSON, MIMIC-IV and simple CSV`, { timeout: 600_000 }, () => {
  let dir: string;
  let store: TestDatabase;
  let cohort: SyntheticRecord[];
  const bySource = new Map<string, Measurement[]>();

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-cross-'));
    const generate = () => syntheticCohort({ patients: PATIENTS, seed: 4242, days: DAYS });
    cohort = [...generate()];
    await exportFhirNdjson(generate(), path.join(dir, 'fhir'), { gzip: true });
    await exportMimicIv(generate(), path.join(dir, 'mimic'), { gzip: true, hlaDrItemid: HLA_DR_ITEMID });
    await exportSimpleCsv(generate(), path.join(dir, 'csv'));
    const siteFile = path.join(dir, 'site-concepts.json');
    fs.writeFileSync(
      siteFile,
      JSON.stringify({ version: 'test', concepts: { hla_dr: { mimic: [{ table: 'labevents', itemid: HLA_DR_ITEMID, label: 'mHLA-DR (Quantibrite)', unit: 'AB/cell' }] } } }),
    );
    const dictionary: ConceptDictionary = loadConceptDictionary({ IMMUNOGUIDE_CONCEPTS_FILE: siteFile });

    // PostgreSQL when the test server answers (faster), else the embedded database.
    const postgres = (await testBackends()).find((b) => b.backend === 'postgres' && b.skip === false);
    store = await openTestDatabase(postgres ? 'postgres' : 'pglite');
    const sink = new StoreImportSink(store.db);
    for (const sub of ['fhir', 'mimic', 'csv']) {
      const summary = await runImport([path.join(dir, sub)], { dictionary, sink, batchMeasurements: 50_000 });
      assert.equal(summary.errors, 0, `${sub}: ${JSON.stringify(summary.issues.slice(0, 3))}`);
      assert.equal(summary.rejected, 0, sub);
    }
    for (const source of SOURCES) bySource.set(source, await storedMeasurements(store.db, source));
  });
  after(async () => {
    await store?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores the same canonical measurements from each format, equal to the generated ones', () => {
    const truth = cohort.flatMap((r) => r.measurements.map(canonicalTuple)).sort();
    assert.ok(truth.length > 50_000);
    // MIMIC-IV says more than the generator wrote: each GCS response, the O2 device behind the
    // ventilation flag, the heart rates the export charts beside each MAP. Compared: the generated concepts.
    const generated = new Set(cohort.flatMap((r) => r.measurements.map((m) => m.concept)));
    for (const source of SOURCES) {
      const tuples = bySource.get(source)!.filter((m) => generated.has(m.concept)).map(canonicalTuple).sort();
      assert.equal(tuples.length, truth.length, source);
      const firstDifference = tuples.findIndex((t, i) => t !== truth[i]);
      assert.equal(firstDifference, -1, `${source}: ${tuples[firstDifference]} != ${truth[firstDifference]}`);
    }
  });

  it('gives identical daily SOFA scores and immune classes from each format', () => {
    const results = SOURCES.map((source) => {
      const perPatient = groupByPatient(bySource.get(source)!);
      return cohort.map(({ patient }) => {
        const own = perPatient.get(patient.id) ?? [];
        const days = sofaDays(own, { start: patient.admittedAt, days: DAYS });
        const times = days.map((d) => d.end);
        const classes = classifyTimeline(own, times).map((e) => e.classification.class);
        return { id: patient.id, sofa: days.map((d) => [d.total, d.components, d.missing]), classes };
      });
    });
    assert.deepEqual(results[1], results[0], 'MIMIC-IV = FHIR');
    assert.deepEqual(results[2], results[0], 'CSV = FHIR');
    // Not vacuous: the cohort has sick patients and all three immune states.
    const totals = results[0]!.flatMap((p) => p.sofa.map((d) => d[0] as number));
    assert.ok(Math.max(...totals) >= 10, `max daily SOFA ${Math.max(...totals)}`);
    const classes = new Set(results[0]!.flatMap((p) => p.classes));
    for (const name of ['MALS', 'immunoparalysis', 'unclassified'] as const) assert.ok(classes.has(name), name);
  });
});

/** A source's measurements as the store holds them (MIMIC-IV subject ids mapped back). */
async function storedMeasurements(db: Database, source: string): Promise<Measurement[]> {
  const rows = await db.query<{
    patient_id: string;
    concept: Measurement['concept'];
    value: number;
    unit: string;
    effective_start: Date | string;
    effective_end: Date | string | null;
    original_value: string | null;
    original_unit: string | null;
  }>(
    `SELECT patient_id, concept, value, unit, effective_start, effective_end, original_value, original_unit
       FROM measurement WHERE source = $1`,
    [source],
  );
  return rows.rows.map((row) => {
    const m: Measurement = {
      patientId: source === 'mimic-iv' ? syntheticPatientId(row.patient_id) : row.patient_id,
      concept: row.concept,
      value: row.value,
      unit: row.unit,
      time: new Date(row.effective_start).toISOString(),
    };
    if (row.effective_end !== null) m.endTime = new Date(row.effective_end).toISOString();
    if (row.original_unit !== null && row.original_unit !== row.unit) m.reported = { value: Number(row.original_value), unit: row.original_unit };
    return m;
  });
}

function groupByPatient(measurements: readonly Measurement[]): Map<string, Measurement[]> {
  const groups = new Map<string, Measurement[]>();
  for (const m of measurements) {
    const list = groups.get(m.patientId);
    if (list) list.push(m);
    else groups.set(m.patientId, [m]);
  }
  return groups;
}
