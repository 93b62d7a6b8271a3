/**
 * MIMIC-IV tables (hosp and icu modules, CSV as published on PhysioNet) -> canonical
 * measurements, through the MIMIC-IV items of the concept dictionary.
 *
 * What mimic-code's conventions link across rows is kept in each measurement's `context`
 * (MeasurementContext, src/clinical/types.ts): the hospital admission as encounterId "hadm/<id>"
 * and the ICU stay as stayId "stay/<id>" (the ids of the StayRecords admissions and icustays
 * yield), the lab specimen as specimenId, an O2 device's storetime and text as recordedAt and
 * sourceText, an arterial pO2's specimen as specimen. The raw keys
 * (subject_id, hadm_id, stay_id, specimen_id, itemid) stay beside them. Chart times are kept as
 * charted, and the record id names the row (labevent_id, or the stay, item and chart time of
 * chartevents, which has no row id).
 *
 * Each charted GCS response is a measurement of its own (gcs_motor, gcs_verbal, gcs_eyes),
 * heart rates and O2 flows are imported, O2 devices and ventilator modes are categories
 * (oxygen_device, ventilator_mode) from which the flag mechanical_ventilation is derived.
 *
 * Three canonical values span rows and need the chunks of a table in order with one shared
 * ParserState (see import-format.ts):
 * - GCS: MIMIC-IV charts the three components; the total is their sum at one chart time of a
 *   stay (a verbal response charted as intubated is flagged for the SOFA presets, see settleGcs).
 * - Urine output: a charted volume is what was collected since the previous charting of the
 *   stay (mimic-code's urine_output_rate.sql), so its interval starts at that charting, or at
 *   the ICU admission (icustays.intime, read first) for the first one.
 * - Blood gases: a pO2 is PaO2 only in an arterial specimen, and the specimen type is another
 *   row of the same specimen_id (itemid 52033), before or after it: a pO2 is held until that row
 *   is read (see holdPo2 and bloodGasType).
 * Times are MIMIC-IV's zone-less timestamps read as UTC.
 */
import { type BloodSpecimen, type Concept, type IsoDateTime, RESPIRATORY_SUPPORT } from '../../clinical/types.ts';
import { ChunkCollector, checkPatientId } from '../collect.ts';
import type { MimicItemMapping } from '../concepts/dictionary.ts';
import { splitCsvRecord } from '../csv-record.ts';
import type { MimicTable, ParseContext, ParseResult, ParserState, SourceMeasurement } from '../import-format.ts';
import { parseNaiveTimestamp } from '../time.ts';

export const MIMIC_SOURCE = 'mimic-iv';

/** The columns each table must have (a subset of the published ones; others are ignored). */
export const MIMIC_COLUMNS: Readonly<Record<MimicTable, readonly string[]>> = {
  patients: ['subject_id', 'gender'],
  admissions: ['subject_id', 'hadm_id', 'admittime', 'dischtime', 'deathtime'],
  icustays: ['subject_id', 'hadm_id', 'stay_id', 'intime', 'outtime'],
  labevents: ['labevent_id', 'subject_id', 'hadm_id', 'specimen_id', 'itemid', 'charttime', 'value', 'valuenum', 'valueuom'],
  chartevents: ['subject_id', 'hadm_id', 'stay_id', 'charttime', 'itemid', 'value', 'valuenum', 'valueuom'],
  inputevents: ['subject_id', 'hadm_id', 'stay_id', 'starttime', 'endtime', 'itemid', 'amount', 'amountuom', 'rate', 'rateuom', 'orderid', 'patientweight'],
  outputevents: ['subject_id', 'hadm_id', 'stay_id', 'charttime', 'itemid', 'value', 'valueuom'],
  microbiologyevents: ['subject_id', 'hadm_id', 'micro_specimen_id', 'chartdate', 'charttime'],
  prescriptions: ['subject_id', 'hadm_id', 'pharmacy_id', 'starttime', 'drug', 'route'],
  emar: ['subject_id', 'hadm_id', 'emar_id', 'charttime', 'medication', 'event_txt'],
};

