/**
 * Worker threads that run TypeScript modules. The sources run through tsx's loader (there is no
 * build step), and a worker thread of Node 20 neither inherits the loader registered in the main
 * thread nor honours `--import` in its execArgv: the thread first registers tsx itself (resolved
 * from this file, so the current directory does not matter), then imports the module.
 *
 * Registering tsx costs a thread 110-350 ms (its own module hooks thread, every import a round
 * trip to it), which a short job run on several threads pays at its start on every thread.
 * startBundledWorker avoids it for entries that can be bundled: esbuild (the compiler tsx itself
 * runs on) turns the entry and its modules into one script once per process, and the threads run
 * that script directly.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { buildSync } from 'esbuild';

export function startTsWorker(entry: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const loader = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { ...options, eval: true });
}

/** Bundled scripts per entry (null: the entry cannot be bundled, its threads start through tsx). */
const bundles = new Map<string, string | null>();

/**
 * A worker thread running `entry` bundled into one CommonJS script, for entries whose modules
 * (npm packages included) use no import.meta, __dirname or __filename and import nothing outside
 * the bundle but Node's built-ins (module-relative paths would point nowhere from a bundle). Anything else, or esbuild failing, starts the thread
 * through tsx as startTsWorker does: the same code runs either way. Source maps are inline, so a
 * stack trace of the thread can be mapped back to the .ts files (node --enable-source-maps).
 */
export function startBundledWorker(entry: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  let code = bundles.get(entry.href);
  if (code === undefined) {
    code = bundle(entry);
    bundles.set(entry.href, code);
  }
  return code === null ? startTsWorker(entry, options) : new Worker(code, { ...options, eval: true });
}

/** The bundle of an entry, or null when it cannot be one (see startBundledWorker). */
export function bundle(entry: URL): string | null {
  try {
    const result = buildSync({
      entryPoints: [fileURLToPath(entry)],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: `node${process.versions.node.split('.')[0]}`,
      write: false,
      sourcemap: 'inline',
      metafile: true,
      logLevel: 'silent',
    });
    // import.meta in a CommonJS bundle is a warning (it would be undefined): not bundled.
    if (result.warnings.length > 0 || result.outputFiles.length !== 1) return null;
    for (const input of Object.values(result.metafile.inputs)) {
      for (const imported of input.imports) if (imported.external && !imported.path.startsWith('node:')) return null;
    }
    // npm packages are bundled too, unless they look for files next to themselves.
    for (const input of Object.keys(result.metafile.inputs)) {
      if (input.includes('node_modules/') && /\b__dirname\b|\b__filename\b|\brequire\.resolve\b/.test(fs.readFileSync(input, 'utf8'))) return null;
    }
    return result.outputFiles[0]!.text;
  } catch {
    return null;
  }
}
