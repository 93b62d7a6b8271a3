/**
 * Trial desk API over the trial service (src/store/trial.ts).
 *
 * Blinding: only the pharmacist role ever receives an arm (allocationViewFor). Every other
 * response, error included, is built from blinded views and arm-free refusals, and responses
 * for patients in different arms have the same shape and fields. The one deliberate exception
 * is the emergency unblinding response, which returns the arm to the investigator who asked,
 * records the reason, notifies the sponsor and flags the patient as unblinded.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { assessPatient, therapyFactsAt } from '../../clinical/assessment.ts';
import { blindedKitView, planTherapy } from '../../clinical/therapy.ts';
import type { SiteAnswer } from '../../clinical/eligibility.ts';
import type { Database } from '../../store/db.ts';
import type { JsonValue } from '../../trial/canonical.ts';
import { verifyAuditChain } from '../../store/audit.ts';
import { listMeasurements } from '../../store/repository.ts';
import {
  type TrialRefusal,
  createTrial,
  dispenseKit,
  getBlindedAllocation,
  getTrial,
  getTrialSeed,
  getUnblindedAllocation,
  listBlindedAllocations,
  listCrfChanges,
  listScreening,
  listUnblindedAllocations,
  randomise,
  recordCrfChange,
  recordDeviation,
  recordScreening,
  recordWithdrawal,
  unblindEmergency,
  verifyAllocationsAgainstSeed,
} from '../../store/trial.ts';
import { allocationViewFor } from '../../trial/blinding.ts';
import { IMMUNOSEP_TRIAL, type TrialDefinition } from '../../trial/definition.ts';
import { DEVIATION_SEVERITIES, MIN_REASON_LENGTH, WITHDRAWAL_KINDS, type WithdrawalKind } from '../../trial/records.ts';
import { auditAccess, requirePatient } from '../access-audit.ts';
import { principalOf } from '../auth/plugin.ts';
import { HttpProblem } from '../problem.ts';
import { toMeasurements } from './store-bridge.ts';

const trialParams = { type: 'object', required: ['trialId'], properties: { trialId: { type: 'string' } } } as const;
const patientTrialParams = {
  type: 'object',
  required: ['trialId', 'patientId'],
  properties: { trialId: { type: 'string' }, patientId: { type: 'string' } },
} as const;

/** Refusals become problems; their messages never carry an arm (see store/trial.ts). */
function refusal(error: TrialRefusal): HttpProblem {
  const status =
    error.kind === 'unknown-trial' || error.kind === 'unknown-patient'
      ? 404
      : error.kind === 'trial-exists' || error.kind === 'already-randomised' || error.kind === 'already-dispensed' || error.kind === 'already-withdrawn'
        ? 409
        : 422;
  const extensions: Record<string, unknown> = { refusal: error.kind };
  if (error.kind === 'not-eligible') Object.assign(extensions, { failing: error.failing, unknown: error.unknown });
  return new HttpProblem(status, status === 404 ? 'Not Found' : status === 409 ? 'Conflict' : 'Unprocessable Content', error.message, extensions);
}

async function requireTrial(db: Database, trialId: string) {
  const trial = await getTrial(db, trialId);
  if (!trial) throw new HttpProblem(404, 'Not Found', `Trial ${trialId} was not found.`);
  return trial;
}

function actor(request: FastifyRequest): string {
  return principalOf(request).id;
}

