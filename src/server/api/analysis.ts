/**
 * The trial analysis and its printable report over HTTP:
 *   GET /api/trials/:trialId/analysis?view=blinded|unblinded  -> JSON
 *   GET /api/trials/:trialId/report?view=blinded|unblinded    -> self-contained HTML
 * computed from the store (trial-dataset.ts) by the same functions as `immunoguide report`
 * (src/stats/trial-report.ts), over the patients randomised at the caller's sites.
 *
 * Blinding: the default view is blinded for every role. The unblinded view is given only when
 * asked for (view=unblinded) and only to the roles holding 'analysis:unblinded' (statistician,
 * unblinded pharmacist); everyone else gets a 403 that says nothing about the trial or its arms.
 * The blinded answer is computed from a dataset that never read an arm. Every unblinded answer
 * is first written to the hash-chained audit log (who, when, which trial, sites and format); if
 * that write fails, nothing is sent.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_ENDPOINT_DEFINITION, ENDPOINT_DEFINITIONS, type EndpointDefinition } from '../../clinical/endpoints.ts';
import { blindedTrialReport, unblindedTrialReport, type BlindedTrialReport, type UnblindedTrialReport } from '../../stats/trial-report.ts';
import { appendAudit } from '../../store/audit.ts';
import type { Database } from '../../store/db.ts';
import { type TrialRecord, getTrial } from '../../store/trial.ts';
import { VERSION } from '../../version.ts';
import { auditAccess } from '../access-audit.ts';
import { principalOf } from '../auth/plugin.ts';
import { can } from '../auth/principal.ts';
import { HttpProblem } from '../problem.ts';
import { blindedDatasetFromStore, unblindedDatasetFromStore } from './trial-dataset.ts';

export const ANALYSIS_VIEWS = ['blinded', 'unblinded'] as const;
export type AnalysisView = (typeof ANALYSIS_VIEWS)[number];

/** The report's own policy, also sent as a header: no script, no external resource. */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

const params = { type: 'object', required: ['trialId'], properties: { trialId: { type: 'string' } } } as const;
const querystring = {
  type: 'object',
  properties: {
    view: {
      type: 'string',
      enum: [...ANALYSIS_VIEWS],
      default: 'blinded',
      description: 'blinded (default): pooled over arms, for every role; unblinded: by arm, statistician and unblinded pharmacist only (audited)',
    },
    definition: {
      type: 'string',
      enum: Object.keys(ENDPOINT_DEFINITIONS),
      description: 'analyse under this shipped endpoint definition (default immunosep-sap)',
    },
  },
} as const;

interface Query {
  view: AnalysisView;
  definition?: string;
}

type Format = 'json' | 'html';

interface Prepared {
  trial: TrialRecord;
  view: AnalysisView;
  definition: EndpointDefinition;
  generatedAt: string;
  sites: string[];
  report: UnblindedTrialReport | BlindedTrialReport;
}

