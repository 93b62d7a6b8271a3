/**
 * Strict ISO 8601 instants for the clinical core. Every time in the engine is an absolute
 * instant (with `Z` or an explicit offset) so that calendars and windows are computed in
 * elapsed hours, never in local wall-clock time (no daylight-saving surprises).
 */
import type { IsoDateTime } from './types.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Milliseconds since the epoch for an ISO 8601 instant with a zone designator, or null when the
 * text is not one (no zone, impossible calendar date such as 2026-02-30, malformed).
 */
export function parseInstant(text: IsoDateTime): number | null {
  // The canonical UTC forms (what the store and the parsers write, so nearly every call) are
  // read digit by digit; anything else takes the general path. Both give the same answer
  // (test/clinical/instant.test.ts compares them).
  if ((text.length === 20 || text.length === 24) && text.charCodeAt(text.length - 1) === 90 /* Z */) {
    const fast = canonicalUtcMs(text);
    if (fast !== undefined) return fast;
  }
  return parseInstantGeneral(text);
}

/** The general reader (any zone, optional seconds and fraction). Exported for tests. */
export function parseInstantGeneral(text: IsoDateTime): number | null {
  const m = ISO_INSTANT.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  // Date.parse silently rolls 2026-02-30 over to 2026-03-02: check the day exists.
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DDTHH:MM:SS.sssZ; undefined when the text is not exactly that shape. */
function canonicalUtcMs(t: string): number | null | undefined {
  if (t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45 || t.charCodeAt(10) !== 84 || t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58) return undefined;
  let millis = 0;
  if (t.length === 24) {
    if (t.charCodeAt(19) !== 46) return undefined;
    millis = digitsAt(t, 20, 3);
    if (millis < 0) return undefined;
  }
  const ms = fixedDateTimeMs(t);
  return ms === undefined || ms === null ? ms : ms + millis;
}

/**
 * Milliseconds (wall clock read as UTC) of the date and time written with digits at the fixed
 * positions of "YYYY-MM-DD?HH:MM:SS" (0, 5, 8, 11, 14, 17; the separators are the caller's to
 * check): undefined when a field is not all digits, null when the date or time does not exist
 * (2026-02-30, 24:00). The shared fast path of the parsers of canonical and MIMIC-IV times.
 */
export function fixedDateTimeMs(t: string): number | null | undefined {
  const year = digitsAt(t, 0, 4);
  const month = digitsAt(t, 5, 2);
  const day = digitsAt(t, 8, 2);
  const hour = digitsAt(t, 11, 2);
  const minute = digitsAt(t, 14, 2);
  const second = digitsAt(t, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  return civilMs(year, month, day, hour, minute, second);
}

/**
 * fixedDateTimeMs on bytes (ASCII digits of "YYYY-MM-DD?HH:MM:SS" from `at`): the MIMIC-IV
 * reader parses chart times without decoding the line to text.
 */
export function fixedDateTimeMsOfBytes(b: Uint8Array, at: number): number | null | undefined {
  const year = byteDigitsAt(b, at, 4);
  const month = byteDigitsAt(b, at + 5, 2);
  const day = byteDigitsAt(b, at + 8, 2);
  const hour = byteDigitsAt(b, at + 11, 2);
  const minute = byteDigitsAt(b, at + 14, 2);
  const second = byteDigitsAt(b, at + 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  return civilMs(year, month, day, hour, minute, second);
}

/** Milliseconds of a proleptic Gregorian date and time read as UTC; null when it does not exist. */
function civilMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number | null {
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day < 1 || day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return null;
  // Days since 1970-01-01 of the proleptic Gregorian date (days_from_civil).
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const days = era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
  return days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000;
}

/** The decimal number of the `count` ASCII digits at `start` of `b`, or -1. */
export function byteDigitsAt(b: Uint8Array, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const c = b[i]! - 48;
    if (!(c >= 0 && c <= 9)) return -1;
    value = value * 10 + c;
  }
  return value;
}

/** The decimal number of `count` digits at `start`, or -1. */
export function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/** UTC ISO 8601 text, without milliseconds when they are zero: "2026-01-05T08:00:00Z". */
export function formatInstant(ms: number): IsoDateTime {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** Signed hours from `fromMs` to `toMs`. */
export function hoursBetween(fromMs: number, toMs: number): number {
  return (toMs - fromMs) / HOUR_MS;
}
