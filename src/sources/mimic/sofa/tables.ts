/**
 * The MIMIC-IV rows that mimic-code's hourly `sofa` concept reads, collected row by row into the
 * intermediate tables of mimic-code's concepts (each aggregate below names the concept file it
 * stands for). Pure: the reader (read.ts) parses the CSV files and calls `add*`; nothing here
 * does I/O, so tests feed rows directly.
 *
 * Only what SOFA needs is kept, already aggregated the way the concept aggregates it (e.g. a
 * blood gas is one specimen; a MAP is the average of the MAP items charted at one time), so
 * memory grows with the number of distinct chart times, not with the rows of the files.
 *
 * Times are MIMIC-IV's zone-less timestamps as milliseconds of the same wall-clock read as UTC.
 */

/** mimic-code's item ids (facts from MIT-LCP/mimic-code, mimic-iv/concepts). */
export const ITEM = {
  heartRate: 220045,
  /** vitalsign.sql: mbp. */
  mapItems: [220052, 220181, 225312] as readonly number[],
  /** gcs.sql */
  gcsVerbal: 223900,
  gcsMotor: 223901,
  gcsEyes: 220739,
  /** bg.sql (chartevents FiO2, stg_fio2) and ventilator_setting.sql */
  fio2Chart: 223835,
  ventilatorMode: 223849,
  ventilatorModeHamilton: 229314,
  /** oxygen_delivery.sql: O2 flows (223834, BiPAP 227582, additional 227287) and devices. */
  o2Flows: [223834, 227582, 227287] as readonly number[],
  o2Device: 226732,
  /** bg.sql: specimen type, pO2, FiO2; the other blood-gas items only lend their chart time. */
  bgSpecimen: 52033,
  bgPo2: 50821,
  bgFio2: 50816,
  bgItems: [
    52033, 50801, 50802, 50803, 50804, 50805, 50806, 50807, 50808, 50809, 50810, 50811, 50813, 50814, 50815, 50816, 50817, 50818,
    50819, 50820, 50821, 50822, 50823, 50824, 50825,
  ] as readonly number[],
  /** enzyme.sql */
  bilirubinTotal: 50885,
  enzymeItems: [50861, 50863, 50878, 50867, 50885, 50884, 50883, 50910, 50911, 50927, 50954] as readonly number[],
  /** chemistry.sql */
  creatinine: 50912,
  anionGap: 50868,
  chemistryItems: [50862, 50930, 50976, 50868, 50882, 50893, 50912, 50902, 50931, 50971, 50983, 51006] as readonly number[],
  /** complete_blood_count.sql */
  platelets: 51265,
  cbcItems: [51221, 51222, 51248, 51249, 51250, 51265, 51279, 51277, 52159, 51301] as readonly number[],
  /** urine_output.sql; 227488 (GU irrigant volume in) counts negative. */
  urineItems: [226559, 226560, 226561, 226584, 226563, 226564, 226565, 226567, 226557, 226558, 227488, 227489] as readonly number[],
  urineIrrigantIn: 227488,
  /** medication/*.sql */
  norepinephrine: 221906,
  epinephrine: 221289,
  dopamine: 221662,
  dobutamine: 221653,
} as const;

export type Vasopressor = 'epinephrine' | 'norepinephrine' | 'dopamine' | 'dobutamine';
export const VASOPRESSOR_ITEMS: ReadonlyMap<number, Vasopressor> = new Map([
  [ITEM.epinephrine, 'epinephrine'],
  [ITEM.norepinephrine, 'norepinephrine'],
  [ITEM.dopamine, 'dopamine'],
  [ITEM.dobutamine, 'dobutamine'],
]);

