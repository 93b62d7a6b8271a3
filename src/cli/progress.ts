/**
 * A one-line progress bar on stderr for long CLI runs (synth, screen): percentage, a count with
 * its rate, and the time left. Drawn only on a terminal, so redirected output and tests get
 * clean streams; redrawn at most every 100 ms so drawing never costs more than the work.
 */
import type { CliIo } from './context.ts';

export interface ProgressBar {
  /** `done` of `total` (any unit: bytes, patients); `count` and `unit` give the rate shown. */
  update(done: number, total: number, count: number, unit: string): void;
  /** Ends the line (when something was drawn). */
  done(): void;
}

const WIDTH = 24;
const REDRAW_MS = 100;

export function progressBar(io: CliIo, label: string, now: () => number = () => performance.now()): ProgressBar {
  if (io.stderr.isTTY !== true) return { update: () => {}, done: () => {} };
  const started = now();
  let lastDraw = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    update(done, total, count, unit) {
      const at = now();
      if (at - lastDraw < REDRAW_MS && done < total) return;
      lastDraw = at;
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(fraction * WIDTH);
      const seconds = (at - started) / 1000;
      const rate = seconds > 0 ? count / seconds : 0;
      const eta = fraction > 0 && fraction < 1 ? (seconds * (1 - fraction)) / fraction : 0;
      io.stderr.write(
        `\r${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%  ` +
          `${count.toLocaleString('en-US')} ${unit}  ${Math.round(rate).toLocaleString('en-US')} ${unit}/s  ETA ${formatDuration(eta)}\u001b[K`,
      );
      drawn = true;
    },
    done() {
      if (drawn) io.stderr.write('\n');
      drawn = false;
    },
  };
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
