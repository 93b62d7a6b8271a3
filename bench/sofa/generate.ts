/**
 * bench/sofa/generate.ts: a seeded synthetic MIMIC-IV cohort for the hourly SOFA benchmark.
 *
 *   node --import tsx bench/sofa/generate.ts --stays 200 --seed 1 --out DIR [--gzip] [--filler 6]
 *
 * Writes DIR/hosp/{patients,admissions,labevents}.csv[.gz] and
 * DIR/icu/{icustays,chartevents,inputevents,outputevents}.csv[.gz] in the published MIMIC-IV
 * column layout (the column order of mimic-code's buildmimic/postgres/create.sql), with exactly
 * the items mimic-code's `sofa` concept and its dependencies read, plus --filler unrelated
 * chartevents rows per stay-hour so the files are not made only of relevant rows.
 *
 * The data are not clinically realistic; they are built to exercise the conventions of
 * mimic-code's SQL (itemids and rules are facts read from that SQL, not copied code):
 * - the hour grid comes from heart rate 220045: first HR before or after intime, on or off a
 *   round hour, single HR rows, stays without any HR (no hours at all), HR after outtime;
 * - labs join on hadm_id (null hadm_id, another admission of the same subject, before ICU
 *   admission), blood gases on subject_id; second admissions start soon after the first
 *   discharge so the 24 h pre-window of one stay overlaps another admission;
 * - blood gas groups by specimen_id: specimen 52033 'ART.' / 'VEN.' / 'MIX.' / missing, pO2
 *   50821, FiO2 50816 as percent, as fraction (0.55 * 100 is not 55 in floating point),
 *   unphysiological or missing (then chart FiO2 223835 within 4 h, or no ratio), ratios on the
 *   100/200/300/400 edges;
 * - creatinine, bilirubin and platelets exactly on band edges, null and filtered values;
 * - GCS 223900/223901/220739 partly charted, split over minutes, 'No Response-ETT' (valuenum 1
 *   or null), gaps longer than the 6 h carry-forward;
 * - MAP 220052/220181/225312 near 70, invasive and non-invasive at the same charttime (averaged);
 * - ventilation: 223849 modes on and off mimic-code's InvasiveVent list, 229314 Hamilton modes,
 *   226732 devices (trailing spaces as in mimic-code's lists, and without them), devices with and
 *   without O2 flow 223834/227582 at the same charttime, two devices at one charttime, charting
 *   gaps around 14 h measured on hour-truncated times, single-row episodes, tracheostomy;
 * - vasopressors 221906/221289/221662/221653 with rates on 0.1 / 5 / 15, intervals starting and
 *   ending exactly on the hour, pauses, overlapping 'Rewritten' rows, norepinephrine in mg/kg/min
 *   (with and without patientweight = 1), zero and null rates, rows without stay_id;
 * - urine 226559/226560/226561/226567 + irrigant 227488/227489, regular, sparse (24 h coverage
 *   outside 22-30 h) or absent, volumes around 200 and 500 ml/24 h;
 * - a few event times carry seconds (mimic-code truncates to the minute in places).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { TableWriter } from './csv.ts';
import { Rng } from './rng.ts';

export interface GenerateOptions {
  stays: number;
  seed: number;
  out: string;
  gzip: boolean;
  /** Unrelated chartevents rows per stay-hour. */
  filler: number;
}

export interface GenerateSummary {
  stays: number;
  subjects: number;
  rows: Record<string, number>;
  bytes: number;
  ms: number;
}

// Column order of mimic-code mimic-iv/buildmimic/postgres/create.sql (= the published CSVs).
const COLUMNS = {
  patients: ['subject_id', 'gender', 'anchor_age', 'anchor_year', 'anchor_year_group', 'dod'],
  admissions: [
    'subject_id', 'hadm_id', 'admittime', 'dischtime', 'deathtime', 'admission_type', 'admit_provider_id',
    'admission_location', 'discharge_location', 'insurance', 'language', 'marital_status', 'race', 'edregtime',
    'edouttime', 'hospital_expire_flag',
  ],
  labevents: [
    'labevent_id', 'subject_id', 'hadm_id', 'specimen_id', 'itemid', 'order_provider_id', 'charttime', 'storetime',
    'value', 'valuenum', 'valueuom', 'ref_range_lower', 'ref_range_upper', 'flag', 'priority', 'comments',
  ],
  icustays: ['subject_id', 'hadm_id', 'stay_id', 'first_careunit', 'last_careunit', 'intime', 'outtime', 'los'],
  chartevents: [
    'subject_id', 'hadm_id', 'stay_id', 'caregiver_id', 'charttime', 'storetime', 'itemid', 'value', 'valuenum',
    'valueuom', 'warning',
  ],
  inputevents: [
    'subject_id', 'hadm_id', 'stay_id', 'caregiver_id', 'starttime', 'endtime', 'storetime', 'itemid', 'amount',
    'amountuom', 'rate', 'rateuom', 'orderid', 'linkorderid', 'ordercategoryname', 'secondaryordercategoryname',
    'ordercomponenttypedescription', 'ordercategorydescription', 'patientweight', 'totalamount', 'totalamountuom',
    'isopenbag', 'continueinnextdept', 'statusdescription', 'originalamount', 'originalrate',
  ],
  outputevents: ['subject_id', 'hadm_id', 'stay_id', 'caregiver_id', 'charttime', 'storetime', 'itemid', 'value', 'valueuom'],
} as const;

