/** /api/sites and /api/patients: the caller's sites and their patients (site-isolated, audited). */
import type { FastifyPluginAsync } from 'fastify';
import type { Database } from '../../store/db.ts';
import { getPatient, listMeasurements, listPatients, listSites, upsertPatient } from '../../store/repository.ts';
import { auditAccess, requirePatient } from '../access-audit.ts';
import { principalOf } from '../auth/plugin.ts';
import { HttpProblem } from '../problem.ts';
import { errorResponses } from './schemas.ts';

export const patientRoutes: FastifyPluginAsync<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/api/sites',
    {
      schema: {
        tags: ['patients'],
        summary: "The caller's sites",
        response: {
          200: {
            type: 'object',
            properties: {
              sites: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const sites = (await listSites(db)).filter((site) => principal.sites.includes(site.id));
      return { sites };
    },
  );

  app.get(
    '/api/patients',
    {
      config: { permission: 'patient:read' },
      schema: {
        tags: ['patients'],
        summary: "Patients of the caller's sites",
        querystring: {
          type: 'object',
          properties: { site: { type: 'string', description: 'only this site (must be one of yours)' } },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { patients: { type: 'array', items: { $ref: 'Patient#' } } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { site } = request.query as { site?: string };
      const sites = site === undefined ? principal.sites : principal.sites.filter((s) => s === site);
      auditAccess(request, { action: 'patient:list', siteId: site ?? null, outcome: 'allowed' });
      return { patients: await listPatients(db, sites) };
    },
  );

  app.post(
    '/api/patients',
    {
      config: { permission: 'patient:write' },
      schema: {
        tags: ['patients'],
        summary: 'Register a patient in one of your sites',
        body: {
          type: 'object',
          required: ['id', 'siteId'],
          properties: {
            id: { type: 'string', minLength: 1, maxLength: 128 },
            siteId: { type: 'string' },
            birthDate: { type: 'string', format: 'date' },
            sex: { type: 'string', enum: ['female', 'male', 'other', 'unknown'] },
          },
          additionalProperties: false,
        },
        response: { 201: { $ref: 'Patient#' }, 409: { $ref: 'Problem#' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const body = request.body as { id: string; siteId: string; birthDate?: string; sex?: 'female' | 'male' | 'other' | 'unknown' };
      if (!principal.sites.includes(body.siteId)) {
        throw new HttpProblem(403, 'Forbidden', `You cannot register patients at site ${body.siteId}.`);
      }
      if (await getPatient(db, body.id)) {
        // Same answer whatever site the existing patient belongs to.
        auditAccess(request, { action: 'patient:create', patientId: body.id, siteId: body.siteId, outcome: 'denied' });
        throw new HttpProblem(409, 'Conflict', `A patient with id ${body.id} already exists.`);
      }
      await upsertPatient(db, {
        id: body.id,
        siteId: body.siteId,
        birthDate: body.birthDate ?? null,
        sex: body.sex ?? null,
        deceasedAt: null,
      });
      auditAccess(request, { action: 'patient:create', patientId: body.id, siteId: body.siteId, outcome: 'allowed' });
      return reply.code(201).send(await getPatient(db, body.id));
    },
  );

  app.get(
    '/api/patients/:patientId',
    {
      config: { permission: 'patient:read' },
      schema: {
        tags: ['patients'],
        summary: 'One patient',
        params: { type: 'object', required: ['patientId'], properties: { patientId: { type: 'string' } } },
        response: { 200: { $ref: 'Patient#' }, ...errorResponses },
      },
    },
    async (request) => {
      const { patientId } = request.params as { patientId: string };
      return requirePatient(request, db, patientId, 'patient:read');
    },
  );

  app.get(
    '/api/patients/:patientId/measurements',
    {
      config: { permission: 'patient:read' },
      schema: {
        tags: ['patients'],
        summary: "A patient's canonical measurements",
        params: { type: 'object', required: ['patientId'], properties: { patientId: { type: 'string' } } },
        querystring: {
          type: 'object',
          properties: {
            concept: { type: 'string', description: 'comma-separated concepts, e.g. ferritin,hla_dr' },
            from: { type: 'string', format: 'date-time', description: 'inclusive' },
            to: { type: 'string', format: 'date-time', description: 'exclusive' },
          },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { measurements: { type: 'array', items: { $ref: 'Measurement#' } } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { patientId } = request.params as { patientId: string };
      const query = request.query as { concept?: string; from?: string; to?: string };
      await requirePatient(request, db, patientId, 'measurement:read');
      return {
        measurements: await listMeasurements(db, {
          patientId,
          ...(query.concept !== undefined ? { concepts: query.concept.split(',').map((c) => c.trim()) } : {}),
          ...(query.from !== undefined ? { from: query.from } : {}),
          ...(query.to !== undefined ? { to: query.to } : {}),
        }),
      };
    },
  );
};
