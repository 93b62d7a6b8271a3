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

/** UTC ISO 8601 text, without milliseconds when they are zero: "2026-01-05T08:00:00Z". */
export function formatInstant(ms: number): IsoDateTime {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** Signed hours from `fromMs` to `toMs`. */
export function hoursBetween(fromMs: number, toMs: number): number {
  return (toMs - fromMs) / HOUR_MS;
}
