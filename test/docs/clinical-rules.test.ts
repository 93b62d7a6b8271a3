import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { IMMUNE_RULE_SETS } from '../../src/clinical/immune/index.ts';
import { renderImmuneRuleSetsMarkdown } from '../../src/clinical/immune/render.ts';
import { RULES_DOC_SECTIONS, renderRulesDocument } from '../../src/clinical/rules-doc.ts';

const DOC = path.resolve(import.meta.dirname, '../../docs/clinical-rules.md');

test('docs/clinical-rules.md is the rendering of the current rule-set data (run npm run docs:rules)', () => {
  assert.equal(fs.readFileSync(DOC, 'utf8'), renderRulesDocument());
});

test('every immune rule set appears with its id, version, thresholds and sources', () => {
  const markdown = renderImmuneRuleSetsMarkdown();
  for (const ruleSet of IMMUNE_RULE_SETS) {
    assert.ok(markdown.includes(`Rule set \`${ruleSet.id}\`, version ${ruleSet.version}.`), ruleSet.id);
  }
  for (const text of [
    '| `mals-ferritin` | ferritin > 4420 ng/mL | `ng/mL` |',
    '| `immunoparalysis-hla-dr` | HLA-DR < 5000 molecules/monocyte | `{molecules}/{cell}` |',
    '| `mals-reversal-ferritin-fall` | ferritin fall from baseline >= 15 % |',
    '| `immunoparalysis-reversal-hla-dr` | HLA-DR > 8000 molecules/monocyte |',
    '| `immunoparalysis-hla-dr-percent` | HLA-DR positive monocytes < 30 % |',
    '| `hscore-mals` | HScore >= 169 points |',
    '| temperature | temperature >= 38.4 °C and <= 39.4 °C | 33 |',
    '| `supar-hyperinflammation` | suPAR >= 6 ng/mL |',
    'doi:10.1001/jama.2025.24175',
  ]) {
    assert.ok(markdown.includes(text), text);
  }
});

test('the document lists each section in its contents, each section starting with its level-2 heading', () => {
  const document = renderRulesDocument();
  for (const section of RULES_DOC_SECTIONS) {
    assert.ok(section.render().startsWith(`## ${section.title}`), section.id);
    assert.ok(document.includes(`- [${section.title}](#`), section.id);
  }
  assert.ok(document.endsWith('\n') && !document.endsWith('\n\n'));
});
