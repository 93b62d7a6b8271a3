/**
 * Worker threads started from a bundle (startBundledWorker) run the same code as through tsx, and
 * entries that cannot be bundled (module-relative paths through import.meta, npm packages) are
 * refused by bundle() so that their threads start through tsx instead.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { after, before, test } from 'node:test';
import { bundle, startBundledWorker, startTsWorker } from '../../src/sources/ingest/ts-worker.ts';

let dir: string;
const url = (name: string) => pathToFileURL(path.join(dir, name));

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ig-ts-worker-'));
  const files: Record<string, string> = {
    // ES modules, like the project's own sources.
    'package.json': '{ "type": "module" }\n',
    // A TypeScript entry with a type-only import, an imported module and a Node built-in.
    'shapes.ts': 'export interface Shape { sides: number }\nexport const area = (w: number, h: number): number => w * h;\n',
    'entry.ts': [
      "import { parentPort, workerData } from 'node:worker_threads';",
      "import { type Shape, area } from './shapes.ts';",
      'const shape: Shape = { sides: 4 };',
      'const { w, h } = workerData as { w: number; h: number };',
      'parentPort!.postMessage({ area: area(w, h), sides: shape.sides, stack: new Error("where").stack });',
    ].join('\n'),
    'meta.ts': "import { parentPort } from 'node:worker_threads';\nparentPort!.postMessage({ url: import.meta.url });\n",
    'package.ts': "import { parentPort } from 'node:worker_threads';\nimport pg from 'pg';\nparentPort!.postMessage({ pg: typeof pg.Pool });\n",
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

function firstMessage(worker: Worker): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    worker.once('message', (message: Record<string, unknown>) => {
      void worker.terminate();
      resolve(message);
    });
    worker.once('error', reject);
  });
}

test('an entry of TypeScript modules and Node built-ins is bundled, and its thread computes what the tsx thread does', async () => {
  const code = bundle(url('entry.ts'));
  assert.notEqual(code, null);
  assert.match(code!, /sourceMappingURL=data:application\/json;base64,/);
  const bundled = await firstMessage(startBundledWorker(url('entry.ts'), { workerData: { w: 6, h: 7 } }));
  const viaTsx = await firstMessage(startTsWorker(url('entry.ts'), { workerData: { w: 6, h: 7 } }));
  assert.deepEqual({ area: bundled.area, sides: bundled.sides }, { area: 42, sides: 4 });
  assert.deepEqual({ area: viaTsx.area, sides: viaTsx.sides }, { area: 42, sides: 4 });
  // The bundled thread ran the bundle (an eval'd script), not the module file through tsx.
  assert.doesNotMatch(String(bundled.stack), /entry\.ts/);
  assert.match(String(viaTsx.stack), /entry\.ts/);
});

test('entries using import.meta or npm packages (or missing) are not bundled; their threads start through tsx and still work', async () => {
  assert.equal(bundle(url('meta.ts')), null);
  assert.equal(bundle(url('package.ts')), null);
  assert.equal(bundle(url('missing.ts')), null);
  // The thread of an entry that is not bundled runs the module itself, import.meta included.
  const meta = await firstMessage(startBundledWorker(url('meta.ts')));
  assert.equal(meta.url, url('meta.ts').href);
});

test("the threads of the MIMIC-IV SOFA scorer and of screen are bundled (they start without tsx)", () => {
  assert.notEqual(bundle(new URL('../../src/sources/mimic/sofa/worker.ts', import.meta.url)), null);
  assert.notEqual(bundle(new URL('../../src/sources/ingest/screen-worker.ts', import.meta.url)), null);
});
