/**
 * Test support: MIMIC-IV rows written once, read two ways.
 *
 * `MimicRows` has the add* methods of MimicSofaTables (the fixture builders of conventions.test.ts
 * call them), and records each row both as the call and as a line of the published CSV table.
 * - `direct()` replays the calls into a MimicSofaTables: what read.ts collects from the files.
 * - `canonical()` parses the CSV lines with the canonical importer (src/sources/mimic/parse.ts,
 *   one shared parser state per table, icustays first, as `immunoguide import` reads them) and
 *   feeds the measurements and stays to from-measurements.ts.
 * Both are scored by mimicCodeSofa, so a difference is a difference of what reaches the collector.
 */
import { csvField } from '../../../src/sources/csv-record.ts';
import { defaultConceptDictionary } from '../../../src/sources/concepts/dictionary.ts';
import {
  type ImportIssue,
  type MimicTable,
  type SourceMeasurement,
  type StayRecord,
  createParserState,
  finishParse,
  parseChunk,
} from '../../../src/sources/import-format.ts';
import { type CanonicalMimicSofaTables, mimicSofaTablesFromMeasurements } from '../../../src/sources/mimic/sofa/from-measurements.ts';
import { naiveIso } from '../../../src/sources/mimic/sofa/hourly.ts';
import { type ChartRow, type IcuStayRow, type InputRow, type LabRow, MimicSofaTables, type OutputRow } from '../../../src/sources/mimic/sofa/tables.ts';
import { MIMIC_HEADERS } from '../../../src/sources/synthetic/export-mimic.ts';

type SofaTableName = 'icustays' | 'labevents' | 'chartevents' | 'inputevents' | 'outputevents';
const HEADER: Record<SofaTableName, string> = {
  icustays: MIMIC_HEADERS['icu/icustays'],
  labevents: MIMIC_HEADERS['hosp/labevents'],
  chartevents: MIMIC_HEADERS['icu/chartevents'],
  inputevents: MIMIC_HEADERS['icu/inputevents'],
  outputevents: MIMIC_HEADERS['icu/outputevents'],
};
/** icustays first: the urine intervals of outputevents start at the ICU admission. */
const ORDER: readonly SofaTableName[] = ['icustays', 'labevents', 'chartevents', 'inputevents', 'outputevents'];

type Call =
  | { kind: 'stay'; row: IcuStayRow }
  | { kind: 'chart'; row: ChartRow }
  | { kind: 'lab'; row: LabRow }
  | { kind: 'input'; row: InputRow }
  | { kind: 'output'; row: OutputRow };

const time = (ms: number | null): string => (ms === null ? '' : naiveIso(ms).replace('T', ' '));

export interface CanonicalRead extends CanonicalMimicSofaTables {
  measurements: SourceMeasurement[];
  stays: StayRecord[];
  issues: ImportIssue[];
}

export class MimicRows {
  readonly calls: Call[] = [];
  readonly lines: Record<SofaTableName, string[]> = { icustays: [], labevents: [], chartevents: [], inputevents: [], outputevents: [] };
  readonly #stays = new Map<number, IcuStayRow>();
  #labevent = 0;
  #order = 0;

  addIcuStay(row: IcuStayRow): void {
    this.calls.push({ kind: 'stay', row });
    this.#stays.set(row.stayId, row);
    this.#line('icustays', { subject_id: row.subjectId, hadm_id: row.hadmId, stay_id: row.stayId, intime: time(row.intime), outtime: time(row.outtime) });
  }

  addChart(row: ChartRow): void {
    this.calls.push({ kind: 'chart', row });
    const stay = row.stayId === null ? undefined : this.#stays.get(row.stayId);
    this.#line('chartevents', {
      subject_id: row.subjectId,
      hadm_id: stay?.hadmId ?? null,
      stay_id: row.stayId,
      caregiver_id: 1,
      charttime: time(row.charttime),
      storetime: time(row.storetime),
      itemid: row.itemid,
      value: row.value,
      valuenum: row.valuenum,
      warning: 0,
    });
  }

  addLab(row: LabRow): void {
    this.calls.push({ kind: 'lab', row });
    this.#line('labevents', {
      labevent_id: ++this.#labevent,
      subject_id: row.subjectId,
      hadm_id: row.hadmId,
      specimen_id: row.specimenId,
      itemid: row.itemid,
      charttime: time(row.charttime),
      storetime: time(row.charttime),
      value: row.value,
      valuenum: row.valuenum,
      priority: 'STAT',
    });
  }

  addInput(row: InputRow): void {
    this.calls.push({ kind: 'input', row });
    const stay = row.stayId === null ? undefined : this.#stays.get(row.stayId);
    const order = ++this.#order;
    this.#line('inputevents', {
      subject_id: stay?.subjectId ?? 1,
      hadm_id: stay?.hadmId ?? null,
      stay_id: row.stayId,
      caregiver_id: 1,
      starttime: time(row.starttime),
      endtime: time(row.endtime),
      storetime: time(row.endtime),
      itemid: row.itemid,
      amount: 1,
      amountuom: 'mg',
      rate: row.rate,
      rateuom: row.rateuom,
      orderid: order,
      linkorderid: order,
      patientweight: row.patientweight,
    });
  }

  addOutput(row: OutputRow): void {
    this.calls.push({ kind: 'output', row });
    const stay = row.stayId === null ? undefined : this.#stays.get(row.stayId);
    this.#line('outputevents', {
      subject_id: stay?.subjectId ?? 1,
      hadm_id: stay?.hadmId ?? null,
      stay_id: row.stayId,
      caregiver_id: 1,
      charttime: time(row.charttime),
      storetime: time(row.charttime),
      itemid: row.itemid,
      value: row.value,
      valueuom: 'ml',
    });
  }

  /** The rows as read.ts would collect them from the files. */
  direct(): MimicSofaTables {
    const tables = new MimicSofaTables();
    for (const call of this.calls) {
      if (call.kind === 'stay') tables.addIcuStay(call.row);
      else if (call.kind === 'chart') tables.addChart(call.row);
      else if (call.kind === 'lab') tables.addLab(call.row);
      else if (call.kind === 'input') tables.addInput(call.row);
      else tables.addOutput(call.row);
    }
    return tables;
  }

  /** The CSV tables through the canonical importer and from-measurements.ts. */
  canonical(): CanonicalRead {
    const { measurements, stays, issues } = this.importCanonical();
    return { ...mimicSofaTablesFromMeasurements({ measurements, stays }), measurements, stays, issues };
  }

  /** The canonical import of the CSV tables (measurements, stays and the importer's issues). */
  importCanonical(): { measurements: SourceMeasurement[]; stays: StayRecord[]; issues: ImportIssue[] } {
    const dictionary = defaultConceptDictionary();
    const measurements: SourceMeasurement[] = [];
    const stays: StayRecord[] = [];
    const issues: ImportIssue[] = [];
    const state = createParserState();
    for (const table of ORDER) {
      const context = { firstLineNumber: 2, header: HEADER[table], fileName: `${table}.csv`, dictionary, state };
      const format = `mimic-iv:${table as MimicTable}` as const;
      for (const result of [parseChunk(format, this.lines[table], context), finishParse(format, context)]) {
        measurements.push(...result.measurements);
        stays.push(...result.stays);
        issues.push(...result.issues);
      }
    }
    return { measurements, stays, issues };
  }

  #line(table: SofaTableName, values: Record<string, string | number | null>): void {
    this.lines[table].push(
      HEADER[table]
        .split(',')
        .map((column) => csvField(values[column]))
        .join(','),
    );
  }
}