export const trialRoutes: FastifyPluginAsync<{ db: Database }> = async (app, { db }) => {
  app.get('/api/trials', { config: { permission: 'trial:read' }, schema: { tags: ['trial'], summary: 'Trials' } }, async () => {
    const result = await db.query<{ id: string }>('SELECT id FROM trial ORDER BY created_at, id');
    const trials = await Promise.all(result.rows.map((row) => getTrial(db, row.id)));
    return { trials: trials.flatMap((t) => (t ? [{ id: t.id, title: t.definition.title, version: t.definition.version, sofaPreset: t.definition.sofaPreset, createdAt: t.createdAt }] : [])) };
  });

  app.get(
    '/api/trials/:trialId',
    { config: { permission: 'trial:read' }, schema: { tags: ['trial'], summary: 'A trial definition (no seed)', params: trialParams } },
    async (request) => {
      const { trialId } = request.params as { trialId: string };
      const trial = await requireTrial(db, trialId);
      return { id: trial.id, definition: trial.definition, definitionSha256: trial.definitionSha256, seedSha256: trial.seedSha256, createdAt: trial.createdAt };
    },
  );

  app.post(
    '/api/trials',
    {
      config: { permission: 'trial:manage' },
      schema: {
        tags: ['trial'],
        summary: 'Create a trial (the ImmunoSep definition by default); the seed is drawn from the OS CSPRNG and never returned here',
        body: { type: 'object', properties: { definition: { type: 'object' } }, additionalProperties: false },
      },
    },
    async (request, reply) => {
      const body = (request.body ?? {}) as { definition?: TrialDefinition };
      const created = await createTrial(db, { definition: body.definition ?? IMMUNOSEP_TRIAL, actor: actor(request) });
      if (!created.ok) throw refusal(created.error);
      return reply.code(201).send({ id: created.value.id, definitionSha256: created.value.definitionSha256, seedSha256: created.value.seedSha256 });
    },
  );

  app.get(
    '/api/trials/:trialId/allocations',
    { config: { permission: 'trial:read' }, schema: { tags: ['trial'], summary: "Allocations at the caller's sites (arms for pharmacists only)", params: trialParams } },
    async (request) => {
      const { trialId } = request.params as { trialId: string };
      await requireTrial(db, trialId);
      const principal = principalOf(request);
      auditAccess(request, { action: 'trial:allocations:list', outcome: 'allowed' });
      const options = { siteIds: principal.sites };
      return allocationViewFor(principal.roles) === 'unblinded'
        ? { view: 'unblinded', allocations: await listUnblindedAllocations(db, trialId, options) }
        : { view: 'blinded', allocations: await listBlindedAllocations(db, trialId, options) };
    },
  );

  app.get(
    '/api/trials/:trialId/patients/:patientId/allocation',
    { config: { permission: 'trial:read' }, schema: { tags: ['trial'], summary: "A patient's allocation (arm for pharmacists only)", params: patientTrialParams } },
    async (request) => {
      const { trialId, patientId } = request.params as { trialId: string; patientId: string };
      await requirePatient(request, db, patientId, 'trial:allocation:read');
      await requireTrial(db, trialId);
      const unblinded = allocationViewFor(principalOf(request).roles) === 'unblinded';
      const allocation = unblinded ? await getUnblindedAllocation(db, trialId, patientId) : await getBlindedAllocation(db, trialId, patientId);
      if (!allocation) throw new HttpProblem(404, 'Not Found', `Patient ${patientId} is not randomised in trial ${trialId}.`);
      return allocation;
    },
  );

  app.get(
    '/api/trials/:trialId/patients/:patientId/kit-schedule',
    {
      // A patient's care plan: patient:read (the statistician, trial:read only, gets no patient data).
      config: { permission: 'patient:read' },
      schema: {
        tags: ['trial'],
        summary: "A randomised patient's blinded kit schedule: every administration (IV + SC from the kit) and the visits; identical for both arms",
        params: patientTrialParams,
      },
    },
    async (request) => {
      const { trialId, patientId } = request.params as { trialId: string; patientId: string };
      const at = new Date().toISOString();
      const patient = await requirePatient(request, db, patientId, 'trial:kit-schedule:read');
      await requireTrial(db, trialId);
      const allocation = await getBlindedAllocation(db, trialId, patientId);
      if (!allocation) throw new HttpProblem(404, 'Not Found', `Patient ${patientId} is not randomised in trial ${trialId}.`);
      const measurements = toMeasurements(await listMeasurements(db, { patientId, to: new Date(Date.parse(at) + 1).toISOString() }));
      // The plan is built without the arm (planTherapy's default) and only its blinded view leaves:
      // blindedKitView is the same for the active and the placebo arm, so the answer cannot tell them apart.
      // Treatment starts at randomisation (the allocation records no other start).
      const plan = planTherapy({ className: allocation.immuneClass, start: allocation.randomisedAt, patient: therapyFactsAt(patient, measurements, at) });
      if (!plan.ok) throw new HttpProblem(422, 'Unprocessable Content', plan.error.message);
      // Without the safety warnings: they name the stratum's drug, which no answer under
      // /api/trials gives a blinded role (the assessment carries them, with the therapy).
      const { safetyWarnings: _warnings, ...kit } = blindedKitView(plan.value);
      return kit;
    },
  );

  app.post(
    '/api/trials/:trialId/patients/:patientId/randomise',
    {
      config: { permission: 'trial:randomise' },
      schema: {
        tags: ['trial'],
        summary: 'Randomise an eligible, classified patient; the classification and eligibility are frozen into the allocation',
        params: patientTrialParams,
        body: {
          type: 'object',
          properties: {
            siteAnswers: {
              type: 'object',
              description: 'answers to the site-completed criteria, e.g. {"informed-consent": {"present": true}}',
              additionalProperties: {
                type: 'object',
                required: ['present'],
                properties: { present: { type: 'boolean' }, note: { type: 'string', maxLength: 500 } },
                additionalProperties: false,
              },
            },
            treatmentStart: { type: 'string', description: 'planned start of blinded treatment (default now)' },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const { trialId, patientId } = request.params as { trialId: string; patientId: string };
      const body = (request.body ?? {}) as { siteAnswers?: Record<string, { present: boolean; note?: string }>; treatmentStart?: string };
      const patient = await requirePatient(request, db, patientId, 'trial:randomise');
      const trial = await requireTrial(db, trialId);
      const at = new Date().toISOString();
      const who = actor(request);
      const siteAnswers: Record<string, SiteAnswer> = Object.fromEntries(
        Object.entries(body.siteAnswers ?? {}).map(([id, answer]) => [id, { ...answer, answeredBy: who, answeredAt: at }]),
      );
      const measurements = toMeasurements(await listMeasurements(db, { patientId, to: new Date(Date.parse(at) + 1).toISOString() }));
      // The trial's SOFA preset decides Sepsis-3 (and so eligibility): it is part of the definition.
      const assessment = assessPatient({ patient, measurements, at, siteAnswers, treatmentStart: body.treatmentStart ?? at, sofaPreset: trial.definition.sofaPreset });
      const result = await randomise(db, {
        trialId,
        patientId,
        actor: who,
        at,
        evidence: { classification: { ...assessment.classification, patientId }, eligibility: assessment.eligibility },
      });
      if (!result.ok) throw refusal(result.error);
      return reply.code(201).send(result.value);
    },
  );

  app.post(
    '/api/trials/:trialId/patients/:patientId/dispense',
    {
      config: { permission: 'trial:dispense' },
      schema: {
        tags: ['trial'],
        summary: "Record that the pharmacy dispensed the patient's kit",
        params: patientTrialParams,
        body: { type: 'object', required: ['kitNumber'], properties: { kitNumber: { type: 'string', maxLength: 64 } }, additionalProperties: false },
      },
    },
    async (request, reply) => {
      const { trialId, patientId } = request.params as { trialId: string; patientId: string };
      const { kitNumber } = request.body as { kitNumber: string };
      await requirePatient(request, db, patientId, 'trial:dispense');
      const result = await dispenseKit(db, { trialId, patientId, kitNumber, actor: actor(request) });
      if (!result.ok) throw refusal(result.error);
      return reply.code(201).send(result.value);
    },
  );

  app.post(
    '/api/trials/:trialId/patients/:patientId/unblind',
    {
      config: { permission: 'trial:unblind' },
      schema: {
        tags: ['trial'],
        summary: 'Emergency unblinding: records the reason, notifies the sponsor, returns the arm to the requesting investigator',
        params: patientTrialParams,
        body: { type: 'object', required: ['reason'], properties: { reason: { type: 'string', minLength: 10, maxLength: 2000 } }, additionalProperties: false },
      },
    },
    async (request) => {
      const { trialId, patientId } = request.params as { trialId: string; patientId: string };
      const { reason } = request.body as { reason: string };
      await requirePatient(request, db, patientId, 'trial:unblind');
      const result = await unblindEmergency(db, { trialId, patientId, reason, actor: actor(request) });
      if (!result.ok) throw refusal(result.error);
      return result.value;
    },
  );

  app.post(
    '/api/trials/:trialId/patients/:patientId/withdraw',
    {
      config: { permission: 'trial:randomise' },
      schema: {
        tags: ['trial'],
        summary: 'Record a withdrawal',
        params: patientTrialParams,
        body: {
          type: 'object',
          required: ['kind', 'reason'],
          properties: { kind: { type: 'string', enum: [...WITHDRAWAL_KINDS] }, reason: { type: 'string', minLength: MIN_REASON_LENGTH, maxLength: 2000 } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const { trialId, patientId } = request.params as { trialId: string; patientId: string };
      const body = request.body as { kind: WithdrawalKind; reason: string };
      await requirePatient(request, db, patientId, 'trial:withdraw');
      const result = await recordWithdrawal(db, { trialId, patientId, kind: body.kind, reason: body.reason, actor: actor(request) });
      if (!result.ok) throw refusal(result.error);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/trials/:trialId/patients/:patientId/deviations',
    {
      config: { permission: 'trial:randomise' },
      schema: {
        tags: ['trial'],
        summary: 'Record a protocol deviation for a patient',
        params: patientTrialParams,
        body: {
          type: 'object',
          required: ['category', 'severity', 'description'],
          properties: {
            category: { type: 'string', minLength: 1, maxLength: 200 },
            severity: { type: 'string', enum: [...DEVIATION_SEVERITIES] },
            description: { type: 'string', minLength: MIN_REASON_LENGTH, maxLength: 4000 },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const { trialId, patientId } = request.params as { trialId: string; patientId: string };
      const body = request.body as { category: string; severity: (typeof DEVIATION_SEVERITIES)[number]; description: string };
      const patient = await requirePatient(request, db, patientId, 'trial:deviation:write');
      const result = await recordDeviation(db, { trialId, patientId, siteId: patient.siteId, ...body, actor: actor(request) });
      if (!result.ok) throw refusal(result.error);
      return reply.code(201).send(result.value);
    },
  );

  app.post(
    '/api/trials/:trialId/patients/:patientId/crf-changes',
    {
      config: { permission: 'trial:randomise' },
      schema: {
        tags: ['trial'],
        summary: 'Change a case report form field: old value, new value, who, when and why go into the audit chain',
        params: patientTrialParams,
        body: {
          type: 'object',
          required: ['form', 'field', 'oldValue', 'newValue', 'reason'],
          properties: {
            form: { type: 'string', minLength: 1, maxLength: 200 },
            field: { type: 'string', minLength: 1, maxLength: 200 },
            oldValue: {},
            newValue: {},
            reason: { type: 'string', minLength: MIN_REASON_LENGTH, maxLength: 2000 },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const { trialId, patientId } = request.params as { trialId: string; patientId: string };
      const body = request.body as { form: string; field: string; oldValue: JsonValue; newValue: JsonValue; reason: string };
      await requirePatient(request, db, patientId, 'trial:crf:write');
      const result = await recordCrfChange(db, { trialId, patientId, ...body, actor: actor(request) });
      if (!result.ok) throw refusal(result.error);
      return reply.code(201).send(result.value);
    },
  );

  app.get(
    '/api/trials/:trialId/patients/:patientId/crf-changes',
    { config: { permission: 'trial:read' }, schema: { tags: ['trial'], summary: "A patient's CRF change history", params: patientTrialParams } },
    async (request) => {
      const { trialId, patientId } = request.params as { trialId: string; patientId: string };
      await requirePatient(request, db, patientId, 'trial:crf:read');
      return { changes: await listCrfChanges(db, trialId, patientId) };
    },
  );

  app.post(
    '/api/trials/:trialId/patients/:patientId/screening',
    {
      config: { permission: 'trial:randomise' },
      schema: {
        tags: ['trial'],
        summary: 'Record a screening outcome (screened, not-eligible with reasons, unclassified)',
        params: patientTrialParams,
        body: {
          type: 'object',
          required: ['outcome'],
          properties: {
            outcome: { type: 'string', enum: ['screened', 'not-eligible', 'unclassified'] },
            reasons: { type: 'array', items: { type: 'string', maxLength: 500 } },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const { trialId, patientId } = request.params as { trialId: string; patientId: string };
      const body = request.body as { outcome: 'screened' | 'not-eligible' | 'unclassified'; reasons?: string[] };
      await requirePatient(request, db, patientId, 'trial:screening:write');
      const result = await recordScreening(db, { trialId, patientId, outcome: body.outcome, ...(body.reasons ? { reasons: body.reasons } : {}), actor: actor(request) });
      if (!result.ok) throw refusal(result.error);
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/trials/:trialId/screening',
    { config: { permission: 'trial:read' }, schema: { tags: ['trial'], summary: "Screening log of the caller's sites", params: trialParams } },
    async (request) => {
      const { trialId } = request.params as { trialId: string };
      await requireTrial(db, trialId);
      auditAccess(request, { action: 'trial:screening:list', outcome: 'allowed' });
      return { entries: await listScreening(db, trialId, { siteIds: principalOf(request).sites }) };
    },
  );

  app.get(
    '/api/trials/:trialId/audit/verify',
    { config: { permission: 'audit:verify' }, schema: { tags: ['trial'], summary: 'Verify the hash-chained trial audit log', params: trialParams } },
    async (request) => {
      const { trialId } = request.params as { trialId: string };
      await requireTrial(db, trialId);
      const chain = await verifyAuditChain(db);
      return chain.ok
        ? { ok: true, entries: chain.count, head: chain.head }
        : { ok: false, entries: chain.count, firstBadEntry: chain.problem };
    },
  );

  app.get(
    '/api/trials/:trialId/sequence/verify',
    {
      config: { permission: 'trial:seed' },
      schema: { tags: ['trial'], summary: 'Regenerate every stratum list from the recorded seed and compare it with the allocations', params: trialParams },
    },
    async (request) => {
      const { trialId } = request.params as { trialId: string };
      const result = await verifyAllocationsAgainstSeed(db, trialId);
      if (!result.ok) throw refusal(result.error);
      return { ok: result.value.every((s) => s.problems.length === 0), strata: result.value };
    },
  );

  app.get(
    '/api/trials/:trialId/seed',
    {
      config: { permission: 'trial:seed' },
      schema: { tags: ['trial'], summary: 'The recorded seed, for independent regeneration of the sequence (statistician)', params: trialParams },
    },
    async (request) => {
      const { trialId } = request.params as { trialId: string };
      const seed = await getTrialSeed(db, trialId);
      if (seed === undefined) throw new HttpProblem(404, 'Not Found', `Trial ${trialId} was not found.`);
      auditAccess(request, { action: 'trial:seed:read', outcome: 'allowed' });
      return { trialId, seed };
    },
  );
};