/** Chart items the collector keeps (any other row of chartevents is skipped early). */
export const CHART_ITEMS: ReadonlySet<number> = new Set([
  ITEM.heartRate,
  ...ITEM.mapItems,
  ITEM.gcsVerbal,
  ITEM.gcsMotor,
  ITEM.gcsEyes,
  ITEM.fio2Chart,
  ITEM.ventilatorMode,
  ITEM.ventilatorModeHamilton,
  ...ITEM.o2Flows,
  ITEM.o2Device,
]);
/**
 * The chart items whose value text addChart reads (GCS verbal "No Response-ETT", ventilator modes,
 * O2 devices, O2 flows charted or not); for the others it reads only valuenum, so the byte reader
 * (read.ts) does not decode their text.
 */
export const CHART_TEXT_ITEMS: ReadonlySet<number> = new Set([ITEM.gcsVerbal, ITEM.ventilatorMode, ITEM.ventilatorModeHamilton, ...ITEM.o2Flows, ITEM.o2Device]);
/** The lab items of each lab concept (sets: addLab asks for every lab row). */
const BG_ITEMS: ReadonlySet<number> = new Set(ITEM.bgItems);
const ENZYME_ITEMS: ReadonlySet<number> = new Set(ITEM.enzymeItems);
const CHEMISTRY_ITEMS: ReadonlySet<number> = new Set(ITEM.chemistryItems);
const CBC_ITEMS: ReadonlySet<number> = new Set(ITEM.cbcItems);
/** The lab items whose value text addLab reads (the blood-gas specimen type); for the others only valuenum. */
export const LAB_TEXT_ITEMS: ReadonlySet<number> = new Set([ITEM.bgSpecimen]);
export const LAB_ITEMS: ReadonlySet<number> = new Set([...ITEM.bgItems, ...ITEM.enzymeItems, ...ITEM.chemistryItems, ...ITEM.cbcItems]);
export const URINE_ITEMS: ReadonlySet<number> = new Set(ITEM.urineItems);

export interface IcuStayRow {
  subjectId: number;
  hadmId: number | null;
  stayId: number;
  intime: number | null;
  outtime: number | null;
}

export interface ChartRow {
  subjectId: number;
  stayId: number | null;
  charttime: number;
  storetime: number | null;
  itemid: number;
  /** null for an empty field (SQL NULL). */
  value: string | null;
  valuenum: number | null;
}

export interface LabRow {
  subjectId: number;
  hadmId: number | null;
  /** null for an empty field; rows without a specimen form one group, as GROUP BY NULL does. */
  specimenId: string | null;
  itemid: number;
  charttime: number;
  value: string | null;
  valuenum: number | null;
}

export interface InputRow {
  stayId: number | null;
  starttime: number | null;
  endtime: number | null;
  itemid: number;
  rate: number | null;
  rateuom: string | null;
  patientweight: number | null;
}

export interface OutputRow {
  stayId: number | null;
  charttime: number;
  itemid: number;
  value: number | null;
}

/** A specimen of one lab concept table (bg, enzyme, chemistry, complete_blood_count). */
interface SpecimenGroup {
  subjectId: number;
  hadmId: number | null;
  charttime: number;
  /** bg: specimen type text (MAX); others unused. */
  text: string | null;
  /** The SOFA value of the group (po2 for bg), MAX or MIN as the concept aggregates. */
  value: number | null;
  /** bg: FiO2 in percent (MAX after bg.sql's cleaning). */
  fio2: number | null;
}

export interface GcsGroup {
  charttime: number;
  motor: number | null;
  verbal: number | null;
  eyes: number | null;
}

export interface VentilationCharting {
  mode: string | null;
  hamilton: string | null;
  devices: string[];
}

export interface VasopressorRow {
  drug: Vasopressor;
  starttime: number | null;
  endtime: number | null;
  /** ug/kg/min after norepinephrine.sql's mg/kg/min correction; null when not charted. */
  rate: number | null;
}

interface O2Group {
  /** An O2 flow with a value was charted at this time (oxygen_delivery.sql keeps only these times). */
  flowStayId: number | null;
  hasFlow: boolean;
  devices: Array<{ storetime: number | null; value: string | null }>;
}