const TABLE_MODULE: Record<keyof typeof COLUMNS, 'hosp' | 'icu'> = {
  patients: 'hosp',
  admissions: 'hosp',
  labevents: 'hosp',
  icustays: 'icu',
  chartevents: 'icu',
  inputevents: 'icu',
  outputevents: 'icu',
};

type Writers = Record<keyof typeof COLUMNS, TableWriter>;

const M = 60;
const H = 3600;
const DAY = 86400;

// Ventilator modes of mimic-code's ventilation concept (InvasiveVent) and some that are not in it.
const INVASIVE_MODES = [
  '(S) CMV', 'APRV', 'APRV/Biphasic+ApnPress', 'APRV/Biphasic+ApnVol', 'APV (cmv)', 'Ambient', 'Apnea Ventilation',
  'CMV', 'CMV/ASSIST', 'CMV/ASSIST/AutoFlow', 'CMV/AutoFlow', 'CPAP/PPS', 'CPAP/PSV', 'CPAP/PSV+Apn TCPL',
  'CPAP/PSV+ApnPres', 'CPAP/PSV+ApnVol', 'MMV', 'MMV/AutoFlow', 'MMV/PSV', 'MMV/PSV/AutoFlow', 'P-CMV', 'PCV+',
  'PCV+/PSV', 'PCV+Assist', 'PRES/AC', 'PRVC/AC', 'PRVC/SIMV', 'PSV/SBT', 'SIMV', 'SIMV/AutoFlow', 'SIMV/PRES',
  'SIMV/PSV', 'SIMV/PSV/AutoFlow', 'SIMV/VOL', 'SYNCHRON MASTER', 'SYNCHRON SLAVE', 'VOL/AC',
];
const OTHER_MODES = ['Standby', 'CPAP', 'PSV', 'SPONT', 'Assist Control'];
const HAMILTON_INVASIVE = ['APRV', 'APV (cmv)', 'Ambient', '(S) CMV', 'P-CMV', 'SIMV', 'APV (simv)', 'P-SIMV', 'VS', 'ASV'];
const HAMILTON_NIV = ['DuoPaP', 'NIV', 'NIV-ST'];
const HAMILTON_OTHER = ['SPONT', 'Standby'];
const O2_DEVICES = [
  'Nasal cannula', 'Nasal cannula', 'Face tent', 'Non-rebreather', 'Aerosol-cool', 'Venti mask ', 'Medium conc mask ',
  'Oxymizer', 'High flow neb', 'T-piece', 'Other',
];
const ALL_DEVICES = [
  ...O2_DEVICES, 'Endotracheal tube', 'Tracheostomy tube', 'Trach mask ', 'Bipap mask ', 'CPAP mask ', 'Bipap mask',
  'High flow nasal cannula', 'None',
];
const CAREUNITS = [
  'Medical Intensive Care Unit (MICU)', 'Surgical Intensive Care Unit (SICU)', 'Cardiac Vascular Intensive Care Unit (CVICU)',
  'Medical/Surgical Intensive Care Unit (MICU/SICU)', 'Trauma SICU (TSICU)', 'Coronary Care Unit (CCU)',
];
const GCS_EYES = ['None', 'To Pain', 'To Speech', 'Spontaneously'];
const GCS_VERBAL = ['No Response', 'Incomprehensible sounds', 'Inappropriate Words', 'Confused', 'Oriented'];
const GCS_MOTOR = ['No response', 'Abnormal extension', 'Abnormal Flexion', 'Flex-withdraws', 'Localizes Pain', 'Obeys Commands'];

type RespKind = 'vent' | 'trach' | 'niv' | 'hfnc' | 'o2' | 'none';
interface RespSegment {
  kind: RespKind;
  start: number;
  end: number;
}

interface Stay {
  subjectId: number;
  hadmId: number;
  stayId: number;
  intime: number;
  outtime: number;
  otherHadmIds: number[];
  weight: number;
}

interface Ids {
  labevent: number;
  specimen: number;
  order: number;
}