/** Tables whose rows other tables look up (read first, and re-read on resume). */
export const MIMIC_LOOKUP_TABLES: readonly MimicTable[] = ['icustays'];
/** GCS groups (and blood-gas specimens) held before the oldest is settled (bounded memory on unsorted files). */
const MAX_OPEN_GROUPS = 50_000;
/** labevents: the specimen type of a blood gas (mimic-code bg.sql), a text row of the gas's specimen_id. */
const BG_SPECIMEN_ITEM = 52033;
/** The specimen types MIMIC-IV charts in item 52033. */
const BG_SPECIMEN_TYPES: Readonly<Record<string, BloodSpecimen>> = { 'ART.': 'arterial', 'VEN.': 'venous', 'MIX.': 'mixed-venous' };
/** The GCS response concepts, by the dictionary's gcsComponent. */
const GCS_RESPONSE: Readonly<Record<'motor' | 'verbal' | 'eyes', Concept>> = { motor: 'gcs_motor', verbal: 'gcs_verbal', eyes: 'gcs_eyes' };
/** eMAR events that mean the drug was given. */
const EMAR_GIVEN = new Set(['Administered', 'Started', 'Restarted', 'Confirmed', 'Delayed Administered', 'Partial Administered']);

type Row = (column: string) => string;

interface GcsGroup {
  key: string;
  lineNumber: number;
  patientId: string;
  time: IsoDateTime;
  charttime: string;
  context: Record<string, string | number>;
  motor?: number;
  verbal?: number;
  eyes?: number;
  intubatedTotal?: number;
}

/** A blood-gas specimen: its type as charted once the 52033 row is read, and the pO2 values waiting for it. */
interface BloodGasSpecimen {
  /** undefined until the type row is read ('ART.', 'VEN.', 'MIX.' ...). */
  type: string | undefined;
  pending: SourceMeasurement[];
}

interface UrineMemory {
  /** Latest chart time of the stay and the one before it (for rows at the same time). */
  current: IsoDateTime;
  previous: IsoDateTime | undefined;
}

export function parseMimicRows(table: MimicTable, lines: readonly string[], context: ParseContext): ParseResult {
  const out = new ChunkCollector(context, MIMIC_SOURCE);
  let rows = lines;
  let lineNumbers = context.lineNumbers;
  let headerLine = context.header;
  if (headerLine === undefined) {
    headerLine = rows[0] ?? '';
    rows = rows.slice(1);
    lineNumbers = lineNumbers?.slice(1);
  }
  const firstLine = context.header === undefined ? context.firstLineNumber + 1 : context.firstLineNumber;
  const header = splitCsvRecord(headerLine);
  const columns = new Map<string, number>();
  if (header.ok) header.fields.forEach((name, index) => columns.set(name.trim().toLowerCase(), index));
  const missing = MIMIC_COLUMNS[table].filter((c) => !columns.has(c));
  if (!header.ok || missing.length > 0) {
    out.issueAt(
      'error',
      'structure',
      `not a MIMIC-IV ${table} table: ${header.ok ? `missing column(s) ${missing.join(', ')}` : header.reason} (header: ${headerLine.slice(0, 200)})`,
      ['line 1'],
    );
    out.result.records += rows.length;
    out.result.rejected += rows.length;
    return out.result;
  }
  const state = context.state;
  // GCS groups need a state; without a shared one they are settled at the end of this chunk.
  const groupState = state ?? { groups: new Map(), memory: new Map(), lookups: new Map() };
  const seenInChunk = new Set<string>();
  for (let index = 0; index < rows.length; index++) {
    const line = rows[index]!;
    if (line === '') continue;
    const lineNumber = lineNumbers?.[index] ?? firstLine + index;
    out.begin(lineNumber);
    const split = splitCsvRecord(line);
    if (!split.ok) {
      out.error('structure', `malformed CSV row: ${split.reason}`);
      out.end();
      continue;
    }
    const fields = split.fields;
    if (fields.length !== columns.size) {
      out.error('structure', `the row has ${fields.length} fields, the header ${columns.size}`);
      out.end();
      continue;
    }
    const row: Row = (column) => fields[columns.get(column)!] ?? '';
    const subject = row('subject_id').trim();
    const problem = checkPatientId(subject);
    if (problem !== undefined) {
      out.error('required', `subject_id: ${problem}`);
      out.end();
      continue;
    }
    READERS[table](row, subject, { out, state, groupState, lineNumber, seenInChunk, table });
    out.end();
  }
  if (state === undefined) {
    for (const open of [...gcsGroups(groupState).values()]) settleGcs(open, out, groupState);
    settleBloodGases(out, groupState);
  }
  return out.result;
}

