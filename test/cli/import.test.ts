import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ImportSummary } from '../../src/sources/ingest/run.ts';
import { syntheticCohort } from '../../src/sources/synthetic/cohort.ts';
import { exportFhirNdjson } from '../../src/sources/synthetic/export-fhir.ts';
import { exportMimicIv } from '../../src/sources/synthetic/export-mimic.ts';
import { testBackends } from '../support/backends.ts';
import { runCli } from '../support/cli.ts';
import { type CliDatabase, cliDatabase, withDatabase } from '../support/import.ts';

type Summary = ImportSummary & { database: string | null; dryRun: boolean };

const count = (database: CliDatabase, sql: string): Promise<number> =>
  withDatabase(database, async (db) => Number((await db.query<{ n: number }>(sql)).rows[0]?.n ?? 0));

for (const { backend, skip } of await testBackends()) {
  describe(`immunoguide import on ${backend}`, { skip }, () => {
    let database: CliDatabase;
    let fhirDir: string;
    let mimicDir: string;
    let expected: number;
    before(async () => {
      database = cliDatabase(backend);
      fhirDir = path.join(database.dir, 'fhir');
      mimicDir = path.join(database.dir, 'mimic');
      const report = await exportFhirNdjson(syntheticCohort({ patients: 12, seed: 11, days: 4 }), fhirDir, { gzip: true });
      await exportMimicIv(syntheticCohort({ patients: 3, seed: 12, days: 2 }), mimicDir);
      expected = report.measurements;
    });
    after(async () => database?.dispose());

    it('imports a FHIR Bulk Data directory (.ndjson.gz), then a second run stores nothing new', async () => {
      const first = await runCli(['import', fhirDir, '--json'], database.env);
      assert.equal(first.exitCode, 0, first.stderr);
      const summary = first.json<Summary>();
      assert.equal(summary.ok, true);
      assert.equal(summary.measurements, expected);
      assert.equal(summary.inserted, expected);
      assert.equal(summary.rejected, 0);
      assert.ok(summary.files.every((f) => f.format === 'fhir'));
      assert.equal(summary.files[0]?.path.endsWith('Patient.ndjson.gz'), true, 'Patients are read first');

      const again = await runCli(['import', fhirDir, '--json'], database.env);
      assert.equal(again.exitCode, 0);
      const second = again.json<Summary>();
      assert.equal(second.inserted, 0);
      assert.ok(second.files.every((f) => f.alreadyImported));

      // Ignoring the checkpoints re-reads every file; the provenance key still stores nothing twice.
      const forced = (await runCli(['import', fhirDir, '--json', '--no-resume'], database.env)).json<Summary>();
      assert.equal(forced.inserted, 0);
      assert.equal(forced.duplicates, expected);
      assert.equal(await count(database, 'SELECT count(*)::int AS n FROM measurement'), expected);
      assert.equal(await count(database, `SELECT count(*)::int AS n FROM patient WHERE site_id IN ('athens', 'nijmegen', 'milan')`), 12);
    });

    it('resuming a file re-reads the completed files it depends on (weights for ug/min rates)', async () => {
      const deleted = await withDatabase(database, async (db) => {
        const rows = await db.query(`DELETE FROM measurement WHERE source = 'fhir' AND record_id LIKE 'MedicationAdministration/%'`);
        await db.query(`DELETE FROM import_checkpoint WHERE path LIKE '%MedicationAdministration.ndjson.gz'`);
        return rows.affectedRows;
      });
      assert.ok(deleted > 0);
      const run = await runCli(['import', fhirDir, '--json'], database.env);
      assert.equal(run.exitCode, 0, run.stdout);
      const summary = run.json<Summary>();
      assert.equal(summary.errors, 0);
      assert.equal(summary.inserted, deleted);
      const observations = summary.files.find((f) => f.path.endsWith('Observation.ndjson.gz'));
      assert.equal(observations?.alreadyImported, true);
      assert.equal(observations?.inserted, 0);
    });

    it('imports a MIMIC-IV directory (hosp/, icu/) with --site for its patients', async () => {
      const run = await runCli(['import', mimicDir, '--site', 'boston', '--json'], database.env);
      assert.equal(run.exitCode, 0, run.stderr);
      const summary = run.json<Summary>();
      assert.deepEqual(
        summary.files.map((f) => path.relative(mimicDir, f.path)),
        ['hosp/patients.csv', 'hosp/admissions.csv', 'icu/icustays.csv', 'hosp/labevents.csv', 'icu/chartevents.csv', 'icu/inputevents.csv', 'icu/outputevents.csv', 'hosp/microbiologyevents.csv', 'hosp/prescriptions.csv'],
      );
      assert.ok(summary.inserted > 0);
      assert.ok(summary.unmapped.some((u) => u.code === 'chartevents|220210'), 'unmapped items are listed');
      assert.equal(await count(database, `SELECT count(*)::int AS n FROM patient WHERE site_id = 'boston'`), 3);
    });

    it('reports a patient whose source names another site than the stored one, and refuses its records', async () => {
      const csv = path.join(database.dir, 'moved.csv');
      fs.writeFileSync(csv, 'patient_id,time,concept,value,unit\nSYN-000001,2026-02-01T08:00:00Z,creatinine,1.1,mg/dL\n');
      const run = await runCli(['import', csv, '--site', 'boston', '--json'], database.env);
      assert.equal(run.exitCode, 1);
      const summary = run.json<Summary>();
      assert.equal(summary.inserted, 0);
      assert.match(summary.issues[0]!.diagnostics, /patient SYN-000001 belongs to site athens, but the source assigns it to boston/);
    });

    it('stores every good line of files with 1,000 malformed lines, reports each bad line by number, exits 1', async () => {
      const { fhir, csv, bad } = malformedFiles(database.dir);
      const run = await runCli(['import', fhir, csv, '--json', '--batch-size', '700'], database.env);
      assert.equal(run.exitCode, 1);
      const summary = run.json<Summary>();
      assert.equal(summary.ok, false);
      assert.equal(summary.records, 12_000);
      assert.equal(summary.rejected, 2_000);
      assert.equal(summary.inserted, 10_000);
      assert.equal(summary.errors, 2_000);
      const reported = summary.issues.filter((i) => i.severity === 'error').map((i) => `${i.file}:${i.location[0]}`);
      assert.equal(new Set(reported).size, 2_000, 'one error per bad line');
      assert.deepEqual([...reported].sort(), [...bad].sort());
      assert.match(run.stderr, /2000 record\(s\) rejected/);
      assert.equal(await count(database, `SELECT count(*)::int AS n FROM measurement WHERE source IN ('fhir', 'csv') AND patient_id LIKE 'BAD-%'`), 10_000);
    });

    it('refuses unknown formats and missing paths as usage errors, and dry-runs without a database', async () => {
      assert.equal((await runCli(['import', fhirDir, '--format', 'hl7v2'], database.env)).exitCode, 2);
      const missing = await runCli(['import', path.join(database.dir, 'nope.ndjson'), '--json'], database.env);
      assert.equal(missing.exitCode, 2);
      assert.match(missing.stdout, /no such file or directory/);
      const dry = await runCli(['import', fhirDir, '--dry-run', '--json'], { IMMUNOGUIDE_DATA_DIR: path.join(database.dir, 'never') });
      assert.equal(dry.exitCode, 0);
      assert.equal(dry.json<Summary>().measurements, expected);
      assert.equal(fs.existsSync(path.join(database.dir, 'never')), false);
    });
  });
}