/**
 * Text kept beyond its row (device names, ventilator modes, specimen types) is interned as a
 * flat copy: a substring of a CSV line may be a V8 "sliced string" that keeps the whole decoded
 * chunk of the file alive. The values are a few dozen distinct words.
 */
const interned = new Map<string, string>();
function intern(text: string | null): string | null {
  if (text === null) return null;
  let kept = interned.get(text);
  if (kept === undefined) {
    kept = (` ${text}`).slice(1);
    if (interned.size < 10_000) interned.set(kept, kept);
  }
  return kept;
}

const maxOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));
const maxText = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : b > a ? b : a);

function nested<K, L, V>(outer: Map<K, Map<L, V>>, key: K): Map<L, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

/** The intermediate tables, filled row by row. */
export class MimicSofaTables {
  readonly stays = new Map<number, IcuStayRow>();
  /** icustay_times.sql: first and last heart-rate charting per stay (any value). */
  readonly heartRate = new Map<number, { first: number; last: number }>();
  /** Heart-rate chart times per stay, kept until the stays are known (urine_output_rate.sql's window needs intime/outtime). */
  private readonly heartRateTimes = new Map<number, number[]>();
  /** vitalsign.sql: per stay and chart time, the sum and count of valid MAP values. */
  readonly map = new Map<number, Map<number, { sum: number; count: number }>>();
  /** gcs.sql base: per stay and chart time. */
  readonly gcs = new Map<number, Map<number, GcsGroup>>();
  /** bg.sql stg_fio2: per subject and chart time, FiO2 in percent (MAX after cleaning; null when cleaned away). */
  readonly fio2Chart = new Map<number, Map<number, number | null>>();
  /** ventilator_setting.sql: per subject and chart time. */
  private readonly ventilatorSettings = new Map<number, Map<number, { stayId: number; mode: string | null; hamilton: string | null }>>();
  /** oxygen_delivery.sql: per subject and chart time. */
  private readonly o2 = new Map<number, Map<number, O2Group>>();
  private readonly bg = new Map<string, SpecimenGroup>();
  private readonly enzyme = new Map<string, SpecimenGroup>();
  private readonly chemistry = new Map<string, SpecimenGroup>();
  private readonly cbc = new Map<string, SpecimenGroup>();
  /** urine_output.sql: per stay and chart time, the summed volume (null when every value is null). */
  readonly urine = new Map<number, Map<number, number | null>>();
  readonly vasopressors = new Map<number, VasopressorRow[]>();

  addIcuStay(row: IcuStayRow): void {
    this.stays.set(row.stayId, row);
  }

