import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { checkFile, checkLayers, importsOf } from '../../scripts/layers.ts';

const root = process.cwd();
const core = (name: string): string => path.join(root, 'src/clinical', name);

test('the repository itself has no layer violations', () => {
  assert.deepEqual(checkLayers(root), []);
});

test('finds static, re-export, side-effect and dynamic imports with their lines', () => {
  const source = [
    "import { a } from './a.ts';",
    "import type { B } from '../stats/b.ts';",
    "export { c } from './c.ts';",
    "import './side-effect.ts';",
    "const d = await import('./d.ts');",
  ].join('\n');
  assert.deepEqual(
    importsOf(source).map((i) => [i.specifier, i.line]),
    [
      ['./a.ts', 1],
      ['../stats/b.ts', 2],
      ['./c.ts', 3],
      ['./side-effect.ts', 4],
      ['./d.ts', 5],
    ],
  );
});

test('flags a core module importing the store, the server or the CLI', () => {
  for (const specifier of ['../store/db.ts', '../server/app.ts', '../cli/main.ts', '../sources/csv.ts']) {
    const violations = checkFile(root, core('x.ts'), `import { y } from '${specifier}';`);
    assert.equal(violations.length, 1, specifier);
    assert.match(violations[0]!.reason, /must not depend on/);
  }
});

test('flags I/O packages and builtins in the core, with or without node: prefix', () => {
  for (const specifier of ['node:fs', 'fs/promises', 'pg', '@electric-sql/pglite', 'node:http', 'fastify']) {
    assert.equal(checkFile(root, core('x.ts'), `import x from '${specifier}';`).length, 1, specifier);
  }
});

test('allows core-to-core imports and pure libraries', () => {
  const source = "import { a } from '../stats/a.ts';\nimport { b } from './b.ts';\nimport ucum from '@lhncbc/ucum-lhc';";
  assert.deepEqual(checkFile(root, core('x.ts'), source), []);
});
