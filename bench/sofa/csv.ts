/**
 * Minimal CSV plumbing for the SOFA benchmark: a buffered table writer (plain or gzip) with
 * backpressure, a line reader for .csv / .csv.gz, and the hourly SOFA header shared by the
 * reference export, ImmunoGuide's `--hourly --out` and the comparison.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import type { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { MIMIC_SOFA_COLUMNS } from '../../src/sources/mimic/sofa/hourly.ts';

/** mimic-code's `sofa` column names, in the order `immunoguide sofa --hourly --out` writes them. */
export const SOFA_HOURLY_HEADER = MIMIC_SOFA_COLUMNS;

export type Cell = string | number | null | undefined;

/** MIMIC-IV's CSV convention: empty field = NULL; quote only when the text needs it. */
function formatCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  if (value === '' || /[",\n\r]|^\s|\s$/.test(value)) return `"${value.replaceAll('"', '""')}"`;
  return value;
}

export class TableWriter {
  readonly path: string;
  rows = 0;
  private readonly sink: Writable;
  private readonly file: fs.WriteStream;
  private chunks: string[] = [];
  private pending = 0;

  constructor(path: string, header: readonly string[], gzip: boolean) {
    this.path = path;
    this.file = fs.createWriteStream(path);
    if (gzip) {
      const gz = zlib.createGzip({ level: 6 });
      gz.pipe(this.file);
      this.sink = gz;
    } else {
      this.sink = this.file;
    }
    this.chunks.push(`${header.join(',')}\n`);
  }

  row(values: readonly Cell[]): void {
    let line = '';
    for (let i = 0; i < values.length; i++) line += (i === 0 ? '' : ',') + formatCell(values[i]);
    line += '\n';
    this.chunks.push(line);
    this.pending += line.length;
    this.rows++;
  }

  /** Hands buffered rows to the stream once they exceed ~1 MB, waiting for it to drain. */
  async flush(force = false): Promise<void> {
    if (!force && this.pending < 1 << 20) return;
    const text = this.chunks.join('');
    this.chunks = [];
    this.pending = 0;
    if (text.length === 0) return;
    if (!this.sink.write(text)) await new Promise<void>((resolve) => this.sink.once('drain', () => resolve()));
  }

  async close(): Promise<number> {
    await this.flush(true);
    await new Promise<void>((resolve, reject) => {
      this.file.once('finish', () => resolve());
      this.file.once('error', reject);
      this.sink.end();
    });
    return fs.statSync(this.path).size;
  }
}

/** The lines of a .csv or .csv.gz file (decompressed on the fly), without line terminators. */
export function readLines(path: string): AsyncIterable<string> {
  const raw = fs.createReadStream(path);
  const input = path.endsWith('.gz') ? raw.pipe(zlib.createGunzip()) : raw;
  return readline.createInterface({ input, crlfDelay: Infinity });
}

/** DIR/module/table.csv.gz or .csv, whichever exists (the published layout allows both). */
export function findTableFile(dir: string, module: string, table: string): string | undefined {
  for (const ext of ['.csv.gz', '.csv']) {
    const candidate = `${dir}/${module}/${table}${ext}`;
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}