  addChart(row: ChartRow): void {
    const { itemid, stayId, charttime } = row;
    if (itemid === ITEM.heartRate) {
      if (stayId === null) return;
      const seen = this.heartRate.get(stayId);
      if (seen === undefined) this.heartRate.set(stayId, { first: charttime, last: charttime });
      else {
        if (charttime < seen.first) seen.first = charttime;
        if (charttime > seen.last) seen.last = charttime;
      }
      const times = this.heartRateTimes.get(stayId);
      if (times === undefined) this.heartRateTimes.set(stayId, [charttime]);
      else times.push(charttime);
      return;
    }
    if (ITEM.mapItems.includes(itemid)) {
      // vitalsign.sql: rows with a stay; mbp = AVG of the MAP items with 0 < value < 300.
      if (stayId === null || row.valuenum === null || !(row.valuenum > 0 && row.valuenum < 300)) return;
      const at = nested(this.map, stayId);
      const cell = at.get(charttime);
      if (cell === undefined) at.set(charttime, { sum: row.valuenum, count: 1 });
      else {
        cell.sum += row.valuenum;
        cell.count++;
      }
      return;
    }
    if (itemid === ITEM.gcsVerbal || itemid === ITEM.gcsMotor || itemid === ITEM.gcsEyes) {
      if (stayId === null) return;
      const at = nested(this.gcs, stayId);
      let group = at.get(charttime);
      if (group === undefined) {
        group = { charttime, motor: null, verbal: null, eyes: null };
        at.set(charttime, group);
      }
      if (itemid === ITEM.gcsMotor) group.motor = maxOf(group.motor, row.valuenum);
      else if (itemid === ITEM.gcsEyes) group.eyes = maxOf(group.eyes, row.valuenum);
      // A verbal response charted as intubated counts 0 (gcs.sql), which later means GCS 15.
      else group.verbal = maxOf(group.verbal, row.value === 'No Response-ETT' ? 0 : row.valuenum);
      return;
    }
    if (itemid === ITEM.fio2Chart) {
      // bg.sql stg_fio2: 0 < value <= 100, then fractions to percent, 1-20 dropped as O2 flows.
      const v = row.valuenum;
      if (v === null || !(v > 0 && v <= 100)) return;
      const cleaned = v > 0.2 && v <= 1 ? v * 100 : v > 1 && v < 20 ? null : v >= 20 && v <= 100 ? v : null;
      const at = nested(this.fio2Chart, row.subjectId);
      at.set(charttime, at.has(charttime) ? maxOf(at.get(charttime)!, cleaned) : cleaned);
      return;
    }
    if (itemid === ITEM.ventilatorMode || itemid === ITEM.ventilatorModeHamilton) {
      // ventilator_setting.sql: rows with a value and a stay, grouped by subject and chart time.
      if (row.value === null || stayId === null) return;
      const at = nested(this.ventilatorSettings, row.subjectId);
      let cell = at.get(charttime);
      if (cell === undefined) {
        cell = { stayId, mode: null, hamilton: null };
        at.set(charttime, cell);
      }
      cell.stayId = Math.max(cell.stayId, stayId);
      if (itemid === ITEM.ventilatorMode) cell.mode = maxText(cell.mode, intern(row.value));
      else cell.hamilton = maxText(cell.hamilton, intern(row.value));
      return;
    }
    if (ITEM.o2Flows.includes(itemid) || itemid === ITEM.o2Device) {
      const at = nested(this.o2, row.subjectId);
      let cell = at.get(charttime);
      if (cell === undefined) {
        cell = { flowStayId: null, hasFlow: false, devices: [] };
        at.set(charttime, cell);
      }
      if (itemid === ITEM.o2Device) cell.devices.push({ storetime: row.storetime, value: intern(row.value) });
      else if (row.value !== null) {
        cell.hasFlow = true;
        cell.flowStayId = maxOf(cell.flowStayId, stayId);
      }
    }
  }

  addLab(row: LabRow): void {
    const { itemid } = row;
    // A flat copy for the same reason as intern(), without growing the intern table.
    const key = row.specimenId === null ? '\u0000null' : row.specimenId.length < 13 ? row.specimenId : (` ${row.specimenId}`).slice(1);
    if (BG_ITEMS.has(itemid)) {
      const group = this.specimen(this.bg, key, row);
      if (itemid === ITEM.bgSpecimen) group.text = maxText(group.text, intern(row.value));
      else if (itemid === ITEM.bgPo2) group.value = maxOf(group.value, row.valuenum);
      else if (itemid === ITEM.bgFio2 && row.valuenum !== null) {
        // bg.sql: percent kept, fractions x 100, anything else (20 included) dropped.
        const v = row.valuenum;
        const cleaned = v > 20 && v <= 100 ? v : v > 0.2 && v <= 1 ? v * 100 : null;
        group.fio2 = maxOf(group.fio2, cleaned);
      }
    }
    const v = row.valuenum;
    if (ENZYME_ITEMS.has(itemid) && v !== null && v > 0) {
      const group = this.specimen(this.enzyme, key, row);
      if (itemid === ITEM.bilirubinTotal) group.value = maxOf(group.value, v);
    }
    if (CHEMISTRY_ITEMS.has(itemid) && v !== null && (v > 0 || itemid === ITEM.anionGap)) {
      const group = this.specimen(this.chemistry, key, row);
      if (itemid === ITEM.creatinine && v <= 150) group.value = maxOf(group.value, v);
    }
    if (CBC_ITEMS.has(itemid) && v !== null && v > 0) {
      const group = this.specimen(this.cbc, key, row);
      if (itemid === ITEM.platelets) group.value = maxOf(group.value, v);
    }
  }

