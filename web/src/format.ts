/** Formatting for a ward screen: 24-hour local times, explicit units, no silent rounding of decisions. */

const dateTime = new Intl.DateTimeFormat('en-GB', {
  day: '2-digit',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});
const dateOnly = new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: 'short', year: 'numeric' });
const shortDateTime = new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** The browser's time zone, shown wherever times are displayed. */
export const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : dateTime.format(ms);
}

export function formatShortDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : shortDateTime.format(ms);
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : dateOnly.format(ms);
}

/** "45 min", "7 h", "2 d 5 h", "312 d". */
export function formatAgeHours(hours: number | null | undefined): string {
  if (hours === null || hours === undefined || !Number.isFinite(hours)) return '—';
  if (hours < 0) return 'in the future';
  if (hours < 1) return `${Math.round(hours * 60)} min`;
  if (hours < 48) return `${Math.floor(hours)} h`;
  const days = Math.floor(hours / 24);
  if (days >= 14) return `${days} d`;
  const rest = Math.floor(hours - days * 24);
  return rest ? `${days} d ${rest} h` : `${days} d`;
}

/** Age in whole years at a date. */
export function ageYears(birthDate: string | null | undefined, atMs: number): number | null {
  if (!birthDate) return null;
  const birth = new Date(birthDate);
  if (Number.isNaN(birth.getTime())) return null;
  const at = new Date(atMs);
  let years = at.getUTCFullYear() - birth.getUTCFullYear();
  const beforeBirthday =
    at.getUTCMonth() < birth.getUTCMonth() || (at.getUTCMonth() === birth.getUTCMonth() && at.getUTCDate() < birth.getUTCDate());
  if (beforeBirthday) years--;
  return years;
}

/** A measured value as reported: up to 4 significant decimals, never rounded to a threshold. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (Number.isInteger(value)) return value.toLocaleString('en-GB');
  return value.toLocaleString('en-GB', { maximumFractionDigits: 4 });
}

/** Clinician spelling of canonical UCUM units. */
const UNIT_LABELS: Record<string, string> = {
  '{molecules}/{cell}': 'molecules/monocyte',
  '10*3/uL': '×10³/µL',
  'ug/kg/min': 'µg/kg/min',
  'mm[Hg]': 'mmHg',
  '{score}': 'points',
  '1': '',
  '%': '%',
};

export function unitLabel(unit: string | null | undefined): string {
  if (!unit) return '';
  return UNIT_LABELS[unit] ?? unit.replace(/\bu(?=[gLm])/g, 'µ');
}

export function withUnit(value: number | null | undefined, unit: string | null | undefined): string {
  const label = unitLabel(unit);
  return label ? `${formatValue(value)} ${label}` : formatValue(value);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;
}