/** Settles what is still open at the end of a table (incomplete GCS groups, pO2 values whose specimen type never came). */
export function finishMimicTable(table: MimicTable, context: ParseContext): ParseResult {
  const out = new ChunkCollector(context, MIMIC_SOURCE);
  if (table === 'chartevents' && context.state) {
    for (const group of [...gcsGroups(context.state).values()]) settleGcs(group, out, context.state);
  }
  if (table === 'labevents' && context.state) settleBloodGases(out, context.state);
  return out.result;
}

interface ReadContext {
  out: ChunkCollector;
  /** The shared per-file state, if the caller keeps one. */
  state: ParserState | undefined;
  /** Where GCS groups live: the shared state, or one local to the chunk. */
  groupState: ParserState;
  lineNumber: number;
  seenInChunk: Set<string>;
  table: MimicTable;
}

type Reader = (row: Row, subject: string, rc: ReadContext) => void;

const READERS: Record<MimicTable, Reader> = {
  patients(row, subject, { out }) {
    const gender = row('gender').trim().toUpperCase();
    out.result.patients.push({ id: subject, ...(gender === 'F' ? { sex: 'female' as const } : gender === 'M' ? { sex: 'male' as const } : {}) });
    out.produced();
  },

  admissions(row, subject, { out }) {
    const hadm = row('hadm_id').trim();
    const admit = optionalTime(row('admittime'), 'admittime', out);
    const discharge = optionalTime(row('dischtime'), 'dischtime', out);
    const death = optionalTime(row('deathtime'), 'deathtime', out);
    if (out.failed) return;
    out.result.stays.push({ id: `hadm/${hadm}`, patientId: subject, kind: 'hospital', ...(admit ? { start: admit } : {}), ...(discharge ? { end: discharge } : {}) });
    if (death !== undefined) out.result.patients.push({ id: subject, deceasedAt: death });
    out.produced();
  },

  icustays(row, subject, { out, state }) {
    const stay = row('stay_id').trim();
    const hadm = row('hadm_id').trim();
    const intime = optionalTime(row('intime'), 'intime', out);
    const outtime = optionalTime(row('outtime'), 'outtime', out);
    if (out.failed) return;
    if (stay === '') {
      out.error('required', 'stay_id is empty');
      return;
    }
    out.result.stays.push({
      id: `stay/${stay}`,
      patientId: subject,
      kind: 'icu',
      admissionId: `hadm/${hadm}`,
      ...(intime ? { start: intime } : {}),
      ...(outtime ? { end: outtime } : {}),
    });
    if (intime !== undefined) state?.lookups.set(`intime|${stay}`, intime);
    out.produced();
  },

  labevents(row, subject, rc) {
    const { out, table } = rc;
    const itemid = Number(row('itemid'));
    if (itemid === BG_SPECIMEN_ITEM) {
      bloodGasType(row, rc);
      return;
    }
    const match = out.dictionary.mimicItem('labevents', itemid);
    if (match === undefined) {
      out.unmapped(`${table}|${row('itemid')}`);
      return;
    }
    const time = requiredTime(row('charttime'), 'charttime', out);
    if (time === undefined) return;
    const specimenId = row('specimen_id').trim();
    const gas = match.concept === 'pao2' ? bloodGasSpecimens(rc.groupState).get(specimenId) : undefined;
    const arterial = gas?.type !== undefined && BG_SPECIMEN_TYPES[gas.type] === 'arterial';
    if (match.concept === 'pao2' && gas?.type !== undefined && !arterial) {
      out.unmapped(`${table}|${itemid}|specimen ${gas.type}`);
      return;
    }
    const value = numericValue(row, match.mapping, match.concept, out, table);
    if (value === undefined) return;
    const added = out.measure({
      patientId: subject,
      concept: match.concept,
      value: value.value,
      unit: value.unit,
      time,
      recordId: `labevents/${row('labevent_id').trim()}`,
      context: compact({
        subject_id: subject,
        hadm_id: row('hadm_id'),
        specimen_id: specimenId,
        itemid,
        ...encounterOf(row),
        specimenId,
        ...(arterial ? { specimen: 'arterial' } : {}),
      }),
    });
    if (added && match.concept === 'pao2' && gas?.type === undefined) holdPo2(specimenId, rc);
  },

  chartevents(row, subject, rc) {
    const { out, table } = rc;
    const itemid = Number(row('itemid'));
    const match = out.dictionary.mimicItem('chartevents', itemid);
    if (match === undefined) {
      out.unmapped(`${table}|${row('itemid')}`);
      return;
    }
    const charttime = row('charttime').trim();
    const time = requiredTime(charttime, 'charttime', out);
    if (time === undefined) return;
    const stay = row('stay_id').trim();
    const { mapping, concept } = match;
    const storetime = concept === 'oxygen_device' ? parseNaiveTimestamp(row('storetime')) : undefined;
    const context = compact({
      subject_id: subject,
      hadm_id: row('hadm_id'),
      stay_id: stay,
      itemid,
      ...encounterOf(row),
      ...(storetime?.ok === true ? { recordedAt: storetime.iso } : {}),
    });
    if (mapping.gcsComponent !== undefined) {
      gcsComponent(row, subject, time, charttime, stay, mapping, context, rc);
      return;
    }
    let value: number;
    let unit: string;
    if (mapping.values !== undefined) {
      const text = row('value');
      const mapped = mapping.values[text] ?? mapping.values[text.trim()];
      if (mapped === undefined) {
        out.unmapped(`${table}|${itemid}|${text.trim()}`);
        return;
      }
      value = mapped;
      unit = mapping.unit ?? '1';
      // A code read from text keeps the text (mimic-code orders O2 devices charted at one time by it).
      if (concept === 'oxygen_device') context.sourceText = text;
    } else {
      const numeric = numericValue(row, mapping, concept, out, table);
      if (numeric === undefined) return;
      ({ value, unit } = numeric);
    }
    const recordId = `chartevents/${stay}/${itemid}/${charttime}`;
    const added = out.measure({ patientId: subject, concept, value, unit, time, recordId, context });
    // The flag the SOFA engine reads, from the same row: invasive ventilation is 1, none to
    // non-invasive ventilation 0; a tracheostomy is neither (mimic-code keeps it apart).
    if (added && (concept === 'oxygen_device' || concept === 'ventilator_mode') && value <= RESPIRATORY_SUPPORT.invasiveVentilation) {
      out.measure({ patientId: subject, concept: 'mechanical_ventilation', value: value === RESPIRATORY_SUPPORT.invasiveVentilation ? 1 : 0, unit: '1', time, recordId, context });
    }
  },

  inputevents(row, subject, { out, table }) {
    const itemid = Number(row('itemid'));
    const match = out.dictionary.mimicItem('inputevents', itemid);
    if (match === undefined) {
      out.unmapped(`${table}|${row('itemid')}`);
      return;
    }
    const start = requiredTime(row('starttime'), 'starttime', out);
    const end = requiredTime(row('endtime'), 'endtime', out);
    if (start === undefined || end === undefined) return;
    const rateText = row('rate').trim();
    if (rateText === '') {
      // A bolus (amount without rate) is not an infusion rate: not a SOFA input.
      out.unmapped(`${table}|${itemid}|(no rate)`);
      return;
    }
    const rate = Number(rateText);
    if (!Number.isFinite(rate)) {
      out.error('value', `rate "${rateText}" is not a number`);
      return;
    }
    const weightText = row('patientweight').trim();
    const weight = weightText === '' ? undefined : Number(weightText);
    let unit = row('rateuom').trim() || (match.mapping.unit ?? '');
    // mimic-code norepinephrine.sql: rows charted in mg/kg/min with a weight of 1 are documentation
    // errors whose rate is already in mcg/kg/min (the other mg/kg/min rows are converted).
    if (match.concept === 'norepinephrine' && unit === 'mg/kg/min' && weight === 1) unit = 'mcg/kg/min';
    out.measure({
      patientId: subject,
      concept: match.concept,
      value: rate,
      unit,
      time: start,
      endTime: end,
      recordId: `inputevents/${row('orderid').trim()}/${itemid}/${row('starttime').trim()}`,
      context: compact({ subject_id: subject, hadm_id: row('hadm_id'), stay_id: row('stay_id'), itemid, linkorderid: row('linkorderid'), ...encounterOf(row) }),
      options: weight !== undefined && Number.isFinite(weight) && weight > 0 ? { bodyWeightKg: weight } : {},
    });
  },

  outputevents(row, subject, { out, state, table }) {
    const itemid = Number(row('itemid'));
    const match = out.dictionary.mimicItem('outputevents', itemid);
    if (match === undefined) {
      out.unmapped(`${table}|${row('itemid')}`);
      return;
    }
    const charttime = row('charttime').trim();
    const time = requiredTime(charttime, 'charttime', out);
    if (time === undefined) return;
    const numeric = numericValue(row, match.mapping, match.concept, out, table, 'value');
    if (numeric === undefined) return;
    const stay = row('stay_id').trim();
    const context = compact({ subject_id: subject, hadm_id: row('hadm_id'), stay_id: stay, itemid, charttime: time, ...encounterOf(row) });
    const recordId = `outputevents/${stay}/${itemid}/${charttime}`;
    if (match.concept !== 'urine_output' || state === undefined) {
      out.measure({ patientId: subject, concept: match.concept, value: numeric.value, unit: numeric.unit, time, recordId, context });
      return;
    }
    // Volume collected since the previous charting of the stay (or the ICU admission).
    const key = `uo|${stay}`;
    const memory = state.memory.get(key) as UrineMemory | undefined;
    let start: IsoDateTime | undefined;
    if (memory === undefined) {
      start = state.lookups.get(`intime|${stay}`) as IsoDateTime | undefined;
      state.memory.set(key, { current: time, previous: undefined });
    } else if (time > memory.current) {
      start = memory.current;
      state.memory.set(key, { current: time, previous: memory.current });
    } else if (time === memory.current) {
      start = memory.previous ?? (state.lookups.get(`intime|${stay}`) as IsoDateTime | undefined);
    } else {
      out.warning('value', `urine charted at ${charttime} after a later charting of stay ${stay}: kept as a point at its chart time (the file is not in time order)`);
      start = undefined;
    }
    if (start !== undefined && start > time) start = undefined; // charted before the recorded ICU admission
    out.measure({
      patientId: subject,
      concept: match.concept,
      value: numeric.value,
      unit: numeric.unit,
      time: start ?? time,
      endTime: start === undefined ? undefined : time,
      recordId,
      context,
    });
  },

  microbiologyevents(row, subject, { out, seenInChunk }) {
    const specimen = row('micro_specimen_id').trim();
    const recordId = `microbiologyevents/${specimen}`;
    // One row per organism and antibiotic: the specimen is one culture.
    if (seenInChunk.has(recordId)) {
      out.produced();
      return;
    }
    const charttime = row('charttime').trim();
    const time = requiredTime(charttime !== '' ? charttime : row('chartdate'), charttime !== '' ? 'charttime' : 'chartdate', out);
    if (time === undefined) return;
    seenInChunk.add(recordId);
    out.measure({
      patientId: subject,
      concept: 'culture',
      value: 1,
      unit: '1',
      time,
      recordId,
      context: compact({ subject_id: subject, hadm_id: row('hadm_id'), micro_specimen_id: specimen, spec_type_desc: row('spec_type_desc'), ...encounterOf(row) }),
    });
  },

  prescriptions(row, subject, { out, table }) {
    drugEvent(row, subject, out, table, row('drug'), row('route'), 'starttime', `prescriptions/${row('pharmacy_id').trim()}/${row('drug').trim()}`);
  },

  emar(row, subject, { out, table }) {
    const event = row('event_txt').trim();
    if (!EMAR_GIVEN.has(event)) {
      out.unmapped(`${table}|event_txt|${event}`);
      return;
    }
    drugEvent(row, subject, out, table, row('medication'), undefined, 'charttime', `emar/${row('emar_id').trim()}`);
  },
};