export const analysisRoutes: FastifyPluginAsync<{ db: Database }> = async (app, { db }) => {
  /** Role gate, audit, dataset from the store and the analysis: everything both routes share. */
  async function prepare(request: FastifyRequest, format: Format): Promise<Prepared> {
    const { trialId } = request.params as { trialId: string };
    const query = request.query as Query;
    const view = query.view ?? 'blinded';
    const principal = principalOf(request);
    const action = format === 'json' ? 'trial:analysis:read' : 'trial:report:read';
    if (view === 'unblinded' && !can(principal, 'analysis:unblinded')) {
      auditAccess(request, { action: `${action}:unblinded`, outcome: 'denied' });
      // Checked before the trial is looked up: the refusal says nothing about the trial or its arms.
      throw new HttpProblem(
        403,
        'Forbidden',
        'The unblinded analysis is only for the trial statistician and the unblinded pharmacist. The blinded pooled analysis is available to you (view=blinded, the default).',
        { view: 'unblinded', allowedViews: ['blinded'] },
      );
    }
    const trial = await getTrial(db, trialId);
    if (!trial) {
      auditAccess(request, { action: `${action}:${view}`, outcome: 'not-found' });
      throw new HttpProblem(404, 'Not Found', `Trial ${trialId} was not found.`);
    }
    auditAccess(request, { action: `${action}:${view}`, outcome: 'allowed' });
    const definition = (query.definition === undefined ? undefined : ENDPOINT_DEFINITIONS[query.definition]) ?? DEFAULT_ENDPOINT_DEFINITION;
    // The request time is the data cut-off and the generation time printed in the report.
    const generatedAt = new Date().toISOString();
    const sites = [...principal.sites].sort();
    const options = { asOf: generatedAt, siteIds: sites, endpointDefinition: definition };
    let report: ReportResult;
    if (view === 'unblinded') {
      // Audited before anything is computed or sent: a failed audit write answers 500, not data.
      await appendAudit(db, {
        at: generatedAt,
        actor: principal.id,
        action: 'analysis.unblinded',
        subject: `trial:${trial.id}`,
        payload: {
          trialId: trial.id,
          format,
          actorName: principal.name,
          actorKind: principal.kind,
          roles: [...principal.roles],
          sites,
          endpointDefinition: { id: definition.id, version: definition.version },
          dataCutOff: generatedAt,
        },
      });
      const data = await unblindedDatasetFromStore(db, trial, options);
      if (!data.ok) throw new HttpProblem(422, 'Unprocessable Content', data.error.message);
      report = unblindedTrialReport(data.value);
    } else {
      const data = await blindedDatasetFromStore(db, trial, options);
      if (!data.ok) throw new HttpProblem(422, 'Unprocessable Content', data.error.message);
      report = blindedTrialReport(data.value);
    }
    if (!report.ok) {
      const { message, problems } = report.error;
      throw new HttpProblem(422, 'Unprocessable Content', `Trial ${trial.id}: ${message}`, problems === null ? {} : { problems: problems.slice(0, 200) });
    }
    return { trial, view, definition, generatedAt, sites, report: report.value };
  }

  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  app.get(
    '/api/trials/:trialId/analysis',
    {
      config: { permission: 'analysis:blinded' },
      schema: {
        tags: ['trial'],
        summary: "Endpoint analysis of the patients randomised at the caller's sites: blinded pooled by default; view=unblinded by arm for the statistician and unblinded pharmacist (audited)",
        params,
        querystring,
      },
    },
    async (request, reply) => {
      const p = await prepare(request, 'json');
      noStore(reply);
      return {
        trialId: p.trial.id,
        view: p.view,
        generatedAt: p.generatedAt,
        softwareVersion: VERSION,
        sofaPreset: p.trial.definition.sofaPreset,
        endpointDefinition: { id: p.definition.id, version: p.definition.version },
        sites: p.sites,
        patients: p.report.patients,
        analysed: p.report.analysed,
        analysis: p.report.analysis,
      };
    },
  );

  app.get(
    '/api/trials/:trialId/report',
    {
      config: { permission: 'analysis:blinded' },
      schema: {
        tags: ['trial'],
        summary: 'The printable endpoint report (self-contained HTML, no script): blinded pooled by default; view=unblinded for the statistician and unblinded pharmacist (audited)',
        params,
        querystring,
      },
    },
    async (request, reply) => {
      const p = await prepare(request, 'html');
      const html = p.report.render({ generatedAt: p.generatedAt, softwareVersion: VERSION, source: `the trial database (sites ${p.sites.join(', ')})` });
      return noStore(reply)
        .type('text/html; charset=utf-8')
        .header('content-security-policy', REPORT_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('content-disposition', `inline; filename="${p.trial.id}-report-${p.view}.html"`)
        .send(html);
    },
  );
};

type ReportResult = ReturnType<typeof unblindedTrialReport> | ReturnType<typeof blindedTrialReport>;
