/**
 * The PHI access log: every read or write of patient data, allowed or not, becomes one
 * append-only row (who, roles, what, which patient and site, outcome, status, from where,
 * why). Routes declare the access with `auditAccess()`; the row is written before the
 * response leaves (onSend), so a response carrying patient data is never sent unaudited:
 * if the audit write fails, the client gets a 500 instead of the data.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Database } from '../store/db.ts';
import { principalOf } from './auth/plugin.ts';
import { patientNotFound } from './problem.ts';
import { type Patient, getPatient } from '../store/repository.ts';

export interface AccessAudit {
  action: string;
  patientId?: string | null;
  siteId?: string | null;
  outcome: 'allowed' | 'denied' | 'not-found';
}

declare module 'fastify' {
  interface FastifyRequest {
    accessAudit: AccessAudit | undefined;
  }
}

export function auditAccess(request: FastifyRequest, entry: AccessAudit): void {
  request.accessAudit = entry;
}

/** Header a caller uses to state why (break-glass, emergency unblinding); stored with the access. */
export const REASON_HEADER = 'x-access-reason';

const plugin: FastifyPluginAsync<{ db: Database }> = async (app, { db }) => {
  app.decorateRequest('accessAudit', undefined);
  app.addHook('onSend', async (request, reply, payload) => {
    const entry = request.accessAudit;
    if (!entry) return payload;
    const principal = request.principal;
    const reason = request.headers[REASON_HEADER];
    await db.query(
      `INSERT INTO access_log (actor, actor_kind, roles, method, route, action, patient_id, site_id, outcome, status,
                               client_ip, user_agent, reason, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        principal?.id ?? 'anonymous',
        principal?.kind ?? 'anonymous',
        principal?.roles ?? [],
        request.method,
        request.routeOptions.url ?? request.url,
        entry.action,
        entry.patientId ?? null,
        entry.siteId ?? null,
        entry.outcome,
        reply.statusCode,
        request.ip,
        truncate(request.headers['user-agent'], 300),
        truncate(Array.isArray(reason) ? reason.join(' ') : reason, 1000),
        request.id,
      ],
    );
    return payload;
  });
};

export const accessAuditPlugin = fp(plugin, { name: 'immunoguide-access-audit' });

/**
 * Loads a patient for a patient-scoped route. A patient of another site answers exactly like
 * a patient that does not exist (404, same body), so existence does not leak; the attempt is
 * audited either way.
 */
export async function requirePatient(
  request: FastifyRequest,
  db: Database,
  patientId: string,
  action: string,
): Promise<Patient> {
  const principal = principalOf(request);
  const patient = await getPatient(db, patientId);
  if (!patient || !principal.sites.includes(patient.siteId)) {
    auditAccess(request, { action, patientId, siteId: patient?.siteId ?? null, outcome: patient ? 'denied' : 'not-found' });
    throw patientNotFound(patientId);
  }
  auditAccess(request, { action, patientId, siteId: patient.siteId, outcome: 'allowed' });
  return patient;
}

function truncate(value: string | undefined, length: number): string | null {
  return value === undefined ? null : value.slice(0, length);
}

export interface AccessLogRow {
  actor: string;
  action: string;
  patientId: string | null;
  siteId: string | null;
  outcome: string;
  status: number;
  reason: string | null;
}

export async function accessLogFor(db: Database, patientId: string): Promise<AccessLogRow[]> {
  const result = await db.query<AccessLogRow>(
    `SELECT actor, action, patient_id AS "patientId", site_id AS "siteId", outcome, status, reason
       FROM access_log WHERE patient_id = $1 ORDER BY id`,
    [patientId],
  );
  return result.rows;
}