function drugEvent(row: Row, subject: string, out: ChunkCollector, table: MimicTable, drug: string, route: string | undefined, timeColumn: string, recordId: string): void {
  const match = out.dictionary.mimicDrug(drug, route);
  if (match === undefined) {
    out.unmapped(`${table}|drug`);
    return;
  }
  const time = requiredTime(row(timeColumn), timeColumn, out);
  if (time === undefined) return;
  if (match.kind === 'medication') {
    out.result.administrations.push({ patientId: subject, medication: match.id, time, recordId });
    out.produced();
    return;
  }
  out.measure({ patientId: subject, concept: match.concept, value: 1, unit: '1', time, recordId, context: compact({ subject_id: subject, hadm_id: row('hadm_id'), drug: drug.trim(), ...encounterOf(row) }) });
}

/** MeasurementContext's encounterId and stayId of a row: the ids of the admissions / icustays StayRecords. */
function encounterOf(row: Row): { encounterId?: string; stayId?: string } {
  const hadm = row('hadm_id').trim();
  const stay = row('stay_id').trim();
  return { ...(hadm === '' ? {} : { encounterId: `hadm/${hadm}` }), ...(stay === '' ? {} : { stayId: `stay/${stay}` }) };
}

// ---------------------------------------------------------------------------------------------
// Blood gases: a pO2 is PaO2 only in an arterial specimen (mimic-code bg.sql).