/** A FHIR NDJSON and a CSV file of 6,000 lines each, every 6th line malformed in one of many ways. */
function malformedFiles(dir: string): { fhir: string; csv: string; bad: string[] } {
  const fhir = path.join(dir, 'malformed.ndjson');
  const csv = path.join(dir, 'malformed.csv');
  const bad: string[] = [];
  const fhirLines: string[] = [];
  const csvLines = ['patient_id,time,concept,value,unit'];
  const badFhir = [
    (i: number) => `{"resourceType": "Observation", "id": "x${i}", `,
    (i: number) => JSON.stringify({ ...obs(i), subject: undefined }),
    (i: number) => JSON.stringify({ ...obs(i), effectiveDateTime: '2026-01-05' }),
    (i: number) => JSON.stringify({ ...obs(i), valueQuantity: { value: 1.2, unit: 'furlongs' } }),
    (i: number) => JSON.stringify({ ...obs(i), valueQuantity: { value: 'high', unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' } }),
    (i: number) => JSON.stringify({ ...obs(i), valueQuantity: { value: -3, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' } }),
    () => '[1, 2, 3]',
  ];
  const badCsv = [
    (i: number) => `BAD-${i},not-a-time,creatinine,1.1,mg/dL`,
    (i: number) => `BAD-${i},2026-01-05T08:00:00Z,sodium,140,mmol/L`,
    (i: number) => `BAD-${i},2026-01-05T08:00:00Z,creatinine,one,mg/dL`,
    (i: number) => `BAD-${i},2026-01-05T08:00:00Z,creatinine,1.1,parsec`,
    () => `,2026-01-05T08:00:00Z,creatinine,1.1,mg/dL`,
    (i: number) => `BAD-${i},2026-01-05T08:00:00,creatinine,1.1,mg/dL`,
    (i: number) => `BAD-${i},2026-01-05T08:00:00Z,creatinine,"1.1,mg/dL`,
  ];
  for (let i = 0; i < 6000; i++) {
    const isBad = i % 6 === 5;
    if (isBad) {
      fhirLines.push(badFhir[i % badFhir.length]!(i));
      csvLines.push(badCsv[i % badCsv.length]!(i));
      bad.push(`${fhir}:line ${i + 1}`, `${csv}:line ${i + 2}`);
    } else {
      fhirLines.push(JSON.stringify(obs(i)));
      csvLines.push(`BAD-${i % 50},2026-01-05T${String(i % 24).padStart(2, '0')}:00:00Z,creatinine,${(1 + i / 10000).toFixed(4)},mg/dL`);
    }
  }
  fs.writeFileSync(fhir, `${fhirLines.join('\n')}\n`);
  fs.writeFileSync(csv, `${csvLines.join('\n')}\n`);
  return { fhir, csv, bad };
}

function obs(i: number): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    id: `m${i}`,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '2160-0' }] },
    subject: { reference: `Patient/BAD-${i % 50}` },
    effectiveDateTime: `2026-01-05T${String(i % 24).padStart(2, '0')}:00:00Z`,
    valueQuantity: { value: 1 + i / 10000, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
  };
}