/** 'YYYY-MM-DD HH:MM:SS' of seconds since the epoch (zone-less, as in MIMIC-IV). */
function fmt(seconds: number): string {
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

const floorHour = (t: number): number => Math.floor(t / H) * H;
const ceilHour = (t: number): number => Math.ceil(t / H) * H;
const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Most MIMIC times are on the minute; a few here carry seconds. */
function jitter(rng: Rng, t: number): number {
  return rng.chance(0.02) ? t + rng.int(1, 59) : t;
}

class StayWriter {
  readonly stay: Stay;
  readonly rng: Rng;
  readonly w: Writers;
  readonly ids: Ids;
  resp: RespSegment[] = [];
  hamilton = false;

  constructor(stay: Stay, rng: Rng, w: Writers, ids: Ids) {
    this.stay = stay;
    this.rng = rng;
    this.w = w;
    this.ids = ids;
  }

  caregiver(): number | null {
    return this.rng.chance(0.05) ? null : this.rng.int(10000, 99999);
  }

  chart(itemid: number, t: number, value: string | null, valuenum: number | null, uom: string | null, store?: number): void {
    const s = this.stay;
    this.w.chartevents.row([
      s.subjectId, s.hadmId, s.stayId, this.caregiver(), fmt(t), fmt(store ?? t + this.rng.int(1, 90) * M), itemid,
      value ?? (valuenum === null ? null : String(valuenum)), valuenum, uom, 0,
    ]);
  }

  num(itemid: number, t: number, valuenum: number, uom: string | null): void {
    this.chart(itemid, t, String(valuenum), valuenum, uom);
  }

  inResp(t: number, kinds: readonly RespKind[]): boolean {
    return this.resp.some((seg) => kinds.includes(seg.kind) && t >= seg.start && t < seg.end);
  }

  /** Heart rate defines mimic-code's hour grid (icustay_times); SpO2 rides along for bg. */
  heartRate(): void {
    const { rng, stay } = this;
    if (rng.chance(0.03)) return; // no HR: mimic-code produces no hours for the stay
    const r = rng.next();
    const start = r < 0.25 ? stay.intime - rng.int(5, 180) * M : r < 0.32 ? ceilHour(stay.intime) : stay.intime + rng.int(0, 40) * M;
    const end = rng.chance(0.1) ? stay.outtime + rng.int(60, 180) * M : stay.outtime + rng.int(-60, 30) * M;
    const base = rng.uniform(65, 120);
    const single = rng.chance(0.01);
    for (let t = start; t <= end || t === start; ) {
      const tj = t === start ? t : jitter(rng, t);
      const bad = rng.chance(0.005);
      this.num(220045, tj, bad ? rng.pick([0, 320]) : Math.round(base + rng.normal() * 10), 'bpm');
      if (rng.chance(0.8)) this.num(220277, tj, rng.chance(0.003) ? rng.pick([0, 127]) : rng.int(86, 100), '%');
      if (single) break;
      t += rng.chance(0.03) ? rng.int(2 * 60, 4 * 60) * M : rng.int(45, 75) * M;
    }
  }

  /** MAP around 70, sometimes invasive and non-invasive at the same charttime (vitalsign averages them). */
  bloodPressure(): void {
    const { rng, stay } = this;
    const base = rng.chance(0.2) ? rng.uniform(55, 68) : rng.uniform(72, 95);
    const mapValue = (): number => {
      if (rng.chance(0.005)) return rng.pick([0, 300, 412]);
      if (rng.chance(0.15)) return rng.pick([69, 70, 71, 69.5, 70.5]);
      return Math.round(base + rng.normal() * 5);
    };
    const arterial = rng.chance(0.4);
    for (let t = stay.intime - rng.int(0, 60) * M; t < stay.outtime; t += rng.int(60, 180) * M) {
      const tj = jitter(rng, t);
      if (arterial && rng.chance(0.2)) {
        const [a, b] = rng.pick([[68, 72], [69, 71], [69, 70], [70, 71], [66, 73], [69.5, 70.5]] as const);
        this.num(220181, tj, a, 'mmHg');
        this.num(220052, tj, b, 'mmHg');
      } else {
        this.num(220181, tj, mapValue(), 'mmHg');
      }
      const sbp = rng.int(80, 160);
      this.num(220179, tj, sbp, 'mmHg');
      this.num(220180, tj, rng.int(35, Math.min(sbp - 10, 95)), 'mmHg');
    }
    if (arterial) {
      for (let t = stay.intime + rng.int(0, 120) * M; t < stay.outtime; t += rng.int(30, 90) * M) {
        this.num(220052, jitter(rng, t), mapValue(), 'mmHg');
      }
    }
    if (rng.chance(0.1)) {
      for (let t = stay.intime + rng.int(0, 120) * M; t < stay.outtime; t += rng.int(60, 120) * M) {
        this.num(225312, jitter(rng, t), mapValue(), 'mmHg');
      }
    }
  }

  /** GCS components, partly charted, sometimes on different minutes, 'No Response-ETT' when intubated. */
  gcs(): void {
    const { rng, stay } = this;
    const severity = rng.next() ** 2;
    const level = (max: number): number => {
      const v = Math.round(max - severity * (max - 1) + rng.normal() * 0.8);
      return Math.max(1, Math.min(max, v));
    };
    for (let t = stay.intime - rng.int(0, 60) * M; t < stay.outtime; ) {
      const tj = jitter(rng, t);
      const present = [true, true, true];
      if (rng.chance(0.2)) {
        present[rng.int(0, 2)] = false;
        if (rng.chance(0.3)) present[rng.int(0, 2)] = false;
        if (!present.some(Boolean)) present[0] = true;
      }
      const when = (): number => (rng.chance(0.05) ? tj + rng.int(1, 3) * M : tj);
      const store = tj + rng.int(1, 60) * M;
      if (present[0]) {
        const eyes = level(4);
        this.chart(220739, when(), GCS_EYES[eyes - 1] ?? null, eyes, null, store);
      }
      if (present[1]) {
        if (this.inResp(t, ['vent', 'trach']) && rng.chance(0.85)) {
          this.chart(223900, when(), 'No Response-ETT', rng.chance(0.6) ? 1 : null, null, store);
        } else {
          const verbal = level(5);
          this.chart(223900, when(), GCS_VERBAL[verbal - 1] ?? null, verbal, null, store);
        }
      }
      if (present[2]) {
        const motor = level(6);
        this.chart(223901, when(), GCS_MOTOR[motor - 1] ?? null, motor, null, store);
      }
      t += rng.chance(0.1) ? rng.int(7 * 60, 10 * 60) * M : rng.int(90, 390) * M;
    }
  }

  /** Plans respiratory support segments over the stay. */
  planResp(): void {
    const { rng, stay } = this;
    const losMin = (stay.outtime - stay.intime) / M;
    const segs: RespSegment[] = [];
    const afterVent: RespKind[] = ['o2', 'o2', 'hfnc', 'niv', 'none'];
    const r = rng.next();
    if (r < 0.08) {
      segs.push({ kind: 'trach', start: stay.intime - rng.int(0, 60) * M, end: stay.outtime });
    } else if (r < 0.5) {
      const ventStart = stay.intime + Math.min(rng.int(-60, 24 * 60), Math.max(0, losMin - 120)) * M;
      if (ventStart > stay.intime + 30 * M) segs.push({ kind: rng.pick(afterVent), start: stay.intime, end: ventStart });
      let t = Math.min(stay.outtime, ventStart + rng.int(4 * 60, Math.max(6 * 60, Math.floor(losMin * 0.8))) * M);
      segs.push({ kind: 'vent', start: ventStart, end: t });
      while (t < stay.outtime) {
        const kind: RespKind = stay.outtime - t > 12 * H && rng.chance(0.1) ? 'vent' : rng.pick(afterVent);
        const end = Math.min(stay.outtime, t + rng.int(4 * 60, 30 * 60) * M);
        segs.push({ kind, start: t, end });
        t = end;
      }
    } else {
      for (let t = stay.intime; t < stay.outtime; ) {
        const end = Math.min(stay.outtime, t + rng.int(4 * 60, 36 * 60) * M);
        segs.push({ kind: rng.pick<RespKind>(['o2', 'o2', 'o2', 'hfnc', 'niv', 'none']), start: t, end });
        t = end;
      }
    }
    this.resp = segs;
    this.hamilton = rng.chance(0.15);
  }

  fio2Chart(t: number): void {
    const { rng } = this;
    const r = rng.next();
    const value =
      r < 0.85
        ? rng.pick([30, 35, 40, 45, 50, 60, 70, 80, 100])
        : r < 0.95
          ? rng.pick([0.4, 0.5, 0.55, 0.57])
          : rng.pick([5, 0.1, 0.2, 120]);
    this.num(223835, t, value, '%');
  }

  /** An O2 delivery device 226732, with or without an O2 flow at the same charttime. */
  device(t: number, value: string, flowProbability: number, flowRange: readonly [number, number] = [1, 15]): void {
    const { rng } = this;
    const store = t + rng.int(1, 60) * M;
    this.chart(226732, t, value, null, null, store);
    if (rng.chance(0.05)) {
      // a second device at the same charttime: mimic-code orders them by storetime, then value, descending
      const other = rng.pick(ALL_DEVICES.filter((d) => d !== value));
      this.chart(226732, t, other, null, null, rng.chance(0.5) ? store : store + rng.int(-30, 30) * M);
    }
    if (rng.chance(flowProbability)) {
      const flow = rng.int(flowRange[0], flowRange[1]);
      this.chart(rng.chance(0.15) ? 227582 : 223834, t, String(flow), flow, 'L/min');
      if (rng.chance(0.05)) this.num(223834, t, flow + 2, 'L/min');
    }
    if (rng.chance(0.03)) this.num(227287, t, rng.int(1, 6), 'L/min');
  }

  respiratory(): void {
    const { rng, stay } = this;
    for (const seg of this.resp) {
      let t = seg.start + rng.int(0, 30) * M;
      while (t < seg.end) {
        const tj = jitter(rng, t);
        this.chartResp(seg.kind, tj);
        if ((seg.kind === 'vent' || seg.kind === 'trach' || seg.kind === 'niv') && rng.chance(0.05)) {
          // a charting gap of 13-15 hours on hour-truncated times (mimic-code's 14 h rule)
          t = floorHour(t) + rng.int(13, 15) * H + rng.int(0, 59) * M;
        } else {
          t += rng.int(60, 240) * M;
        }
      }
    }
    if (!this.resp.some((seg) => seg.kind === 'vent') && rng.chance(0.1)) {
      // an isolated invasive mode among other charting: a single-row episode
      const t = stay.intime + rng.int(0, Math.max(1, Math.floor((stay.outtime - stay.intime) / M))) * M;
      this.chart(223849, t, rng.pick(INVASIVE_MODES), null, null);
    }
  }

  chartResp(kind: RespKind, t: number): void {
    const { rng } = this;
    switch (kind) {
      case 'vent':
        if (rng.chance(0.85)) {
          if (this.hamilton) {
            this.chart(229314, t, rng.chance(0.9) ? rng.pick(HAMILTON_INVASIVE) : rng.pick(HAMILTON_OTHER), null, null);
          } else {
            this.chart(223849, t, rng.chance(0.88) ? rng.pick(INVASIVE_MODES) : rng.pick(OTHER_MODES), null, null);
          }
        }
        if (rng.chance(0.5)) this.device(t, 'Endotracheal tube', 0.3);
        if (rng.chance(0.75)) this.fio2Chart(t);
        if (rng.chance(0.6)) this.num(rng.chance(0.8) ? 220339 : 224700, t, rng.int(5, 15), 'cmH2O');
        if (rng.chance(0.4)) this.num(224685, t, rng.int(300, 600), 'mL');
        break;
      case 'trach':
        if (rng.chance(0.8)) this.device(t, rng.chance(0.7) ? 'Tracheostomy tube' : 'Trach mask ', 0.5);
        if (rng.chance(0.5)) this.chart(223849, t, rng.pick(INVASIVE_MODES), null, null);
        if (rng.chance(0.4)) this.fio2Chart(t);
        break;
      case 'niv':
        this.device(t, rng.chance(0.9) ? rng.pick(['Bipap mask ', 'CPAP mask ']) : 'Bipap mask', 0.6);
        if (rng.chance(0.2)) this.chart(229314, t, rng.pick(HAMILTON_NIV), null, null);
        if (rng.chance(0.5)) this.fio2Chart(t);
        break;
      case 'hfnc':
        this.device(t, 'High flow nasal cannula', 0.6, [30, 60]);
        if (rng.chance(0.5)) this.fio2Chart(t);
        break;
      case 'o2':
        this.device(t, rng.pick(O2_DEVICES), 0.5);
        if (rng.chance(0.05)) this.fio2Chart(t);
        break;
      case 'none':
        this.device(t, 'None', 0.1);
        break;
    }
  }

  labHadm(): number | null {
    const { rng, stay } = this;
    const r = rng.next();
    if (r < 0.06) return null;
    if (r < 0.12 && stay.otherHadmIds.length > 0) return rng.pick(stay.otherHadmIds);
    return stay.hadmId;
  }

  lab(specimen: number, hadm: number | null, t: number, store: number, itemid: number, value: string | null, valuenum: number | null, uom: string | null): void {
    const s = this.stay;
    this.w.labevents.row([
      this.ids.labevent++, s.subjectId, hadm, specimen, itemid, null, fmt(t), fmt(store), value ?? (valuenum === null ? null : String(valuenum)),
      valuenum, uom, null, null, null, this.rng.chance(0.3) ? 'STAT' : 'ROUTINE', null,
    ]);
  }

  /** A lab value with band-edge, null and out-of-range variants. */
  labValue(base: number, digits: number, edges: readonly number[], outOfRange: number): { value: string | null; valuenum: number | null } {
    const { rng } = this;
    const r = rng.next();
    if (r < 0.01) return { value: '___', valuenum: null };
    if (r < 0.015) return { value: '0', valuenum: 0 };
    if (r < 0.018) return { value: String(outOfRange), valuenum: outOfRange };
    const v = r < 0.17 ? rng.pick(edges) : round(base * Math.exp(rng.normal() * 0.15), digits);
    return { value: String(v), valuenum: v };
  }

  labs(): void {
    const { rng, stay } = this;
    const creat = Math.exp(Math.log(1.1) + rng.normal() * 0.6);
    const plt = Math.exp(Math.log(180) + rng.normal() * 0.6);
    const bili = Math.exp(Math.log(0.9) + rng.normal() * 0.9);
    const end = stay.outtime + rng.int(0, 12 * 60) * M;
    for (let t = stay.intime - rng.int(2 * 60, 30 * 60) * M; t < end; t += rng.int(4 * 60, 24 * 60) * M) {
      const tj = jitter(rng, t);
      const store = tj + rng.int(20, 180) * M;
      if (rng.chance(0.95)) {
        const specimen = this.ids.specimen++;
        const hadm = this.labHadm();
        if (rng.chance(0.97)) {
          const c = this.labValue(creat, 1, [1.2, 2, 3.5, 5, 1.19, 4.99, 2.0], 160);
          this.lab(specimen, hadm, tj, store, 50912, c.value, c.valuenum, 'mg/dL');
        }
        this.lab(specimen, hadm, tj, store, 50983, null, rng.int(128, 150), 'mEq/L');
        this.lab(specimen, hadm, tj, store, 50971, null, round(rng.uniform(3, 5.8), 1), 'mEq/L');
        this.lab(specimen, hadm, tj, store, 51006, null, rng.int(6, 90), 'mg/dL');
        if (rng.chance(0.5)) {
          const b = this.labValue(bili, 1, [1.2, 2, 6, 12, 1.1, 11.9], -1);
          this.lab(specimen, hadm, tj, store, 50885, b.value, b.valuenum, 'mg/dL');
          this.lab(specimen, hadm, tj, store, 50861, null, rng.int(8, 400), 'IU/L');
          this.lab(specimen, hadm, tj, store, 50878, null, rng.int(8, 400), 'IU/L');
        }
      }
      if (rng.chance(0.9)) {
        const specimen = this.ids.specimen++;
        const hadm = this.labHadm();
        const tc = rng.chance(0.1) ? tj + rng.int(1, 20) * M : tj;
        const p = this.labValue(plt, 0, [150, 100, 50, 20, 149, 19], -5);
        this.lab(specimen, hadm, tc, store, 51265, p.value, p.valuenum, 'K/uL');
        this.lab(specimen, hadm, tc, store, 51301, null, round(rng.uniform(1, 25), 1), 'K/uL');
        this.lab(specimen, hadm, tc, store, 51222, null, round(rng.uniform(6, 15), 1), 'g/dL');
      }
    }
  }

  /** One blood gas specimen: 52033 specimen type, pO2, pCO2, pH, FiO2 in its various forms. */
  bloodGas(t: number): void {
    const { rng } = this;
    const specimen = this.ids.specimen++;
    const hadm = this.labHadm();
    const store = t + rng.int(5, 60) * M;
    if (rng.chance(0.93)) {
      const r = rng.next();
      this.lab(specimen, hadm, t, store, 52033, r < 0.75 ? 'ART.' : r < 0.93 ? 'VEN.' : 'MIX.', null, null);
    }
    const f = rng.next();
    let fio2: number | null = null;
    let effective = 50;
    if (f < 0.4) {
      fio2 = rng.pick([21, 30, 35, 40, 50, 60, 80, 100]);
      effective = fio2;
    } else if (f < 0.55) {
      fio2 = rng.pick([0.3, 0.35, 0.4, 0.5, 0.55, 0.57, 0.6, 0.7, 1]);
      effective = fio2 * 100;
    } else if (f < 0.6) {
      fio2 = rng.pick([15, 0.15, 0, 150]);
    }
    if (fio2 !== null) this.lab(specimen, hadm, t, store, 50816, null, fio2, '%');
    if (rng.chance(0.95)) {
      const po2 = rng.chance(0.3)
        ? Math.round((rng.pick([100, 200, 300, 400]) * effective) / 100) + rng.pick([0, 0, 0, -1, 1])
        : rng.int(40, 450);
      this.lab(specimen, hadm, t, store, 50821, null, po2, 'mm Hg');
    }
    this.lab(specimen, hadm, t, store, 50818, null, rng.int(28, 70), 'mm Hg');
    this.lab(specimen, hadm, t, store, 50820, null, round(rng.uniform(7.15, 7.55), 2), 'units');
  }

  bloodGases(): void {
    const { rng, stay } = this;
    if (rng.chance(0.2)) this.bloodGas(stay.intime - rng.int(60, 23 * 60) * M);
    for (const seg of this.resp) {
      const frequent = seg.kind === 'vent' || seg.kind === 'trach';
      if (!frequent && !((seg.kind === 'niv' || seg.kind === 'hfnc') && rng.chance(0.5))) continue;
      const [lo, hi] = frequent ? [2 * 60, 8 * 60] : [6 * 60, 12 * 60];
      for (let t = seg.start + rng.int(10, 120) * M; t < seg.end; t += rng.int(lo, hi) * M) this.bloodGas(jitter(rng, t));
    }
    if (rng.chance(0.3)) {
      const n = rng.int(1, 4);
      const span = Math.max(1, Math.floor((stay.outtime - stay.intime) / M));
      for (let i = 0; i < n; i++) this.bloodGas(stay.intime + rng.int(0, span) * M);
    }
  }

  inputRow(itemid: number, start: number, end: number, rate: number | null, rateuom: string | null, linkorderid: number, weight: number, status: string, stayNull: boolean): void {
    const { rng, stay } = this;
    const minutes = (end - start) / M;
    const amount = rate === null ? 1 : round((rate * (rateuom === 'mg/kg/min' ? 1000 : 1) * weight * minutes) / 1000, 4);
    const orderid = this.ids.order++;
    this.w.inputevents.row([
      stay.subjectId, stay.hadmId, stayNull ? null : stay.stayId, this.caregiver(), fmt(start), fmt(end), fmt(end + rng.int(0, 30) * M),
      itemid, amount, 'mg', rate, rateuom, orderid, linkorderid, rate === null ? '11-Prophylaxis (IV)' : '01-Drips', 'Additive',
      'Main order parameter', rate === null ? 'Drug Push' : 'Continuous Med', weight, 250, 'ml', 0, 0, status, amount, rate,
    ]);
  }

  /** One infusion: consecutive rate segments, some on exact hour boundaries, pauses, rewrites. */
  infusion(itemid: number, rate: () => number, mgPerKg = false, weightOne = false): void {
    const { rng, stay } = this;
    const losMin = Math.floor((stay.outtime - stay.intime) / M);
    let t = stay.intime + rng.int(-60, Math.max(0, losMin - 120)) * M;
    if (rng.chance(0.2)) t = ceilHour(t);
    const end = Math.min(t + rng.int(2 * 60, 72 * 60) * M, stay.outtime + rng.int(0, 60) * M);
    const link = this.ids.order;
    const weight = weightOne ? 1 : stay.weight;
    const uom = mgPerKg ? 'mg/kg/min' : 'mcg/kg/min';
    while (t < end) {
      let segEnd = Math.min(t + rng.int(15, 360) * M, end);
      if (rng.chance(0.3) && ceilHour(segEnd) > t) segEnd = ceilHour(segEnd);
      const mcg = rate();
      const r = mgPerKg && !weightOne ? round(mcg / 1000, 7) : mcg;
      const last = segEnd >= end;
      this.inputRow(itemid, t, segEnd, r, uom, link, weight, last ? rng.pick(['FinishedRunning', 'Stopped']) : 'ChangeDose/Rate', rng.chance(0.01));
      if (rng.chance(0.02)) this.inputRow(itemid, t, segEnd, rate(), uom, link, weight, 'Rewritten', false);
      t = segEnd + (rng.chance(0.08) ? rng.int(30, 90) * M : 0);
    }
  }

  vasopressors(): void {
    const { rng, stay } = this;
    const near = (edges: readonly number[], lo: number, hi: number, digits: number, zero = 0) => (): number => {
      const r = rng.next();
      if (r < zero) return 0;
      if (r < 0.25) return rng.pick(edges);
      return round(rng.uniform(lo, hi), digits);
    };
    if (rng.chance(0.3)) {
      const r = rng.next();
      this.infusion(221906, near([0.1, 0.1, 0.099, 0.101, 0.1000001], 0.02, 0.5, 3), r < 0.04, r < 0.01);
      if (rng.chance(0.2)) this.infusion(221906, near([0.1, 0.05], 0.02, 0.3, 3));
    }
    if (rng.chance(0.08)) this.infusion(221289, near([0.1, 0.1, 0.099, 0.101], 0.01, 0.3, 3, 0.03));
    if (rng.chance(0.08)) this.infusion(221662, near([5, 15, 4.99, 5.01, 15.01, 14.99], 2, 20, 1));
    if (rng.chance(0.07)) this.infusion(221653, near([5, 2.5], 2, 20, 1, 0.03));
    if (rng.chance(0.01)) {
      const t = stay.intime + rng.int(0, 600) * M;
      this.inputRow(221906, t, t + M, null, null, this.ids.order, stay.weight, 'FinishedRunning', false);
    }
  }

  urine(): void {
    const { rng, stay } = this;
    const pattern = rng.next();
    if (pattern < 0.05) return;
    const sparse = pattern < 0.2;
    const r = rng.next();
    const mlPerHour = r < 0.1 ? rng.uniform(3, 9) : r < 0.25 ? rng.uniform(15, 24) : rng.uniform(30, 120);
    const foley = rng.chance(0.85);
    const irrigation = rng.chance(0.08);
    let t = rng.chance(0.05) ? stay.intime - rng.int(10, 60) * M : stay.intime + rng.int(20, 180) * M;
    let last = t - H;
    while (t < stay.outtime) {
      const tj = jitter(rng, t);
      const hours = (t - last) / H;
      const itemid = foley ? 226559 : rng.pick([226560, 226561, 226567]);
      const volume = rng.chance(0.05) ? 0 : Math.round(mlPerHour * hours * Math.exp(rng.normal() * 0.3));
      const s = stay;
      const out = (item: number, value: number): void => {
        this.w.outputevents.row([s.subjectId, s.hadmId, s.stayId, this.caregiver(), fmt(tj), fmt(tj + rng.int(1, 60) * M), item, value, 'ml']);
      };
      out(itemid, volume);
      if (rng.chance(0.05)) out(itemid === 226560 ? 226559 : 226560, rng.int(0, 200));
      if (irrigation && rng.chance(0.3)) {
        const irrigant = rng.int(100, 1000);
        out(227488, irrigant);
        out(227489, irrigant + volume);
      }
      last = t;
      const step = sparse ? rng.int(4 * 60, 14 * 60) : rng.chance(0.03) ? rng.int(4 * 60, 10 * 60) : rng.int(40, 180);
      t += step * M;
    }
  }

  weights(): void {
    const { rng, stay } = this;
    if (rng.chance(0.9)) this.num(226512, stay.intime + rng.int(-60, 120) * M, stay.weight, 'kg');
    if (rng.chance(0.5)) {
      for (let t = stay.intime + rng.int(12 * 60, 30 * 60) * M; t < stay.outtime; t += rng.int(20 * 60, 28 * 60) * M) {
        this.num(224639, t, round(stay.weight + rng.normal() * 2, 1), 'kg');
      }
    }
  }

  /** Unrelated charting, so the relevant items are a minority of chartevents as in MIMIC-IV. */
  filler(perHour: number): void {
    const { rng, stay } = this;
    for (let hour = floorHour(stay.intime); hour < stay.outtime; hour += H) {
      for (let i = 0; i < perHour; i++) {
        const t = hour + rng.int(0, 59) * M;
        switch (rng.int(0, 7)) {
          case 0: this.num(220210, t, rng.int(8, 35), 'insp/min'); break;
          case 1: this.num(223761, t, round(rng.uniform(96, 103), 1), '°F'); break;
          case 2: this.chart(220048, t, rng.pick(['SR (Sinus Rhythm)', 'ST (Sinus Tachycardia)', 'AF (Atrial Fibrillation)']), null, null); break;
          case 3: this.chart(224641, t, 'Yes', null, null); break;
          case 4: this.num(220046, t, 120, 'bpm'); break;
          case 5: this.num(220047, t, 50, 'bpm'); break;
          case 6: this.chart(224650, t, 'None', null, null); break;
          default: this.num(223770, t, 88, '%'); break;
        }
      }
    }
  }
}

async function flushAll(w: Writers): Promise<void> {
  for (const writer of Object.values(w)) await writer.flush();
}

export async function generateCohort(options: GenerateOptions): Promise<GenerateSummary> {
  const started = performance.now();
  const ext = options.gzip ? '.csv.gz' : '.csv';
  for (const module of ['hosp', 'icu']) {
    const dir = path.join(options.out, module);
    fs.mkdirSync(dir, { recursive: true });
    for (const stale of fs.readdirSync(dir)) if (/\.csv(\.gz)?$/.test(stale)) fs.rmSync(path.join(dir, stale));
  }
  const w = Object.fromEntries(
    Object.entries(COLUMNS).map(([table, columns]) => [
      table,
      new TableWriter(path.join(options.out, TABLE_MODULE[table as keyof typeof COLUMNS], `${table}${ext}`), columns, options.gzip),
    ]),
  ) as Writers;
  const ids: Ids = { labevent: 1, specimen: 1000000, order: 100000 };
  let made = 0;
  let subjectIndex = 0;
  let hadmNext = 20000000;
  let stayNext = 30000000;
  while (made < options.stays) {
    const rng = new Rng(options.seed, subjectIndex);
    const subjectId = 10000000 + subjectIndex;
    subjectIndex++;
    const anchorYear = rng.int(2110, 2200);
    w.patients.row([subjectId, rng.pick(['F', 'M']), rng.int(18, 91), anchorYear, rng.pick(['2008 - 2010', '2011 - 2013', '2014 - 2016', '2017 - 2019']), null]);
    const admissionCount = rng.chance(0.15) ? 2 : 1;
    let admit = Date.UTC(anchorYear, 0, 1) / 1000 + rng.int(0, 300 * 24 * 60) * M;
    const subjectStays: Stay[] = [];
    const hadmIds: number[] = [];
    for (let a = 0; a < admissionCount; a++) {
      const hadmId = hadmNext++;
      hadmIds.push(hadmId);
      const stayCount = made + subjectStays.length >= options.stays ? 0 : rng.chance(0.05) ? 2 : 1;
      let intime = admit + rng.int(0, 48 * 60) * M;
      let lastOut = intime;
      for (let s = 0; s < stayCount && made + subjectStays.length < options.stays; s++) {
        const losMin = Math.round(Math.min(20 * 24 * 60, Math.max(6 * 60, Math.exp(Math.log(2.5 * 24 * 60) + rng.normal() * 0.7))));
        const outtime = intime + losMin * M;
        subjectStays.push({ subjectId, hadmId, stayId: stayNext++, intime, outtime, otherHadmIds: [], weight: round(rng.uniform(45, 130), 1) });
        lastOut = outtime;
        intime = outtime + rng.int(4 * 60, 72 * 60) * M;
      }
      const discharge = lastOut + rng.int(60, 10 * 24 * 60) * M;
      const died = rng.chance(0.1);
      w.admissions.row([
        subjectId, hadmId, fmt(admit), fmt(discharge), died ? fmt(discharge) : null, rng.pick(['EW EMER.', 'URGENT', 'ELECTIVE', 'OBSERVATION ADMIT']),
        `P${rng.int(10000, 99999)}`, 'EMERGENCY ROOM', died ? 'DIED' : 'HOME', 'Other', 'ENGLISH', 'MARRIED', 'WHITE',
        null, null, died ? 1 : 0,
      ]);
      // a second admission soon after discharge makes stay windows overlap another admission
      admit = discharge + (rng.chance(0.3) ? rng.int(2 * 60, 30 * 60) : rng.int(10 * 24 * 60, 400 * 24 * 60)) * M;
    }
    for (const stay of subjectStays) {
      stay.otherHadmIds = hadmIds.filter((h) => h !== stay.hadmId);
      const unit = rng.pick(CAREUNITS);
      w.icustays.row([
        stay.subjectId, stay.hadmId, stay.stayId, unit, rng.chance(0.9) ? unit : rng.pick(CAREUNITS), fmt(stay.intime), fmt(stay.outtime),
        round((stay.outtime - stay.intime) / DAY, 4),
      ]);
      const sw = new StayWriter(stay, rng, w, ids);
      sw.planResp();
      sw.heartRate();
      sw.bloodPressure();
      sw.gcs();
      sw.respiratory();
      sw.labs();
      sw.bloodGases();
      sw.vasopressors();
      sw.urine();
      sw.weights();
      sw.filler(options.filler);
    }
    made += subjectStays.length;
    await flushAll(w);
  }
  let bytes = 0;
  const rows: Record<string, number> = {};
  for (const [table, writer] of Object.entries(w)) {
    bytes += await writer.close();
    rows[table] = writer.rows;
  }
  return { stays: made, subjects: subjectIndex, rows, bytes, ms: performance.now() - started };
}

export function parseGenerateArgs(args: readonly string[]): GenerateOptions {
  const option = (name: string, fallback: string): string => {
    const index = args.indexOf(`--${name}`);
    return index === -1 ? fallback : (args[index + 1] ?? fallback);
  };
  const stays = Number(option('stays', '200'));
  const seed = Number(option('seed', '1'));
  const filler = Number(option('filler', '6'));
  if (!Number.isInteger(stays) || stays < 1) throw new Error('--stays must be a positive integer');
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  if (!Number.isInteger(filler) || filler < 0) throw new Error('--filler must be a non-negative integer');
  return { stays, seed, filler, gzip: args.includes('--gzip'), out: path.resolve(option('out', `/tmp/immunoguide-sofa-bench/cohort-${stays}-${seed}`)) };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = parseGenerateArgs(process.argv.slice(2));
  const summary = await generateCohort(options);
  console.log(`generated ${summary.stays} stays (${summary.subjects} subjects) in ${options.out} in ${(summary.ms / 1000).toFixed(1)} s, ${(summary.bytes / 1e6).toFixed(1)} MB`);
  for (const [table, n] of Object.entries(summary.rows)) console.log(`  ${table}: ${n.toLocaleString('en-US')} rows`);
}