  private specimen(groups: Map<string, SpecimenGroup>, key: string, row: LabRow): SpecimenGroup {
    const group = groups.get(key);
    if (group === undefined) {
      const created: SpecimenGroup = { subjectId: row.subjectId, hadmId: row.hadmId, charttime: row.charttime, text: null, value: null, fio2: null };
      groups.set(key, created);
      return created;
    }
    // MAX(subject_id), MAX(hadm_id), MAX(charttime) over the specimen's rows.
    group.subjectId = Math.max(group.subjectId, row.subjectId);
    group.hadmId = maxOf(group.hadmId, row.hadmId);
    if (row.charttime > group.charttime) group.charttime = row.charttime;
    return group;
  }

  addInput(row: InputRow): void {
    const drug = VASOPRESSOR_ITEMS.get(row.itemid);
    if (drug === undefined || row.stayId === null) return;
    let rate = row.rate;
    // norepinephrine.sql: rows in mg/kg/min are documentation errors, converted to mcg/kg/min
    // unless the weight was charted as 1 (then the rate was already per patient).
    if (drug === 'norepinephrine' && rate !== null && row.rateuom === 'mg/kg/min' && row.patientweight !== 1) rate *= 1000;
    const list = this.vasopressors.get(row.stayId);
    const entry: VasopressorRow = { drug, starttime: row.starttime, endtime: row.endtime, rate };
    if (list === undefined) this.vasopressors.set(row.stayId, [entry]);
    else list.push(entry);
  }

  addOutput(row: OutputRow): void {
    if (!URINE_ITEMS.has(row.itemid) || row.stayId === null) return;
    // urine_output.sql: irrigant put in counts negative.
    const volume = row.value === null ? null : row.itemid === ITEM.urineIrrigantIn && row.value > 0 ? -row.value : row.value;
    const at = nested(this.urine, row.stayId);
    const previous = at.get(row.charttime);
    at.set(row.charttime, previous === undefined ? volume : previous === null ? volume : volume === null ? previous : previous + volume);
  }

  /** Everything collected, as structured-cloneable data (to move tables between worker threads). */
  exportState(): MimicSofaTablesState {
    return {
      stays: this.stays,
      heartRate: this.heartRate,
      heartRateTimes: this.heartRateTimes,
      map: this.map,
      gcs: this.gcs,
      fio2Chart: this.fio2Chart,
      ventilatorSettings: this.ventilatorSettings,
      o2: this.o2,
      bg: this.bg,
      enzyme: this.enzyme,
      chemistry: this.chemistry,
      cbc: this.cbc,
      urine: this.urine,
      vasopressors: this.vasopressors,
    };
  }

