import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IMMUNOSEP_CRITERIA, customiseCriteria, screenEligibility, validateCriteria } from '../../src/clinical/eligibility.ts';
import type { CriteriaSet, CriterionResult, EligibilityFacts, EligibilityResult, SiteAnswer } from '../../src/clinical/eligibility.ts';
import { assessSepsis3 } from '../../src/clinical/sepsis3.ts';

const ONSET = '2026-01-05T12:00:00Z';
const AT = '2026-01-06T12:00:00Z'; // 24 h after onset

const SITE_OK: Record<string, SiteAnswer> = {
  'infection-type': { present: true, answeredBy: 'dr.a', note: 'community-acquired pneumonia' },
  'informed-consent': { present: true, answeredBy: 'dr.a', answeredAt: '2026-01-06T10:00:00Z' },
  'excluded-infection': { present: false },
  'stage-iv-cancer': { present: false },
  dnr: { present: false },
  'skin-commensal-or-catheter': { present: false },
  'pregnancy-lactation': { present: false },
  'systemic-corticosteroids': { present: false },
  hiv: { present: false },
  biologics: { present: false },
};

const ELIGIBLE: EligibilityFacts = {
  ageYears: 54,
  sepsis3: { met: true, onsetTime: ONSET },
  immuneClass: 'MALS',
  absoluteNeutrophilCountPerMm3: 8000,
  covid19: false,
  siteAnswers: SITE_OK,
};