function bloodGasSpecimens(state: ParserState): Map<string, BloodGasSpecimen> {
  let specimens = state.groups.get('bg') as Map<string, BloodGasSpecimen> | undefined;
  if (specimens === undefined) {
    specimens = new Map();
    state.groups.set('bg', specimens);
  }
  return specimens;
}

/** The specimen, created when first seen; the oldest is settled when too many are open. */
function bloodGasSpecimen(specimenId: string, out: ChunkCollector, state: ParserState): BloodGasSpecimen {
  const specimens = bloodGasSpecimens(state);
  let specimen = specimens.get(specimenId);
  if (specimen === undefined) {
    specimen = { type: undefined, pending: [] };
    specimens.set(specimenId, specimen);
    if (specimens.size > MAX_OPEN_GROUPS) {
      const [oldestId, oldest] = specimens.entries().next().value!;
      specimens.delete(oldestId);
      for (const m of oldest.pending) dropPo2(m, oldest.type, out);
    }
  }
  return specimen;
}

/**
 * The pO2 just measured (the last measurement of the chunk) waits for its specimen type. A pO2
 * without a specimen id can never be paired: it is not PaO2.
 */
function holdPo2(specimenId: string, rc: ReadContext): void {
  const m = rc.out.result.measurements.pop()!;
  if (specimenId === '') {
    dropPo2(m, undefined, rc.out);
    return;
  }
  bloodGasSpecimen(specimenId, rc.out, rc.groupState).pending.push(m);
}