  /**
   * Adds tables collected elsewhere (another part of the same files): every aggregate here is a
   * MIN, MAX, SUM, count or list, so merging parts gives what one reader would have collected.
   */
  merge(other: MimicSofaTablesState): void {
    for (const [id, stay] of other.stays) this.stays.set(id, stay);
    for (const [id, hr] of other.heartRate) {
      const mine = this.heartRate.get(id);
      if (mine === undefined) this.heartRate.set(id, hr);
      else {
        mine.first = Math.min(mine.first, hr.first);
        mine.last = Math.max(mine.last, hr.last);
      }
    }
    mergeLists(this.heartRateTimes, other.heartRateTimes);
    mergeNested(this.map, other.map, (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }));
    mergeNested(this.gcs, other.gcs, (a, b) => ({ charttime: a.charttime, motor: maxOf(a.motor, b.motor), verbal: maxOf(a.verbal, b.verbal), eyes: maxOf(a.eyes, b.eyes) }));
    mergeNested(this.fio2Chart, other.fio2Chart, maxOf);
    mergeNested(this.ventilatorSettings, other.ventilatorSettings, (a, b) => ({
      stayId: Math.max(a.stayId, b.stayId),
      mode: maxText(a.mode, b.mode),
      hamilton: maxText(a.hamilton, b.hamilton),
    }));
    mergeNested(this.o2, other.o2, (a, b) => ({ flowStayId: maxOf(a.flowStayId, b.flowStayId), hasFlow: a.hasFlow || b.hasFlow, devices: [...a.devices, ...b.devices] }));
    for (const [mine, theirs] of [
      [this.bg, other.bg],
      [this.enzyme, other.enzyme],
      [this.chemistry, other.chemistry],
      [this.cbc, other.cbc],
    ] as const) {
      for (const [key, group] of theirs) {
        const found = mine.get(key);
        if (found === undefined) mine.set(key, group);
        else {
          found.subjectId = Math.max(found.subjectId, group.subjectId);
          found.hadmId = maxOf(found.hadmId, group.hadmId);
          found.charttime = Math.max(found.charttime, group.charttime);
          found.text = maxText(found.text, group.text);
          found.value = maxOf(found.value, group.value);
          found.fio2 = maxOf(found.fio2, group.fio2);
        }
      }
    }
    mergeNested(this.urine, other.urine, (a, b) => (a === null ? b : b === null ? a : a + b));
    mergeLists(this.vasopressors, other.vasopressors);
  }

  /** First heart-rate charting of a stay within (intime - 1 month, outtime + 1 month): urine_output_rate.sql's start of urine time. */
  urineClockStart(stay: IcuStayRow): number | null {
    const times = this.heartRateTimes.get(stay.stayId);
    if (times === undefined || stay.intime === null || stay.outtime === null) return null;
    const lo = addMonths(stay.intime, -1);
    const hi = addMonths(stay.outtime, 1);
    let first: number | null = null;
    for (const t of times) if (t > lo && t < hi && (first === null || t < first)) first = t;
    return first;
  }

  /** bg.sql rows of a subject's arterial gases, with their P/F ratio (null when no FiO2 was found). */
  arterialGases(): Map<number, Array<{ charttime: number; po2: number; fio2: number | null }>> {
    const bySubject = new Map<number, Array<{ charttime: number; po2: number; fio2: number | null }>>();
    for (const group of this.bg.values()) {
      if (group.value === null || group.text !== 'ART.') continue;
      let fio2 = group.fio2;
      if (fio2 === null) fio2 = latestChartFio2(this.fio2Chart.get(group.subjectId), group.charttime);
      const list = bySubject.get(group.subjectId);
      const gas = { charttime: group.charttime, po2: group.value, fio2 };
      if (list === undefined) bySubject.set(group.subjectId, [gas]);
      else list.push(gas);
    }
    return bySubject;
  }

  /** Lab values (enzyme bilirubin, chemistry creatinine, cbc platelets) by hospital admission. */
  labsByAdmission(kind: 'bilirubin' | 'creatinine' | 'platelets'): Map<number, Array<{ charttime: number; value: number }>> {
    const groups = kind === 'bilirubin' ? this.enzyme : kind === 'creatinine' ? this.chemistry : this.cbc;
    const byHadm = new Map<number, Array<{ charttime: number; value: number }>>();
    for (const group of groups.values()) {
      if (group.value === null || group.hadmId === null) continue;
      const list = byHadm.get(group.hadmId);
      const lab = { charttime: group.charttime, value: group.value };
      if (list === undefined) byHadm.set(group.hadmId, [lab]);
      else list.push(lab);
    }
    return byHadm;
  }

  /**
   * ventilation.sql's input: per stay and chart time, the ventilator modes and the O2 devices
   * (device 1..4 ranked by storetime, then value, descending). oxygen_delivery.sql keeps a chart
   * time only where an O2 flow with a value was charted (its WHERE on the flow side of a FULL
   * JOIN), so a device charted without a flow at the same time does not count.
   */
  ventilationChartings(): Map<number, Map<number, VentilationCharting>> {
    const byStay = new Map<number, Map<number, VentilationCharting>>();
    const cell = (stayId: number, charttime: number): VentilationCharting => {
      const at = nested(byStay, stayId);
      let found = at.get(charttime);
      if (found === undefined) {
        found = { mode: null, hamilton: null, devices: [] };
        at.set(charttime, found);
      }
      return found;
    };
    for (const at of this.ventilatorSettings.values()) {
      for (const [charttime, setting] of at) {
        const target = cell(setting.stayId, charttime);
        target.mode = setting.mode;
        target.hamilton = setting.hamilton;
      }
    }
    for (const at of this.o2.values()) {
      for (const [charttime, group] of at) {
        if (!group.hasFlow || group.flowStayId === null) continue;
        const ranked = [...group.devices].sort(
          (a, b) => compareDescNullsLast(a.storetime, b.storetime) || compareDescNullsLast(a.value, b.value),
        );
        cell(group.flowStayId, charttime).devices = ranked.slice(0, 4).map((d) => d.value ?? '');
      }
    }
    return byStay;
  }
}

