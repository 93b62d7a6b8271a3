/**
 * docs/clinical-rules.md: every rule set of the clinical engine rendered for clinicians from
 * its data, so the document cannot drift from the code (test/docs/clinical-rules.test.ts
 * compares the committed file with a fresh rendering; `npm run docs:rules` rewrites it).
 *
 * Extension point: a module that owns rule sets exports a RulesDocSection (or a list of them)
 * whose `render` returns Markdown starting with a level-2 heading ("## ..."), and adds it to
 * RULES_DOC_SECTIONS below, in reading order. Then run `npm run docs:rules`.
 */
import { renderImmuneRuleSetsMarkdown } from './immune/render.ts';
import { SCREENING_RULES_DOC_SECTIONS } from './screening-rules-doc.ts';
import { renderSofaRulesMarkdown } from './sofa/render.ts';
import { renderUnitsMarkdown } from './units-doc.ts';

export interface RulesDocSection {
  /** Stable anchor-like id, e.g. "immune-classification". */
  id: string;
  title: string;
  /** Markdown of the section, starting with "## {title}". Pure. */
  render: () => string;
}

export const RULES_DOC_SECTIONS: readonly RulesDocSection[] = [
  { id: 'immune-classification', title: 'Immune classification', render: () => renderImmuneRuleSetsMarkdown() },
  { id: 'sofa', title: 'SOFA', render: renderSofaRulesMarkdown },
  ...SCREENING_RULES_DOC_SECTIONS,
  { id: 'units', title: 'Units and plausibility', render: renderUnitsMarkdown },
];

/** The whole document: title, contents, then each section. Ends with exactly one newline. */
export function renderRulesDocument(sections: readonly RulesDocSection[] = RULES_DOC_SECTIONS): string {
  const rendered = sections.map((section) => ({ section, markdown: section.render().trim() }));
  const text = [
    '# ImmunoGuide clinical rules',
    '',
    '<!-- Generated from the rule-set data in src/clinical by `npm run docs:rules`. Do not edit by hand. -->',
    '',
    'What the software decides and why: every threshold with its unit, comparison operator, version and ' +
      'source. Items marked **(unconfirmed)** are not settled in the public record; they are configurable ' +
      'and flagged wherever they are used.',
    '',
    '## Contents',
    '',
    ...rendered.map(({ section, markdown }) => `- [${section.title}](#${anchor(heading(section, markdown))})`),
    '',
    ...rendered.map(({ markdown }) => `${markdown}\n`),
  ].join('\n');
  return `${text.trimEnd()}\n`;
}

/** The text of the section's level-2 heading (its first line). */
function heading(section: RulesDocSection, markdown: string): string {
  const first = markdown.split('\n', 1)[0] ?? '';
  if (!first.startsWith('## ')) throw new Error(`rules-doc section ${section.id} must start with a level-2 heading`);
  return first.slice(3);
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function anchor(headingText: string): string {
  return headingText
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}
