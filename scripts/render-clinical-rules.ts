/**
 * Writes docs/clinical-rules.md from the rule-set data (src/clinical/rules-doc.ts).
 *   npm run docs:rules            rewrite the document
 *   npm run docs:rules -- --check exit 1 when the committed document is out of date
 */
import fs from 'node:fs';
import path from 'node:path';
import { renderRulesDocument } from '../src/clinical/rules-doc.ts';

const target = path.resolve(import.meta.dirname, '../docs/clinical-rules.md');
const fresh = renderRulesDocument();

if (process.argv.includes('--check')) {
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
  if (current !== fresh) {
    console.error(`${path.relative(process.cwd(), target)} is out of date: run npm run docs:rules`);
    process.exit(1);
  }
  console.log(`${path.relative(process.cwd(), target)} is up to date`);
} else {
  fs.writeFileSync(target, fresh);
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
}