/** A 52033 row: the specimen's type, which releases (or drops) the pO2 values waiting for it. */
function bloodGasType(row: Row, rc: ReadContext): void {
  const specimenId = row('specimen_id').trim();
  if (specimenId === '') return;
  const text = row('value').trim();
  if (text === '') return;
  const specimen = bloodGasSpecimen(specimenId, rc.out, rc.groupState);
  // bg.sql takes the MAX of a specimen's type rows. A specimen charted twice with different
  // types is not met in MIMIC-IV; a pO2 released as arterial before a later 'VEN.' row stays so.
  if (specimen.type === undefined || text > specimen.type) specimen.type = text;
  const arterial = BG_SPECIMEN_TYPES[specimen.type] === 'arterial';
  for (const m of specimen.pending) {
    if (arterial) {
      (m.context ??= {}).specimen = 'arterial';
      rc.out.result.measurements.push(m);
    } else dropPo2(m, specimen.type, rc.out);
  }
  specimen.pending = [];
}

/** pO2 values whose specimen type never came (end of the table, or evicted). */
function settleBloodGases(out: ChunkCollector, state: ParserState): void {
  const specimens = bloodGasSpecimens(state);
  for (const specimen of specimens.values()) for (const m of specimen.pending) dropPo2(m, specimen.type, out);
  specimens.clear();
}

