/**
 * boundHeapGrowth (what `immunoguide screen` runs with): V8's heaps grow by at most the given
 * percentage over what a full collection left live. Shown on the heap's size, not on time: the
 * same allocation pattern (a fixed live set, and garbage that lives long enough to reach the old
 * generation before it dies) runs in two fresh processes, one with V8's default and one bounded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { boundHeapGrowth } from '../../src/sources/ingest/screen.ts';

const SCREEN = path.resolve(import.meta.dirname, '../../src/sources/ingest/screen.ts');

/** Peak total V8 heap (MB) of a child that churns old-generation garbage over a 30 MB live set. */
function peakHeapMb(setup: string, execArgv: string[] = [], rounds = 40): { peakMb: number; set: boolean | null } {
  const script = `
    import v8 from 'node:v8';
    import { boundHeapGrowth } from ${JSON.stringify(SCREEN)};
    const set = ${setup};
    const live = Array.from({ length: 300_000 }, (_, i) => ({ i, text: 'live-' + i }));
    const ring = [[], [], [], []];
    let peak = 0;
    for (let round = 0; round < ${rounds}; round++) {
      // Objects that survive a few rounds (so they are promoted) and then are dropped.
      ring[round % ring.length] = Array.from({ length: 60_000 }, (_, i) => ({ round, i, text: 'garbage-' + i }));
      peak = Math.max(peak, v8.getHeapStatistics().total_heap_size);
    }
    process.stdout.write(JSON.stringify({ peakMb: peak / 1048576, set, live: live.length }));
  `;
  const child = spawnSync(process.execPath, [...execArgv, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as { peakMb: number; set: boolean | null };
}

describe('boundHeapGrowth', () => {
  it('keeps the heap of a process that churns long-lived garbage well below what V8 lets it grow to by default', () => {
    const byDefault = peakHeapMb('null');
    const bounded = peakHeapMb('boundHeapGrowth(10)');
    assert.equal(bounded.set, true);
    assert.ok(bounded.peakMb < byDefault.peakMb * 0.8, `bounded ${bounded.peakMb.toFixed(0)} MB, default ${byDefault.peakMb.toFixed(0)} MB`);
  });

  it('leaves a --heap-growing-percent given on the command line alone', () => {
    assert.equal(peakHeapMb('boundHeapGrowth()', ['--heap-growing-percent=200'], 0).set, false);
  });

  it('refuses a percentage that is not a whole number of at least 1', () => {
    for (const bad of [0, -5, 2.5, Number.NaN]) assert.throws(() => boundHeapGrowth(bad), RangeError);
  });
});
