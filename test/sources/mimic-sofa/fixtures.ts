/**
 * Builders of the hand-checkable MIMIC-IV fixtures (conventions.test.ts, canonical.test.ts): rows
 * of one patient per subject id (stay = subject x 1000, admission = subject x 100) at times of
 * January 2150, written into anything that takes the rows the SOFA reader produces (the
 * collector itself, or MimicRows, which also keeps them as CSV rows).
 */
import { parseMimicTime } from '../../../src/sources/mimic/sofa/read.ts';
import { ITEM, type MimicSofaTables } from '../../../src/sources/mimic/sofa/tables.ts';

export type RowSink = Pick<MimicSofaTables, 'addIcuStay' | 'addChart' | 'addLab' | 'addInput' | 'addOutput'>;

/** "DD HH:MM:SS" of January 2150 as MIMIC-IV milliseconds. */
export const t = (text: string): number => {
  const ms = parseMimicTime(`2150-01-${text}`);
  if (ms === null) throw new Error(`bad time ${text}`);
  return ms;
};

/** An ICU stay with its first and last heart rate (the hour grid); returns the stay id. */
export function stay(rows: RowSink, subject: number, options: { firstHeartRate?: string; lastHeartRate?: string } = {}): number {
  const stayId = subject * 1000;
  rows.addIcuStay({ subjectId: subject, hadmId: subject * 100, stayId, intime: t('01 09:20:00'), outtime: t('03 12:00:00') });
  for (const at of [options.firstHeartRate ?? '01 09:30:00', options.lastHeartRate ?? '03 11:45:00']) chart(rows, subject, ITEM.heartRate, at, null, 80);
  return stayId;
}

export function chart(rows: RowSink, subject: number, itemid: number, at: string, value: string | null, valuenum: number | null, storetime?: string): void {
  rows.addChart({
    subjectId: subject,
    stayId: subject * 1000,
    charttime: t(at),
    storetime: storetime === undefined ? null : t(storetime),
    itemid,
    value: value ?? (valuenum === null ? null : String(valuenum)),
    valuenum,
  });
}

let specimen = 0;
export function lab(rows: RowSink, subject: number, itemid: number, at: string, valuenum: number | null, options: { hadm?: number | null; value?: string; specimenId?: string } = {}): void {
  rows.addLab({
    subjectId: subject,
    hadmId: options.hadm === undefined ? subject * 100 : options.hadm,
    specimenId: options.specimenId ?? `s${++specimen}`,
    itemid,
    charttime: t(at),
    value: options.value ?? (valuenum === null ? null : String(valuenum)),
    valuenum,
  });
}

/** A blood gas: one specimen with its type, pO2 and optionally FiO2 (the type row first, or after the pO2 row). */
export function gas(rows: RowSink, subject: number, at: string, po2: number, fio2: number | null, type = 'ART.', hadm?: number | null, typeFirst = true): void {
  const specimenId = `gas${++specimen}`;
  if (typeFirst) lab(rows, subject, ITEM.bgSpecimen, at, null, { value: type, specimenId, hadm });
  lab(rows, subject, ITEM.bgPo2, at, po2, { specimenId, hadm });
  if (fio2 !== null) lab(rows, subject, ITEM.bgFio2, at, fio2, { specimenId, hadm });
  if (!typeFirst) lab(rows, subject, ITEM.bgSpecimen, at, null, { value: type, specimenId, hadm });
}

export function vaso(rows: RowSink, subject: number, itemid: number, from: string, to: string, rate: number | null, rateuom = 'mcg/kg/min'): void {
  rows.addInput({ stayId: subject * 1000, starttime: t(from), endtime: t(to), itemid, rate, rateuom, patientweight: 80 });
}

export function urine(rows: RowSink, subject: number, at: string, ml: number, itemid = 226559): void {
  rows.addOutput({ stayId: subject * 1000, charttime: t(at), itemid, value: ml });
}