function dropPo2(m: SourceMeasurement, type: string | undefined, out: ChunkCollector): void {
  out.unmapped(`labevents|${String(m.context?.itemid ?? '')}|specimen ${type ?? 'not charted'}`);
}

// ---------------------------------------------------------------------------------------------
// GCS

function gcsGroups(state: ParserState): Map<string, GcsGroup> {
  let groups = state.groups.get('gcs') as Map<string, GcsGroup> | undefined;
  if (groups === undefined) {
    groups = new Map();
    state.groups.set('gcs', groups);
  }
  return groups;
}

function gcsComponent(
  row: Row,
  subject: string,
  time: IsoDateTime,
  charttime: string,
  stay: string,
  mapping: MimicItemMapping,
  context: Record<string, string | number>,
  rc: ReadContext,
): void {
  const { out } = rc;
  const component = mapping.gcsComponent!;
  const text = row('value').trim();
  let score: number | undefined;
  let intubated = false;
  if (mapping.intubatedValue !== undefined && text === mapping.intubatedValue) intubated = true;
  else {
    score = Number(row('valuenum'));
    const max = component === 'motor' ? 6 : component === 'verbal' ? 5 : 4;
    if (row('valuenum').trim() === '' || !Number.isInteger(score) || score < 1 || score > max) {
      out.error('value', `GCS ${component} "${row('valuenum') || text}" is not a score from 1 to ${max}`);
      return;
    }
  }
  // The response itself, as charted: mimic-code's gcs.sql carries each one forward on its own.
  out.measure({
    patientId: subject,
    concept: GCS_RESPONSE[component],
    value: intubated ? 1 : score!,
    unit: '{score}',
    time,
    recordId: `chartevents/${stay}/${mapping.itemid}/${charttime}`,
    context,
    ...(intubated ? { qualifiers: { gcsVerbalIntubated: true } } : {}),
  });
  const state = rc.groupState;
  const groups = gcsGroups(state);
  const key = `${stay}|${charttime}`;
  let group = groups.get(key);
  if (group === undefined) {
    const { itemid: _itemid, recordedAt: _recordedAt, ...groupContext } = context;
    group = { key, lineNumber: rc.lineNumber, patientId: subject, time, charttime, context: groupContext };
    groups.set(key, group);
    if (groups.size > MAX_OPEN_GROUPS) {
      const oldest = groups.values().next().value;
      if (oldest !== undefined) settleGcs(oldest, out, state);
    }
  }
  if (intubated) group.intubatedTotal = mapping.intubatedTotal ?? 15;
  else group[component] = score;
  out.produced();
  if (group.motor !== undefined && group.eyes !== undefined && (group.verbal !== undefined || group.intubatedTotal !== undefined)) {
    settleGcs(group, out, state);
  }
}

