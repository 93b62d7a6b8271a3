/** Buffered line output to a plain or gzip file, with backpressure (bounded memory for large exports). */
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { type Gzip, createGzip } from 'node:zlib';

const FLUSH_CHARS = 1 << 20;

export class LineWriter {
  readonly path: string;
  #parts: string[] = [];
  #chars = 0;
  #fd: number | undefined;
  #gzip: Gzip | undefined;
  #file: fs.WriteStream | undefined;
  bytes = 0;
  lines = 0;

  constructor(file: string) {
    this.path = file;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (file.endsWith('.gz')) {
      this.#gzip = createGzip({ level: 6 });
      this.#file = fs.createWriteStream(file);
      this.#gzip.pipe(this.#file);
    } else {
      this.#fd = fs.openSync(file, 'w');
    }
  }

  /** Adds a line (without its newline); resolves at once unless the gzip stream needs draining. */
  async line(text: string): Promise<void> {
    this.#parts.push(text, '\n');
    this.#chars += text.length + 1;
    this.lines++;
    if (this.#chars >= FLUSH_CHARS) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#parts.length === 0) return;
    const text = this.#parts.join('');
    this.#parts = [];
    this.#chars = 0;
    const buffer = Buffer.from(text, 'utf8');
    this.bytes += buffer.length;
    if (this.#fd !== undefined) fs.writeSync(this.#fd, buffer);
    else if (this.#gzip !== undefined && !this.#gzip.write(buffer)) await once(this.#gzip, 'drain');
  }

  async close(): Promise<void> {
    await this.#flush();
    if (this.#fd !== undefined) {
      fs.closeSync(this.#fd);
      this.#fd = undefined;
    }
    if (this.#gzip !== undefined && this.#file !== undefined) {
      const finished = once(this.#file, 'close');
      this.#gzip.end();
      await finished;
      this.#gzip = undefined;
    }
  }
}

/** Writers opened on first use, closed together. */
export class WriterSet {
  readonly #dir: string;
  readonly #suffix: string;
  readonly #writers = new Map<string, LineWriter>();

  constructor(dir: string, suffix: string) {
    this.#dir = dir;
    this.#suffix = suffix;
  }

  /** The writer of DIR/NAME+suffix, writing `header` first when it is new. */
  async get(name: string, header?: string): Promise<LineWriter> {
    let writer = this.#writers.get(name);
    if (writer === undefined) {
      writer = new LineWriter(path.join(this.#dir, `${name}${this.#suffix}`));
      this.#writers.set(name, writer);
      if (header !== undefined) await writer.line(header);
    }
    return writer;
  }

  async close(): Promise<Array<{ path: string; lines: number; bytes: number }>> {
    const files = [];
    for (const writer of this.#writers.values()) {
      await writer.close();
      files.push({ path: writer.path, lines: writer.lines, bytes: writer.bytes });
    }
    return files;
  }
}
