import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IMMUNOSEP_CRITERIA, customiseCriteria } from '../../src/clinical/eligibility.ts';
import {
  SCREENING_RULES_DOC_SECTIONS,
  renderEligibilityCriteriaMarkdown,
  renderSepsis3RulesMarkdown,
  renderTherapyRulesMarkdown,
} from '../../src/clinical/screening-rules-doc.ts';
import { SEPSIS3_RULES } from '../../src/clinical/sepsis3.ts';
import { IMMUNOSEP_THERAPY_RULES } from '../../src/clinical/therapy.ts';

describe('Markdown rendering of the screening and therapy rule sets', () => {
  it('eligibility: every criterion, its mode and (unconfirmed) markers', () => {
    const md = renderEligibilityCriteriaMarkdown();
    assert.match(md, /^## Eligibility screening: `immunosep-eligibility` version 1\.0\.0/);
    for (const c of IMMUNOSEP_CRITERIA.criteria) assert.ok(md.includes(`| \`${c.id}\` |`), c.id);
    assert.equal(md.match(/\*\*\(unconfirmed\)\*\*/g)?.length, 4);
    assert.match(md, /automatic: absolute neutrophil count < 1500\/mm3/);
  });
  it('is generated from the data: a site threshold and an escaped pipe show up', () => {
    const base = IMMUNOSEP_CRITERIA.criteria.find((c) => c.id === 'neutropenia');
    assert.ok(base);
    const set = customiseCriteria(IMMUNOSEP_CRITERIA, {
      siteId: 'site-07',
      version: '1',
      replace: [{ ...base, evaluation: { mode: 'automatic', rule: { type: 'neutrophils-below', thresholdPerMm3: 1000 } } }],
      add: [{ id: 'local', text: 'Local item a|b', kind: 'exclusion', evaluation: { mode: 'site' }, citation: 'SOP' }],
    });
    assert.ok(set.ok);
    const md = renderEligibilityCriteriaMarkdown(set.value);
    assert.match(md, /automatic: absolute neutrophil count < 1000\/mm3/);
    assert.ok(md.includes('Local item a\\|b'));
    assert.match(md, /version 1\.0\.0\+1/);
  });
  it('Sepsis-3: windows, edges and the mimic-iv alternative', () => {
    const md = renderSepsis3RulesMarkdown();
    assert.match(md, /within 24 h after the antibiotic \(exactly 24 h counts\)/);
    assert.match(md, /within 72 h after the culture \(exactly 72 h counts\)/);
    assert.match(md, /from 48 h before to 24 h after, both edges inclusive/);
    assert.match(md, /`sepsis3-mimic-iv`.*same-instant culture and antibiotic do not count/);
    const changed = renderSepsis3RulesMarkdown({ ...SEPSIS3_RULES, sofaWindow: { ...SEPSIS3_RULES.sofaWindow, hoursBeforeSuspicion: 36 } }, []);
    assert.match(changed, /from 36 h before/);
  });
  it('therapy: regimens with dose counts, visits and safety thresholds', () => {
    const md = renderTherapyRulesMarkdown();
    assert.match(md, /\| MALS \| anakinra .*\| 200 mg \| IV \| every 8 h \| 15 days \| 45 \|/);
    assert.match(md, /\| immunoparalysis \| recombinant human interferon-gamma-1b \| 100 ug \| SC \| every 48 h \| 15 days \| 8 \|/);
    assert.match(md, /< 30 mL\/min - consider every-other-day dosing per the anakinra label \*\*\(unconfirmed\)\*\*/);
    for (const v of IMMUNOSEP_THERAPY_RULES.visits.schedule) assert.match(md, new RegExp(`^\\| ${v.day} \\|`, 'm'));
  });
  it('lists its sections for the document generator', () => {
    assert.deepEqual(
      SCREENING_RULES_DOC_SECTIONS.map((s) => s.id),
      ['eligibility', 'sepsis3', 'therapy'],
    );
    for (const s of SCREENING_RULES_DOC_SECTIONS) assert.match(s.render(), /^## /);
  });
});
