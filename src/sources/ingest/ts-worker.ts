/**
 * Worker threads that run TypeScript modules. The sources run through tsx's loader (there is no
 * build step), and a worker thread of Node 20 neither inherits the loader registered in the main
 * thread nor honours `--import` in its execArgv: the thread first registers tsx itself (resolved
 * from this file, so the current directory does not matter), then imports the module.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startTsWorker(entry: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const loader = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { ...options, eval: true });
}
