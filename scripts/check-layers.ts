/**
 * Architecture check (part of `npm test`): the functional core - src/clinical, src/stats,
 * src/trial - imports nothing from the shells (store, server, cli, web, sources) and nothing
 * that does I/O (database drivers, HTTP, file system, network, child processes). Those stay
 * testable as pure functions and run the same in the server, the CLI and the browser.
 */
import { checkLayers } from './layers.ts';

const violations = checkLayers(process.cwd());
if (violations.length > 0) {
  console.error('Layer violations (the core must not import shells or I/O):');
  for (const v of violations) console.error(`  ${v.file}:${v.line}  imports "${v.specifier}"  (${v.reason})`);
  process.exit(1);
}
console.log('layers: core folders (clinical, stats, trial) import no store, server, cli, web or I/O modules');
