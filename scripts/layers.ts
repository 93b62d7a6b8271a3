/** The rule behind scripts/check-layers.ts, importable by its test. */
import fs from 'node:fs';
import path from 'node:path';

export const CORE_DIRS = ['src/clinical', 'src/stats', 'src/trial'];
export const SHELL_DIRS = ['src/store', 'src/server', 'src/cli', 'src/sources', 'web'];
/** Packages and builtins that do I/O, hold connections or read the clock of a process. */
export const FORBIDDEN_PACKAGES = [
  'pg',
  '@electric-sql/pglite',
  'fastify',
  'commander',
  'pino',
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'http2',
  'child_process',
  'worker_threads',
  'dgram',
  'dns',
  'tls',
  'cluster',
];

export interface Violation {
  file: string;
  line: number;
  specifier: string;
  reason: string;
}

const IMPORT_PATTERN = /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[^\w.])import\s*\(?\s*['"]([^'"]+)['"]/g;

export function importsOf(source: string): Array<{ specifier: string; line: number }> {
  const found: Array<{ specifier: string; line: number }> = [];
  for (const match of source.matchAll(IMPORT_PATTERN)) {
    const specifier = match[1] ?? match[2];
    if (specifier === undefined) continue;
    const line = source.slice(0, match.index).split('\n').length + (match[0].startsWith('\n') ? 1 : 0);
    found.push({ specifier, line });
  }
  return found;
}

export function checkFile(root: string, file: string, source: string): Violation[] {
  const violations: Violation[] = [];
  for (const { specifier, line } of importsOf(source)) {
    const relativeFile = path.relative(root, file);
    if (specifier.startsWith('.')) {
      const target = path.relative(root, path.resolve(path.dirname(file), specifier));
      const shell = SHELL_DIRS.find((dir) => target === dir || target.startsWith(`${dir}${path.sep}`));
      if (shell) violations.push({ file: relativeFile, line, specifier, reason: `core must not depend on ${shell}` });
      else if (!CORE_DIRS.some((dir) => target.startsWith(`${dir}${path.sep}`) || target === dir)) {
        violations.push({ file: relativeFile, line, specifier, reason: 'core may import only core modules' });
      }
      continue;
    }
    const name = specifier.replace(/^node:/, '');
    const packageName = name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!;
    if (FORBIDDEN_PACKAGES.includes(name) || FORBIDDEN_PACKAGES.includes(packageName)) {
      violations.push({ file: relativeFile, line, specifier, reason: 'I/O module in the pure core' });
    }
  }
  return violations;
}

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return walk(full);
    return /\.(ts|tsx|mts|js|mjs)$/.test(entry.name) && !/\.test\.ts$/.test(entry.name) ? [full] : [];
  });
}

export function checkLayers(root: string): Violation[] {
  return CORE_DIRS.flatMap((dir) => walk(path.join(root, dir))).flatMap((file) =>
    checkFile(root, file, fs.readFileSync(file, 'utf8')),
  );
}