export interface MimicSofaTablesState {
  stays: Map<number, IcuStayRow>;
  heartRate: Map<number, { first: number; last: number }>;
  heartRateTimes: Map<number, number[]>;
  map: Map<number, Map<number, { sum: number; count: number }>>;
  gcs: Map<number, Map<number, GcsGroup>>;
  fio2Chart: Map<number, Map<number, number | null>>;
  ventilatorSettings: Map<number, Map<number, { stayId: number; mode: string | null; hamilton: string | null }>>;
  o2: Map<number, Map<number, O2Group>>;
  bg: Map<string, SpecimenGroup>;
  enzyme: Map<string, SpecimenGroup>;
  chemistry: Map<string, SpecimenGroup>;
  cbc: Map<string, SpecimenGroup>;
  urine: Map<number, Map<number, number | null>>;
  vasopressors: Map<number, VasopressorRow[]>;
}

function mergeLists<K, V>(into: Map<K, V[]>, from: Map<K, V[]>): void {
  for (const [key, list] of from) {
    const mine = into.get(key);
    if (mine === undefined) into.set(key, list);
    else for (const item of list) mine.push(item);
  }
}

function mergeNested<K, L, V>(into: Map<K, Map<L, V>>, from: Map<K, Map<L, V>>, combine: (a: V, b: V) => V): void {
  for (const [key, inner] of from) {
    const mine = into.get(key);
    if (mine === undefined) {
      into.set(key, inner);
      continue;
    }
    for (const [k2, value] of inner) {
      const found = mine.get(k2);
      mine.set(k2, found === undefined && !mine.has(k2) ? value : combine(found as V, value));
    }
  }
}

function compareDescNullsLast<T extends number | string>(a: T | null, b: T | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a > b ? -1 : 1;
}

/** bg.sql stg3: the most recent charted FiO2 in [t - 4 h, t] (a cleaned, positive value). */
function latestChartFio2(chart: Map<number, number | null> | undefined, t: number): number | null {
  if (chart === undefined) return null;
  let best: number | null = null;
  let bestTime = -Infinity;
  for (const [time, value] of chart) {
    if (value === null || !(value > 0) || time < t - 4 * HOUR_MS || time > t) continue;
    if (time > bestTime) {
      bestTime = time;
      best = value;
    }
  }
  return best;
}

export const HOUR_MS = 3_600_000;

/** PostgreSQL's `timestamp +/- INTERVAL 'n month'`: same day of month, clamped to the month's last day. */
export function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + months;
  const targetYear = year + Math.floor(month / 12);
  const targetMonth = ((month % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(targetYear, targetMonth + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), lastDay);
  return Date.UTC(targetYear, targetMonth, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}
