/**
 * Timestamps of the sources, turned into the canonical ISO 8601 instant (UTC, milliseconds:
 * what Date.prototype.toISOString prints), so the same instant is the same string whatever the
 * format it came from.
 */
import { digitsAt, fixedDateTimeMs } from '../clinical/instant.ts';
import type { IsoDateTime } from '../clinical/types.ts';

export type TimeResult = { ok: true; iso: IsoDateTime } | { ok: false; reason: string };

/** FHIR instant / dateTime with a time of day: seconds and fraction optional, time zone required. */
const FHIR_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DATE_ONLY = /^\d{4}(-\d{2}(-\d{2})?)?$/;

/**
 * A FHIR dateTime that names an instant. A date without a time ("2026-01-05") is refused: taking
 * it as midnight would move a lab of that afternoon into the previous SOFA day.
 */
export function parseFhirInstant(text: unknown): TimeResult {
  if (typeof text !== 'string') return { ok: false, reason: `expected a date-time string, got ${describe(text)}` };
  const fast = canonicalUtc(text);
  if (fast !== undefined) return { ok: true, iso: fast };
  const match = FHIR_DATE_TIME.exec(text);
  if (!match) {
    if (DATE_ONLY.test(text)) return { ok: false, reason: `"${text}" has no time of day (an instant is needed to place the value)` };
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) {
      return { ok: false, reason: `"${text}" has no time zone (FHIR requires one when a time is given)` };
    }
    return { ok: false, reason: `"${text}" is not a FHIR dateTime` };
  }
  return fromMillis(Date.parse(text), text);
}

/**
 * A MIMIC-IV timestamp ("2180-07-23 14:00:00", time zone-less by design of the de-identified
 * database: the values are read as UTC, which keeps their intervals exact).
 */
export function parseNaiveTimestamp(text: string): TimeResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: 'the time is empty' };
  // Fast path for the published layout: "YYYY-MM-DD HH:MM:SS".
  if (trimmed.length === 19 && trimmed[10] === ' ' && trimmed[4] === '-' && trimmed[13] === ':') {
    const iso = `${trimmed.slice(0, 10)}T${trimmed.slice(11)}.000Z`;
    const millis = Date.parse(iso);
    if (Number.isFinite(millis) && new Date(millis).toISOString() === iso) return { ok: true, iso };
    return { ok: false, reason: `"${text}" is not a valid time` };
  }
  if (/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$/.test(trimmed)) {
    const withTime = trimmed.length === 10 ? `${trimmed}T00:00:00` : trimmed.replace(' ', 'T');
    return fromMillis(Date.parse(`${withTime}Z`), text);
  }
  return { ok: false, reason: `"${text}" is not a time of the form YYYY-MM-DD HH:MM:SS` };
}

/**
 * The canonical form of a UTC instant already written as YYYY-MM-DDTHH:MM:SS[.sss]Z, checked
 * field by field without the Date parser (the common case of exports: several per record).
 */
function canonicalUtc(text: string): string | undefined {
  const length = text.length;
  if ((length !== 20 && length !== 24) || text.charCodeAt(length - 1) !== 90 /* Z */) return undefined;
  if (text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':') return undefined;
  if (length === 24 && text[19] !== '.') return undefined;
  const ms = fixedDateTimeMs(text);
  if (ms === undefined || ms === null) return undefined;
  if (length === 24) return digitsAt(text, 20, 3) < 0 ? undefined : text;
  return `${text.slice(0, 19)}.000Z`;
}

/** A date (YYYY-MM-DD) that exists. */
export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const millis = Date.parse(`${text}T00:00:00Z`);
  return Number.isFinite(millis) && new Date(millis).toISOString().startsWith(text);
}

function fromMillis(millis: number, text: string): TimeResult {
  if (!Number.isFinite(millis)) return { ok: false, reason: `"${text}" is not a valid time` };
  return { ok: true, iso: new Date(millis).toISOString() };
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value) ?? String(value);
}