/**
 * The GCS total of a group. A verbal response charted as intubated is scored 1 ("8T": the
 * total as charted) and flagged, so each SOFA preset applies its own convention (mimic-iv and
 * ricu score such a GCS as 15); when the motor or eye response is missing too, the total is
 * the dictionary's `intubatedTotal` (15, as mimic-code's gcs.sql sets it).
 */
function settleGcs(group: GcsGroup, out: ChunkCollector, state: ParserState): void {
  gcsGroups(state).delete(group.key);
  let total: number;
  const intubated = group.intubatedTotal !== undefined;
  if (intubated) {
    total = group.motor !== undefined && group.eyes !== undefined ? group.motor + 1 + group.eyes : group.intubatedTotal!;
  } else if (group.motor !== undefined && group.verbal !== undefined && group.eyes !== undefined) {
    total = group.motor + group.verbal + group.eyes;
  } else {
    const missing = (['motor', 'verbal', 'eyes'] as const).filter((c) => group[c] === undefined);
    out.issueAt('warning', 'incomplete', `GCS of stay ${String(group.context.stay_id)} at ${group.charttime}: no ${missing.join(', ')} charted at that time, so no total`, [`line ${group.lineNumber}`]);
    return;
  }
  out.measure({
    patientId: group.patientId,
    concept: 'gcs',
    value: total,
    unit: '{score}',
    time: group.time,
    recordId: `chartevents/${String(group.context.stay_id)}/gcs/${group.charttime}`,
    context: group.context,
    ...(intubated ? { qualifiers: { gcsVerbalIntubated: true } } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// Values and times

/** The numeric value and unit of a row: valuenum (or `value` for outputevents) with the row's or the item's unit. */
function numericValue(row: Row, mapping: MimicItemMapping, concept: Concept, out: ChunkCollector, table: MimicTable, column = 'valuenum'): { value: number; unit: string } | undefined {
  const text = row(column).trim();
  if (text === '') {
    // Text results ("___", "ERROR", "<0.5") carry no number: nothing to import.
    out.unmapped(`${table}|${mapping.itemid}|(no numeric value)`);
    return undefined;
  }
  const value = Number(text);
  if (!Number.isFinite(value)) {
    out.error('value', `${column} "${text}" is not a number (item ${mapping.itemid}, ${concept})`);
    return undefined;
  }
  const rowUnit = row('valueuom').trim();
  const unit = mapping.ignoreRowUnit === true || rowUnit === '' ? (mapping.unit ?? rowUnit) : rowUnit;
  return { value, unit };
}

function requiredTime(text: string, column: string, out: ChunkCollector): IsoDateTime | undefined {
  const time = parseNaiveTimestamp(text);
  if (time.ok) return time.iso;
  out.error(text.trim() === '' ? 'required' : 'value', `${column}: ${time.reason}`);
  return undefined;
}

function optionalTime(text: string, column: string, out: ChunkCollector): IsoDateTime | undefined {
  if (text.trim() === '') return undefined;
  return requiredTime(text, column, out);
}

function compact(values: Record<string, string | number | undefined>): Record<string, string | number> {
  const result: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (typeof value === 'string') {
      const trimmed = value.trim();
      if (trimmed !== '') result[key] = trimmed;
    } else result[key] = value;
  }
  return result;
}
