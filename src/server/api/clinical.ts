/**
 * The clinical engine over a stored patient: immune classification (now or over time) and the
 * therapy plan. Every answer carries its rule set, version, inputs and comparisons.
 */
import type { FastifyPluginAsync } from 'fastify';
import { IMMUNE_RULE_SETS, classifyAt, classifyTimeline, findImmuneRuleSet } from '../../clinical/immune/index.ts';
import { planTherapy } from '../../clinical/therapy.ts';
import type { Database } from '../../store/db.ts';
import { listMeasurements } from '../../store/repository.ts';
import { requirePatient } from '../access-audit.ts';
import { HttpProblem } from '../problem.ts';
import { therapyFactsAt } from '../../clinical/assessment.ts';
import { errorResponses } from './schemas.ts';
import { toMeasurements } from './store-bridge.ts';

const patientParams = { type: 'object', required: ['patientId'], properties: { patientId: { type: 'string' } } } as const;

export function evaluationTime(value: string | undefined): string {
  if (value === undefined) return new Date().toISOString();
  const ms = Date.parse(value);
  if (!/T.*(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(ms)) {
    throw new HttpProblem(400, 'Bad Request', `"at" must be an ISO 8601 date-time with a time zone, got "${value}".`);
  }
  return new Date(ms).toISOString();
}

export function ruleSetOrProblem(id: string | undefined) {
  const ruleSet = findImmuneRuleSet(id ?? 'immunosep');
  if (!ruleSet) {
    throw new HttpProblem(400, 'Bad Request', `Unknown rule set "${id}". Known: ${IMMUNE_RULE_SETS.map((r) => r.id).join(', ')}.`);
  }
  return ruleSet;
}

export const clinicalRoutes: FastifyPluginAsync<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/api/patients/:patientId/classification',
    {
      config: { permission: 'patient:read' },
      schema: {
        tags: ['clinical'],
        summary: 'Immune class at a time (default now), or over time with ?timeline=true (one entry per biomarker sample)',
        params: patientParams,
        querystring: {
          type: 'object',
          properties: {
            at: { type: 'string', description: 'evaluation time, ISO 8601 with zone (default: now)' },
            ruleSet: { type: 'string', description: 'immunosep (default), provide-2017, hscore, suPAR' },
            timeline: { type: 'boolean' },
          },
          additionalProperties: false,
        },
        response: { ...errorResponses },
      },
    },
    async (request) => {
      const { patientId } = request.params as { patientId: string };
      const query = request.query as { at?: string; ruleSet?: string; timeline?: boolean };
      const at = evaluationTime(query.at);
      const ruleSet = ruleSetOrProblem(query.ruleSet);
      await requirePatient(request, db, patientId, 'classification:read');
      const measurements = toMeasurements(await listMeasurements(db, { patientId, to: new Date(Date.parse(at) + 1).toISOString() }));
      if (!query.timeline) return classifyAt(measurements, at, ruleSet);
      const sampleTimes = [...new Set(measurements.filter((m) => m.concept === 'ferritin' || m.concept === 'hla_dr').map((m) => m.time))].sort();
      return { ruleSet: { id: ruleSet.id, version: ruleSet.version }, timeline: classifyTimeline(measurements, sampleTimes, ruleSet) };
    },
  );

  app.get(
    '/api/patients/:patientId/therapy-plan',
    {
      config: { permission: 'patient:read' },
      schema: {
        tags: ['clinical'],
        summary: 'Targeted therapy plan for the current immune class: calendar, double dummy, visits, safety warnings',
        params: patientParams,
        querystring: {
          type: 'object',
          properties: {
            start: { type: 'string', description: 'first dose, ISO 8601 with zone (default: now)' },
            at: { type: 'string', description: 'classification time (default: start)' },
          },
          additionalProperties: false,
        },
        response: { ...errorResponses, 422: { $ref: 'Problem#' } },
      },
    },
    async (request) => {
      const { patientId } = request.params as { patientId: string };
      const query = request.query as { start?: string; at?: string };
      const start = evaluationTime(query.start);
      const at = query.at === undefined ? start : evaluationTime(query.at);
      const patient = await requirePatient(request, db, patientId, 'therapy:read');
      const measurements = toMeasurements(await listMeasurements(db, { patientId, to: new Date(Date.parse(at) + 1).toISOString() }));
      const classification = classifyAt(measurements, at, ruleSetOrProblem(undefined));
      const plan = planTherapy({ className: classification.class, start, patient: therapyFactsAt(patient, measurements, at) });
      if (!plan.ok) {
        throw new HttpProblem(422, 'Unprocessable Content', plan.error.message, { classification: classification.summary });
      }
      return { classification, plan: plan.value };
    },
  );
};
