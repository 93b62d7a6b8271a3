/**
 * Fields of one RFC 4180 CSV record (as the MIMIC-IV tables are published): comma separated,
 * fields optionally in double quotes, a doubled quote inside quotes is a quote. The record may
 * contain newlines inside quoted fields (the line reader joins them).
 */
export type CsvFields = { ok: true; fields: string[] } | { ok: false; reason: string };

export function splitCsvRecord(record: string): CsvFields {
  // Fast path: no quotes at all.
  if (record.indexOf('"') === -1) return { ok: true, fields: record.split(',') };
  const fields: string[] = [];
  let i = 0;
  const n = record.length;
  for (;;) {
    if (record.charCodeAt(i) === 34 /* " */) {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = record.indexOf('"', j);
        if (q === -1) return { ok: false, reason: `unterminated quoted field starting at character ${i + 1}` };
        value += record.slice(j, q);
        if (record.charCodeAt(q + 1) === 34) {
          value += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === n) return { ok: true, fields };
      if (record.charCodeAt(i) !== 44 /* , */) return { ok: false, reason: `unexpected character after a quoted field at character ${i + 1}` };
      i++;
    } else {
      const comma = record.indexOf(',', i);
      const end = comma === -1 ? n : comma;
      const value = record.slice(i, end);
      if (value.indexOf('"') !== -1) return { ok: false, reason: `a quote inside an unquoted field at character ${i + 1}` };
      fields.push(value);
      if (comma === -1) return { ok: true, fields };
      i = comma + 1;
    }
    if (i === n) {
      fields.push('');
      return { ok: true, fields };
    }
  }
}

/** A CSV field value, quoted when it needs to be (writers of the synthetic exports). */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