function screen(patch: Partial<EligibilityFacts> = {}, criteria: CriteriaSet = IMMUNOSEP_CRITERIA, at = AT): EligibilityResult {
  const r = screenEligibility({ ...ELIGIBLE, ...patch }, criteria, at);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

function criterion(result: EligibilityResult, id: string): CriterionResult {
  const c = result.results.find((x) => x.id === id);
  assert.ok(c, `criterion ${id}`);
  return c;
}

const statusOf = (patch: Partial<EligibilityFacts>, id: string, at = AT): string => criterion(screen(patch, IMMUNOSEP_CRITERIA, at), id).status;

describe('the ImmunoSep criteria data', () => {
  it('is a valid, versioned set with every spec item, automatic and site-completed', () => {
    assert.ok(validateCriteria(IMMUNOSEP_CRITERIA).ok);
    assert.deepEqual([IMMUNOSEP_CRITERIA.id, IMMUNOSEP_CRITERIA.version], ['immunosep-eligibility', '1.0.0']);
    const automatic = IMMUNOSEP_CRITERIA.criteria.filter((c) => c.evaluation.mode === 'automatic').map((c) => c.id);
    assert.deepEqual(automatic, ['age-18', 'sepsis3', 'immune-class', 'sepsis3-to-treatment-72h', 'covid19-mals-only', 'neutropenia']);
    const unconfirmed = IMMUNOSEP_CRITERIA.criteria.filter((c) => c.unconfirmed).map((c) => c.id);
    assert.deepEqual(unconfirmed, ['neutropenia', 'systemic-corticosteroids', 'hiv', 'biologics']);
    assert.ok(IMMUNOSEP_CRITERIA.criteria.every((c) => c.citation.length > 0));
  });
});

describe('overall decision', () => {
  it('eligible when every criterion passes, with the treatment deadline', () => {
    const r = screen();
    assert.equal(r.status, 'eligible');
    assert.deepEqual([r.failing, r.unknown], [[], []]);
    assert.equal(r.mustStartTreatmentBy, '2026-01-08T12:00:00Z');
    assert.equal(r.results.length, IMMUNOSEP_CRITERIA.criteria.length);
    assert.match(r.explanation, /Eligible under immunosep-eligibility 1\.0\.0/);
  });
  it('not-eligible names the failing criteria even when others are unknown', () => {
    const r = screen({ immuneClass: 'unclassified', absoluteNeutrophilCountPerMm3: null });
    assert.equal(r.status, 'not-eligible');
    assert.deepEqual(r.failing, ['immune-class']);
    assert.deepEqual(r.unknown, ['neutropenia']);
  });
  it('incomplete lists the unknown criteria', () => {
    const r = screen({ siteAnswers: {}, absoluteNeutrophilCountPerMm3: undefined });
    assert.equal(r.status, 'incomplete');
    assert.deepEqual(r.unknown, [
      'infection-type',
      'informed-consent',
      'excluded-infection',
      'stage-iv-cancer',
      'neutropenia',
      'dnr',
      'skin-commensal-or-catheter',
      'pregnancy-lactation',
      'systemic-corticosteroids',
      'hiv',
      'biologics',
    ]);
    assert.equal(criterion(r, 'informed-consent').reason, 'awaiting site completion');
  });
  it('an exclusion that is met makes the patient not eligible', () => {
    const r = screen({ siteAnswers: { ...SITE_OK, dnr: { present: true, answeredBy: 'dr.b' } } });
    assert.equal(r.status, 'not-eligible');
    assert.deepEqual(r.failing, ['dnr']);
    const dnr = criterion(r, 'dnr');
    assert.deepEqual([dnr.status, dnr.passes, dnr.evaluatedBy], ['met', false, 'site']);
    assert.match(dnr.reason, /site-completed: present/);
  });
  it('refuses an evaluation time without a zone, as a value', () => {
    const r = screenEligibility(ELIGIBLE, IMMUNOSEP_CRITERIA, '2026-01-06 12:00');
    assert.equal(r.ok, false);
  });
});

describe('each automatic criterion: met / not met / unknown', () => {
  it('age >= 18 (inclusive), from age or birth date at the evaluation time', () => {
    assert.equal(statusOf({ ageYears: 18 }, 'age-18'), 'met');
    assert.equal(statusOf({ ageYears: 17 }, 'age-18'), 'not-met');
    assert.equal(statusOf({ ageYears: null }, 'age-18'), 'unknown');
    assert.equal(statusOf({ ageYears: null, birthDate: '2008-01-06' }, 'age-18'), 'met'); // 18th birthday
    assert.equal(statusOf({ ageYears: null, birthDate: '2008-01-07' }, 'age-18'), 'not-met'); // one day short
  });
  it('Sepsis-3', () => {
    assert.equal(statusOf({}, 'sepsis3'), 'met');
    assert.equal(statusOf({ sepsis3: { met: false } }, 'sepsis3'), 'not-met');
    assert.equal(statusOf({ sepsis3: null }, 'sepsis3'), 'unknown');
  });
  it('immune class MALS or immunoparalysis; indeterminate is unknown, unclassified fails', () => {
    assert.equal(statusOf({ immuneClass: 'MALS' }, 'immune-class'), 'met');
    assert.equal(statusOf({ immuneClass: 'immunoparalysis' }, 'immune-class'), 'met');
    assert.equal(statusOf({ immuneClass: 'unclassified' }, 'immune-class'), 'not-met');
    assert.equal(statusOf({ immuneClass: 'indeterminate' }, 'immune-class'), 'unknown');
    assert.equal(statusOf({ immuneClass: undefined }, 'immune-class'), 'unknown');
  });
  it('< 72 h from Sepsis-3 to treatment start: 71 h 59 min passes, exactly 72 h does not ("less than")', () => {
    assert.equal(statusOf({ treatmentStart: '2026-01-08T11:59:00Z' }, 'sepsis3-to-treatment-72h'), 'met');
    const at72 = criterion(screen({ treatmentStart: '2026-01-08T12:00:00Z' }), 'sepsis3-to-treatment-72h');
    assert.equal(at72.status, 'not-met');
    assert.match(at72.reason, /72 h after Sepsis-3 onset \(not < 72 h\)/);
    assert.deepEqual(at72.evidence.find((e) => e.name === 'hours from Sepsis-3 to treatment')?.value, 72);
    assert.equal(statusOf({ treatmentStart: '2026-01-05T11:00:00Z' }, 'sepsis3-to-treatment-72h'), 'not-met'); // before onset
  });
  it('< 72 h, treatment not yet started: judged at the evaluation time', () => {
    const open = criterion(screen(), 'sepsis3-to-treatment-72h');
    assert.equal(open.status, 'met');
    assert.equal(open.deadline, '2026-01-08T12:00:00Z');
    assert.match(open.reason, /must start before 2026-01-08T12:00:00Z \(48 h left\)/);
    assert.equal(statusOf({}, 'sepsis3-to-treatment-72h', '2026-01-08T12:00:00Z'), 'not-met');
    assert.equal(statusOf({ sepsis3: { met: true, onsetTime: null } }, 'sepsis3-to-treatment-72h'), 'unknown');
    assert.equal(statusOf({ sepsis3: { met: false } }, 'sepsis3-to-treatment-72h'), 'not-met');
  });
  it('neutropenia exclusion: ANC < 1500/mm3 (unconfirmed marker carried)', () => {
    const low = criterion(screen({ absoluteNeutrophilCountPerMm3: 1499 }), 'neutropenia');
    assert.deepEqual([low.status, low.passes], ['met', false]);
    assert.match(low.unconfirmed ?? '', /1000/);
    const at1500 = criterion(screen({ absoluteNeutrophilCountPerMm3: 1500 }), 'neutropenia');
    assert.deepEqual([at1500.status, at1500.passes], ['not-met', true]);
    assert.equal(statusOf({ absoluteNeutrophilCountPerMm3: null }, 'neutropenia'), 'unknown');
  });
  it('COVID-19 patients: MALS stratum only', () => {
    assert.equal(statusOf({ covid19: true, immuneClass: 'MALS' }, 'covid19-mals-only'), 'met');
    assert.equal(statusOf({ covid19: true, immuneClass: 'immunoparalysis' }, 'covid19-mals-only'), 'not-met');
    assert.equal(statusOf({ covid19: false, immuneClass: 'immunoparalysis' }, 'covid19-mals-only'), 'met');
    assert.equal(statusOf({ covid19: null, immuneClass: 'immunoparalysis' }, 'covid19-mals-only'), 'unknown');
    assert.equal(statusOf({ covid19: null, immuneClass: 'MALS' }, 'covid19-mals-only'), 'met');
    assert.equal(statusOf({ covid19: true, immuneClass: 'indeterminate' }, 'covid19-mals-only'), 'unknown');
  });
  it('accepts a Sepsis-3 assessment from sepsis3.ts as the sepsis3 fact', () => {
    const s = assessSepsis3({
      antibiotics: [{ time: '2026-01-05T10:00:00Z' }],
      cultures: [{ time: '2026-01-05T11:00:00Z' }],
      sofa: [{ time: '2026-01-05T12:00:00Z', total: 4 }],
    });
    assert.ok(s.ok);
    const r = screen({ sepsis3: s.value });
    assert.equal(criterion(r, 'sepsis3').status, 'met');
    assert.equal(r.mustStartTreatmentBy, '2026-01-08T12:00:00Z');
  });
});

describe('site-completed items', () => {
  it('consent: unknown until answered; a refusal fails', () => {
    const { 'informed-consent': _omit, ...rest } = SITE_OK;
    assert.equal(statusOf({ siteAnswers: rest }, 'informed-consent'), 'unknown');
    assert.equal(statusOf({ siteAnswers: { ...SITE_OK, 'informed-consent': { present: false } } }, 'informed-consent'), 'not-met');
    const ok = criterion(screen(), 'informed-consent');
    assert.ok(ok.evidence.some((e) => e.name === 'answered by' && e.value === 'dr.a'));
  });
  it('an answer recorded after the evaluation time is ignored', () => {
    const r = screen({ siteAnswers: { ...SITE_OK, 'informed-consent': { present: true, answeredAt: '2026-01-06T13:00:00Z' } } });
    const c = criterion(r, 'informed-consent');
    assert.equal(c.status, 'unknown');
    assert.match(c.reason, /later than the evaluation time/);
  });
  it('a site answer completes an automatic item whose data are missing, and says so', () => {
    const c = criterion(screen({ ageYears: null, siteAnswers: { ...SITE_OK, 'age-18': { present: true, note: 'ID card seen' } } }), 'age-18');
    assert.deepEqual([c.status, c.evaluatedBy], ['met', 'site']);
    assert.match(c.reason, /ID card seen.*automatic check impossible: age missing/);
  });
  it('a site answer does not override automatic data', () => {
    const c = criterion(screen({ ageYears: 16, siteAnswers: { ...SITE_OK, 'age-18': { present: true } } }), 'age-18');
    assert.deepEqual([c.status, c.evaluatedBy], ['not-met', 'automatic']);
  });
});

describe('site customisation of the criteria list', () => {
  it('replaces the unconfirmed neutropenia threshold with 1000/mm3', () => {
    const base = IMMUNOSEP_CRITERIA.criteria.find((c) => c.id === 'neutropenia');
    assert.ok(base);
    const set = customiseCriteria(IMMUNOSEP_CRITERIA, {
      siteId: 'site-07',
      version: '1',
      replace: [{ ...base, text: 'Neutropenia: ANC < 1000/mm3', evaluation: { mode: 'automatic', rule: { type: 'neutrophils-below', thresholdPerMm3: 1000 } } }],
    });
    assert.ok(set.ok);
    assert.deepEqual([set.value.id, set.value.version], ['immunosep-eligibility+site-07', '1.0.0+1']);
    const r = screen({ absoluteNeutrophilCountPerMm3: 1200 }, set.value);
    assert.equal(criterion(r, 'neutropenia').status, 'not-met');
    assert.equal(r.status, 'eligible');
    assert.equal(screen({ absoluteNeutrophilCountPerMm3: 999 }, set.value).status, 'not-eligible');
  });
  it('adds a site item and removes an unconfirmed one', () => {
    const set = customiseCriteria(IMMUNOSEP_CRITERIA, {
      siteId: 'site-07',
      version: '2',
      remove: ['hiv'],
      add: [{ id: 'other-trial', text: 'Enrolled in another interventional trial', kind: 'exclusion', evaluation: { mode: 'site' }, citation: 'site-07 SOP 12' }],
    });
    assert.ok(set.ok);
    assert.ok(!set.value.criteria.some((c) => c.id === 'hiv'));
    const added = set.value.criteria.find((c) => c.id === 'other-trial');
    assert.equal(added?.site, 'site-07');
    const r = screen({}, set.value);
    assert.equal(r.status, 'incomplete');
    assert.deepEqual(r.unknown, ['other-trial']);
    assert.equal(screen({ siteAnswers: { ...SITE_OK, 'other-trial': { present: false } } }, set.value).status, 'eligible');
  });
  it('refuses to remove or replace a confirmed protocol item, or to duplicate an id', () => {
    const removeAge = customiseCriteria(IMMUNOSEP_CRITERIA, { siteId: 's', version: '1', remove: ['age-18'] });
    assert.equal(removeAge.ok, false);
    if (!removeAge.ok) assert.match(removeAge.error.message, /confirmed protocol item/);
    const dup = customiseCriteria(IMMUNOSEP_CRITERIA, {
      siteId: 's',
      version: '1',
      add: [{ id: 'dnr', text: 'again', kind: 'exclusion', evaluation: { mode: 'site' }, citation: 'x' }],
    });
    assert.equal(dup.ok, false);
    assert.equal(customiseCriteria(IMMUNOSEP_CRITERIA, { siteId: 's', version: '1', remove: ['nope'] }).ok, false);
  });
});
