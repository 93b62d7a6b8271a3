/**
 * What the clinician sees: patient-view cards for each immune state and order-select /
 * order-sign cards for drafted anakinra and interferon-gamma. Data comes as prefetch built by the
 * FHIR stand-in from a synthetic patient; every response is also checked against the schema.
 * Expected numbers are hand-checked (CrCl by Cockcroft-Gault, ages, sample ages at AT).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FhirResource, MedicationRequest, ServiceRequest } from 'fhir/r4.js';
import type { SofaDaySummary } from '../../../src/clinical/assessment.ts';
import { type TestDatabase, openTestDatabase } from '../../support/backends.ts';
import { schemaErrors } from './card-schema.ts';
import {
  type CdsTestApp,
  FhirStandIn,
  PATIENT_ID,
  PUBLIC_URL,
  SERVICE,
  TestEhr,
  buildCdsTestApp,
  callService,
  draftMedicationRequest,
  draftOrders,
  hookRequest,
  immunoparalysisPatient,
  malsPatient,
  syntheticPatient,
} from './support.ts';

interface Card {
  uuid: string;
  summary: string;
  detail: string;
  indicator: string;
  suggestions?: Array<{ uuid: string; label: string; actions: Array<{ type: string; description: string; resource?: FhirResource; resourceId?: string }> }>;
  selectionBehavior?: string;
  overrideReasons?: Array<{ system: string; code: string; display: string }>;
  links?: Array<{ url: string; type: string }>;
}

const SOFA_TODAY: SofaDaySummary = {
  day: 3,
  start: '2026-03-01T00:00:00Z',
  end: '2026-03-02T00:00:00Z',
  total: 9,
  components: { respiration: 2, coagulation: 1, liver: 0, cardiovascular: 3, cns: 1, renal: 2 },
  missing: ['liver'],
};

const ANAKINRA_RXNORM = { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '72435', display: 'anakinra' }] };
const IFNG_TEXT = { text: 'Interferon gamma-1b 100 mcg in 0.5 mL injection' };

describe('CDS cards', () => {
  let t: TestDatabase;
  let ehr: TestEhr;
  let ctx: CdsTestApp;
  let discovery: { services: Array<{ id: string; hook: string; prefetch: Record<string, string> }> };
  before(async () => {
    t = await openTestDatabase('pglite');
    ehr = await TestEhr.start();
    ctx = await buildCdsTestApp(t.db, ehr, { sofaDays: () => [SOFA_TODAY] });
    discovery = (await ctx.app.inject({ method: 'GET', url: '/cds-services' })).json();
  });
  after(async () => {
    await ctx?.app.close();
    await ehr?.close();
    await t?.dispose();
  });

  async function cardsFor(serviceId: string, resources: FhirResource[], context: Record<string, unknown> = {}, app = ctx.app): Promise<Card[]> {
    const service = discovery.services.find((s) => s.id === serviceId)!;
    const request = hookRequest(service.hook, {}, context);
    request.prefetch = new FhirStandIn(resources).prefetchFor(service as never, request.context);
    const response = await callService(app, ehr, serviceId, request);
    assert.equal(response.status, 200, response.body);
    assert.deepEqual(schemaErrors('immunoguide', response.json()), []);
    return response.json().cards as unknown as Card[];
  }

  async function onlyCard(serviceId: string, resources: FhirResource[], context: Record<string, unknown> = {}): Promise<Card> {
    const cards = await cardsFor(serviceId, resources, context);
    assert.equal(cards.length, 1, JSON.stringify(cards.map((c) => c.summary)));
    return cards[0]!;
  }

  describe('patient-view', () => {
    test('MALS: warning with the evidence and its age, SOFA, and the proposed anakinra order', async () => {
      const card = await onlyCard(SERVICE.patientView, malsPatient());
      assert.equal(card.indicator, 'warning');
      assert.equal(card.summary, 'Immune class MALS: ferritin 6200 > 4420 ng/mL, 5 h ago; SOFA today 9; ImmunoSep: anakinra');
      assert.match(card.detail, /ferritin 6200 ng\/mL > 4420 ng\/mL - sampled 2026-03-01T07:00:00.000Z, 5 h ago/);
      assert.match(card.detail, /\*\*SOFA today:\*\* 9 \(\S+ preset, day 3, .*not measured \(scored 0\): liver\)/);
      assert.match(card.detail, /\n\n\*\*Evidence \(immunosep 1\.0\.0\)\*\*\n\n- ferritin/, 'Markdown with real line breaks');
      assert.equal(card.selectionBehavior, 'at-most-one');
      assert.equal(card.suggestions?.length, 1);
      const action = card.suggestions![0]!.actions[0]!;
      assert.equal(action.type, 'create');
      const order = action.resource as MedicationRequest;
      assert.equal(order.resourceType, 'MedicationRequest');
      assert.equal(order.status, 'draft');
      assert.equal(order.intent, 'proposal');
      assert.equal(order.subject.reference, `Patient/${PATIENT_ID}`);
      const dosage = order.dosageInstruction![0]!;
      assert.deepEqual(dosage.doseAndRate![0]!.doseQuantity, { value: 200, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' });
      assert.equal(dosage.route!.coding![0]!.code, '47625008', 'SNOMED CT intravenous route');
      assert.deepEqual(dosage.timing!.repeat, { frequency: 1, period: 8, periodUnit: 'h', boundsDuration: { value: 15, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' } });
      assert.ok(order.medicationCodeableConcept!.coding!.some((c) => c.system === 'http://snomed.info/sct' && c.code === '385549000'));
      assert.match(order.reasonCode![0]!.text!, /^MALS \(immunosep 1\.0\.0\): ferritin 6200 ng\/mL > 4420 ng\/mL$/);
      assert.deepEqual(card.links, [{ label: 'Open the patient in ImmunoGuide', url: `${PUBLIC_URL}/patients/${PATIENT_ID}`, type: 'absolute' }]);
    });

    test('immunoparalysis with neutropenia: the interferon-gamma proposal carries the warning', async () => {
      const card = await onlyCard(SERVICE.patientView, immunoparalysisPatient({ neutrophils: { value: 1.0, hoursAgo: 3 } }));
      assert.equal(card.summary, 'Immune class immunoparalysis: HLA-DR 3000 < 5000 molecules/monocyte, 5 h ago; SOFA today 9; ImmunoSep: IFN-gamma');
      assert.equal(card.suggestions![0]!.label, 'Propose interferon-gamma-1b 100 ug SC every 48 h for 15 days (review 1 safety warning(s))');
      const order = card.suggestions![0]!.actions[0]!.resource as MedicationRequest;
      const dosage = order.dosageInstruction![0]!;
      assert.deepEqual(dosage.doseAndRate![0]!.doseQuantity, { value: 100, unit: 'ug', system: 'http://unitsofmeasure.org', code: 'ug' });
      assert.equal(dosage.route!.coding![0]!.code, '34206005', 'SNOMED CT subcutaneous route');
      assert.equal(dosage.timing!.repeat!.period, 48);
      assert.ok(order.note!.some((n) => /^Safety: Absolute neutrophil count 1000\/mm3 < 1500 \/mm3/.test(n.text)));
      assert.match(card.detail, /WARNING: Absolute neutrophil count 1000\/mm3/);
      assert.match(card.detail, /eligibility \(immunosep-eligibility 1\.0\.0\):\*\* not-eligible\n- fails: Neutropenia/);
    });

    test('unclassified: information, no targeted therapy, no suggestion', async () => {
      const card = await onlyCard(SERVICE.patientView, malsPatient({ ferritin: { value: 900, hoursAgo: 5 }, hlaDr: { value: 9000, hoursAgo: 5 } }));
      assert.equal(card.indicator, 'info');
      assert.equal(card.summary, 'Immune class unclassified (ferritin 900 ng/mL, HLA-DR 9000 molecules/monocyte): no targeted therapy; SOFA today 9');
      assert.match(card.detail, /- ferritin 900 ng\/mL is not > 4420 ng\/mL - sampled .*\n- HLA-DR 9000 molecules\/monocyte is not < 5000 molecules\/monocyte/);
      assert.equal(card.suggestions, undefined);
    });

    test('indeterminate, HLA-DR missing: order mHLA-DR (a ServiceRequest proposal)', async () => {
      const card = await onlyCard(SERVICE.patientView, syntheticPatient({ ferritin: { value: 3000, hoursAgo: 2 } }));
      assert.equal(card.indicator, 'info');
      assert.equal(card.summary, 'Immune class indeterminate: order mHLA-DR (ferritin 3000 is not > 4420 ng/mL); SOFA today 9');
      assert.equal(card.selectionBehavior, 'any');
      assert.deepEqual(card.suggestions!.map((s) => s.label), ['Order mHLA-DR']);
      const request = card.suggestions![0]!.actions[0]!.resource as ServiceRequest;
      assert.equal(request.resourceType, 'ServiceRequest');
      assert.equal(request.intent, 'proposal');
      assert.equal(request.status, 'draft');
      assert.deepEqual(request.code!.coding!.map((c) => `${c.system}|${c.code}`), ['https://immunoguide.org/fhir/CodeSystem/concept|mhla-dr-molecules']);
      assert.match(request.note![0]!.text, /Quantibrite-type assay\), processed within 6 h/);
    });

    test('indeterminate, nothing measured: order ferritin and mHLA-DR', async () => {
      const card = await onlyCard(SERVICE.patientView, syntheticPatient({}));
      assert.equal(card.summary, 'Immune class indeterminate: order ferritin / mHLA-DR; SOFA today 9');
      assert.deepEqual(card.suggestions!.map((s) => s.label), ['Order ferritin', 'Order mHLA-DR']);
      const ferritin = card.suggestions![0]!.actions[0]!.resource as ServiceRequest;
      assert.deepEqual(ferritin.code!.coding!.map((c) => `${c.system}|${c.code}`), ['http://loinc.org|2276-4']);
    });

    test('indeterminate, stale ferritin: says how old and proposes a repeat', async () => {
      const card = await onlyCard(SERVICE.patientView, syntheticPatient({ ferritin: { value: 6000, hoursAgo: 70 } }));
      assert.equal(card.summary, 'Immune class indeterminate: order ferritin / mHLA-DR (ferritin 70 h old: stale); SOFA today 9');
      assert.match(card.detail, /ferritin 6000 ng\/mL sampled 2026-02-26T14:00:00.000Z is \*\*stale\*\*: 70 h old, valid 48 h/);
      const reason = (card.suggestions![0]!.actions[0]!.resource as ServiceRequest).reasonCode![0]!.text;
      assert.equal(reason, 'ImmunoSep immune classification (immunosep 1.0.0): ferritin newest result is 70 h old (valid 48 h)');
    });

    test('HLA-DR reported in % is named and not used', async () => {
      const card = await onlyCard(SERVICE.patientView, syntheticPatient({ ferritin: { value: 3000, hoursAgo: 2 }, hlaDrPercent: { value: 20, hoursAgo: 2 } }));
      assert.match(card.summary, /^Immune class indeterminate: order mHLA-DR/);
      assert.match(card.detail, /HLA-DR reported as % positive monocytes was found: it is not convertible/);
    });

    test('a targeted drug already ordered is not proposed again', async () => {
      const active: FhirResource = {
        resourceType: 'MedicationRequest',
        id: 'mr-active',
        status: 'active',
        intent: 'order',
        subject: { reference: `Patient/${PATIENT_ID}` },
        medicationCodeableConcept: { text: 'Kineret 100 mg/0.67 mL' },
      };
      const card = await onlyCard(SERVICE.patientView, [...malsPatient(), active]);
      assert.equal(card.summary, 'Immune class MALS: ferritin 6200 > 4420 ng/mL, 5 h ago; SOFA today 9; on anakinra');
      assert.equal(card.suggestions, undefined);
      assert.match(card.detail, /Already on record: anakinra order MedicationRequest\/mr-active \(active\)/);
    });

    test('a targeted drug given in the last 15 days (MedicationAdministration) counts as running', async () => {
      const given: FhirResource = {
        resourceType: 'MedicationAdministration',
        id: 'ma-1',
        status: 'completed',
        medicationCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '385549000', display: 'Anakinra' }] },
        subject: { reference: `Patient/${PATIENT_ID}` },
        effectiveDateTime: '2026-02-28T06:00:00Z',
        dosage: { dose: { value: 200, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } },
      };
      const card = await onlyCard(SERVICE.patientView, [...malsPatient(), given]);
      assert.match(card.summary, /; on anakinra$/);
      assert.equal(card.suggestions, undefined);
      assert.match(card.detail, /Already on record: anakinra given 2026-02-28T06:00:00/);
    });

    test('a result in a unit that cannot be converted is not used, and the card says so', async () => {
      const card = await onlyCard(SERVICE.patientView, syntheticPatient({ ferritin: { value: 6200, unit: '[furlong]', hoursAgo: 2 } }));
      assert.match(card.summary, /^Immune class indeterminate: order ferritin/);
      assert.match(card.detail, /- not used: Observation\/syn-1-ferritin: .*ferritin/);
    });

    test("without a sofaDays override the engine's own daily SOFA is shown, with what was not measured", async () => {
      const t2 = await openTestDatabase('pglite');
      const plain = await buildCdsTestApp(t2.db, ehr);
      try {
        // Platelets 180 and creatinine 1.1 mg/dL score 0; the other organs were not measured (scored 0, and said so).
        const cards = await cardsFor(SERVICE.patientView, malsPatient(), {}, plain.app);
        assert.equal(cards[0]!.summary, 'Immune class MALS: ferritin 6200 > 4420 ng/mL, 5 h ago; SOFA today 0; ImmunoSep: anakinra');
        assert.match(cards[0]!.detail, /\*\*SOFA today:\*\* 0 \(\S+ preset, day \d+, .*; not measured \(scored 0\): .*liver/);
        // Nothing of SOFA measured: no "SOFA today 0" that would read as normal.
        const noData = await cardsFor(SERVICE.patientView, syntheticPatient({ ferritin: { value: 6200, hoursAgo: 5 } }), {}, plain.app);
        assert.equal(noData[0]!.summary, 'Immune class MALS: ferritin 6200 > 4420 ng/mL, 5 h ago; ImmunoSep: anakinra');
        assert.match(noData[0]!.detail, /\*\*SOFA today:\*\* not computed \(no SOFA input measured\)/);
      } finally {
        await plain.app.close();
        await t2.dispose();
      }
    });

    test('a resource about another patient is ignored, and said so', async () => {
      const foreign = syntheticPatient({ id: 'someone-else', ferritin: { value: 9000, hoursAgo: 1 } }).filter((r) => r.resourceType === 'Observation');
      // The stand-in filters by patient itself; put the foreign result into the prefetch by hand.
      const service = discovery.services[0]!;
      const request = hookRequest('patient-view');
      const prefetch = new FhirStandIn(syntheticPatient({ ferritin: { value: 900, hoursAgo: 2 }, hlaDr: { value: 9000, hoursAgo: 2 } })).prefetchFor(service as never, request.context);
      (prefetch.biomarkers as { entry: unknown[] }).entry.push({ resource: foreign[0] });
      request.prefetch = prefetch;
      const card = (await callService(ctx.app, ehr, SERVICE.patientView, request)).json().cards[0] as unknown as Card;
      assert.match(card.summary, /^Immune class unclassified/, 'the other patient\'s ferritin 9000 was not used');
      assert.match(card.detail, /1 Observation resource\(s\) in "biomarkers" are about another patient and were ignored/);
    });
  });

  describe('order-select and order-sign', () => {
    const select = (resources: FhirResource[], drafts: FhirResource[], selections = drafts.map((d) => `MedicationRequest/${d.id}`)) =>
      cardsFor(SERVICE.orderSelect, resources, { selections, draftOrders: draftOrders(...drafts) });

    test('anakinra for a MALS patient with normal labs: information only', async () => {
      const [card] = await select(malsPatient(), [draftMedicationRequest('mr1', ANAKINRA_RXNORM)]);
      assert.equal(card!.indicator, 'info');
      assert.equal(card!.summary, 'Anakinra order fits immune class MALS, 5 h ago; no safety finding');
      assert.match(card!.detail, /recognised by anakinra: code http:\/\/www\.nlm\.nih\.gov\/research\/umls\/rxnorm\|72435/);
      assert.equal(card!.overrideReasons, undefined);
    });

    test('anakinra for immunoparalysis: critical, with remove and replace suggestions and override reasons', async () => {
      const [card] = await select(immunoparalysisPatient(), [draftMedicationRequest('mr1', ANAKINRA_RXNORM)]);
      assert.equal(card!.indicator, 'critical');
      assert.equal(card!.summary, 'Anakinra order: class is immunoparalysis, not MALS');
      assert.equal(card!.selectionBehavior, 'at-most-one');
      assert.deepEqual(card!.suggestions!.map((s) => s.label), [
        'Remove the draft anakinra order',
        'Replace with interferon-gamma-1b 100 ug SC every 48 h for 15 days',
      ]);
      assert.deepEqual(card!.suggestions![0]!.actions, [{ type: 'delete', description: 'Remove the draft anakinra order', resourceId: 'MedicationRequest/mr1' }]);
      const replace = card!.suggestions![1]!.actions;
      assert.deepEqual(replace.map((a) => a.type), ['delete', 'create']);
      assert.equal((replace[1]!.resource as MedicationRequest).dosageInstruction![0]!.text, 'interferon-gamma-1b 100 ug SC every 48 h for 15 days');
      assert.ok(card!.overrideReasons!.length >= 3);
      assert.ok(card!.overrideReasons!.every((r) => r.display.length > 0 && r.system === 'https://immunoguide.org/fhir/CodeSystem/cds-override-reason'));
    });

    test('interferon-gamma (recognised by text) for MALS: critical', async () => {
      const [card] = await select(malsPatient(), [draftMedicationRequest('mr2', IFNG_TEXT)]);
      assert.equal(card!.indicator, 'critical');
      assert.equal(card!.summary, 'Interferon-gamma order: class is MALS, not immunoparalysis');
    });

    test('neutropenia is critical even when the class fits', async () => {
      const [card] = await select(malsPatient({ neutrophils: { value: 1.2, hoursAgo: 2 } }), [draftMedicationRequest('mr1', ANAKINRA_RXNORM)]);
      assert.equal(card!.indicator, 'critical');
      assert.equal(card!.summary, 'Anakinra order: neutropenia (ANC 1200/mm3)');
    });

    test('creatinine clearance below 30 mL/min: warning with the Cockcroft-Gault value', async () => {
      // Male, 67 years at AT (born 1958-04-02), 80 kg, creatinine 4.0 mg/dL: (140 - 67) x 80 / (72 x 4.0) = 20.28 mL/min.
      const [card] = await select(malsPatient({ creatinine: { value: 4.0, hoursAgo: 2 } }), [draftMedicationRequest('mr1', ANAKINRA_RXNORM)]);
      assert.equal(card!.indicator, 'warning');
      assert.equal(card!.summary, 'Anakinra order: CrCl 20.3 mL/min < 30');
      assert.match(card!.detail, /Creatinine clearance 20\.3 mL\/min \(Cockcroft-Gault\) < 30 mL\/min: consider every-other-day dosing/);
      assert.ok(card!.overrideReasons);
    });

    test('low platelets with interferon-gamma: warning', async () => {
      const [card] = await select(immunoparalysisPatient({ platelets: { value: 60, hoursAgo: 2 } }), [draftMedicationRequest('mr2', IFNG_TEXT)]);
      assert.equal(card!.indicator, 'warning');
      assert.equal(card!.summary, 'Interferon-gamma order: low platelets (60 x10^3/uL)');
    });

    test('stale biomarkers: warning, and the biomarker orders are offered', async () => {
      const [card] = await select(malsPatient({ ferritin: { value: 6200, hoursAgo: 70 }, hlaDr: { value: 4000, hoursAgo: 70 } }), [draftMedicationRequest('mr1', ANAKINRA_RXNORM)]);
      assert.equal(card!.indicator, 'warning');
      assert.equal(card!.summary, 'Anakinra order: biomarkers stale: ferritin 70 h, mHLA-DR 70 h old (valid 48 h)');
      assert.equal(card!.selectionBehavior, 'any');
      assert.deepEqual(card!.suggestions!.map((s) => s.label), ['Order ferritin', 'Order mHLA-DR']);
    });

    test('unclassified: warning, removal offered', async () => {
      const [card] = await select(malsPatient({ ferritin: { value: 900, hoursAgo: 5 }, hlaDr: { value: 9000, hoursAgo: 5 } }), [draftMedicationRequest('mr1', ANAKINRA_RXNORM)]);
      assert.equal(card!.indicator, 'warning');
      assert.equal(card!.summary, 'Anakinra order: class unclassified: no targeted therapy');
      assert.deepEqual(card!.suggestions!.map((s) => s.label), ['Remove the draft anakinra order']);
    });

    test('the drafted dose is compared with the regimen (information)', async () => {
      const draft = draftMedicationRequest('mr1', { text: 'Kineret 100 mg' }, {
        dosageInstruction: [{ route: { text: 'SC' }, timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 100, unit: 'mg', code: 'mg' } }] }],
      });
      const [card] = await select(malsPatient(), [draft]);
      assert.match(card!.detail, /dose 100 mg \(regimen 200 mg\); every 24 h \(regimen every 8 h\); route SC \(regimen IV\)/);
    });

    test('order-select looks at the selected orders only; order-sign at all drafts', async () => {
      const drafts = [draftMedicationRequest('mr1', ANAKINRA_RXNORM), draftMedicationRequest('mr2', IFNG_TEXT)];
      const selected = await select(malsPatient(), drafts, ['MedicationRequest/mr2']);
      assert.deepEqual(selected.map((c) => c.summary), ['Interferon-gamma order: class is MALS, not immunoparalysis']);
      const signed = await cardsFor(SERVICE.orderSign, malsPatient(), { draftOrders: draftOrders(...drafts) });
      assert.deepEqual(signed.map((c) => c.indicator), ['info', 'critical']);
    });

    test('other drugs and other patients draw no card', async () => {
      const amoxicillin = draftMedicationRequest('mr3', { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '617993' }], text: 'Amoxicillin' });
      assert.deepEqual(await select(malsPatient(), [amoxicillin]), []);
      const elsewhere = draftMedicationRequest('mr4', ANAKINRA_RXNORM, { subject: { reference: 'Patient/someone-else' } });
      assert.deepEqual(await select(malsPatient(), [elsewhere]), []);
    });
  });
});
