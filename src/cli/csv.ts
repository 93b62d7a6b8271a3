/**
 * A small RFC 4180 CSV reader for command-line inputs: comma-separated, fields optionally in
 * double quotes (with "" for a quote, and commas or line breaks inside), CRLF or LF line ends,
 * an optional UTF-8 byte order mark. Every record keeps the (1-based) line it starts on, so
 * error messages can point at the line a person sees in an editor.
 */

export interface CsvRecord {
  /** Line number (1-based) where the record starts; the header is line 1. */
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends Error {
  override name = 'CsvSyntaxError';
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.line = line;
  }
}

/** All records, header included; blank lines are skipped. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let fieldStarted = false;
    let ended = false;
    while (i < text.length && !ended) {
      const ch = text[i] as string;
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            quoted = false;
            i++;
            const after = text[i];
            if (after !== undefined && after !== ',' && after !== '\n' && after !== '\r') {
              throw new CsvSyntaxError(`unexpected character after a closing quote`, line);
            }
          }
        } else {
          if (ch === '\n') line++;
          field += ch;
          i++;
        }
        continue;
      }
      if (ch === '"' && !fieldStarted) {
        quoted = true;
        fieldStarted = true;
        i++;
      } else if (ch === ',') {
        fields.push(field);
        field = '';
        fieldStarted = false;
        i++;
      } else if (ch === '\r' || ch === '\n') {
        i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        ended = true;
      } else {
        field += ch;
        fieldStarted = true;
        i++;
      }
    }
    if (quoted) throw new CsvSyntaxError('a quoted field is not closed', start);
    fields.push(field);
    const blank = fields.length === 1 && fields[0] === '' && !fieldStarted;
    if (!blank) records.push({ line: start, fields });
  }
  return records;
}
