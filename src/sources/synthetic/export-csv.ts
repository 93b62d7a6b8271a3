/**
 * Writes a synthetic cohort as the simple measurement CSV
 * (patient_id,time,concept,value,unit,end_time; see src/sources/measurement-csv.ts), one file,
 * optionally gzipped. FiO2 is written in percent, the rest in canonical units.
 */
import path from 'node:path';
import { decimalRound } from '../../clinical/numeric.ts';
import { CONCEPT_UNITS } from '../../clinical/units.ts';
import { csvField } from '../csv-record.ts';
import type { SyntheticRecord } from './cohort.ts';
import type { ExportOptions, ExportReport } from './export-fhir.ts';
import { LineWriter } from './line-writer.ts';

export const SIMPLE_CSV_HEADER = 'patient_id,time,concept,value,unit,end_time';

export async function exportSimpleCsv(records: Iterable<SyntheticRecord>, dir: string, options: ExportOptions = {}): Promise<ExportReport> {
  const writer = new LineWriter(path.join(dir, `measurements.csv${options.gzip === true ? '.gz' : ''}`));
  await writer.line(SIMPLE_CSV_HEADER);
  let patients = 0;
  let measurements = 0;
  for (const { patient, measurements: list } of records) {
    patients++;
    for (const m of list) {
      measurements++;
      const [value, unit] = m.concept === 'fio2' ? [decimalRound(m.value * 100), '%'] : [m.value, CONCEPT_UNITS[m.concept].canonicalUnit];
      await writer.line([patient.id, m.time, m.concept, value, unit, m.endTime ?? ''].map(csvField).join(','));
    }
  }
  await writer.close();
  return { files: [{ path: writer.path, lines: writer.lines, bytes: writer.bytes }], patients, measurements };
}
