/**
 * CDS Hooks 2.0 service (HL7 STU2): ImmunoGuide's immune-state advice inside the EHR.
 *
 *   GET  /cds-services                 discovery (public: lists services, no patient data)
 *   POST /cds-services/{id}            a hook call: patient-view, order-select, order-sign
 *   POST /cds-services/{id}/feedback   accepted suggestions / overridden cards
 *   OPTIONS on each of them            CORS preflight (browser-based EHRs, the CDS Hooks sandbox)
 *
 * Security: these routes are `public` for ImmunoGuide's own bearer-token hook, because the EHR
 * authenticates with CDS Hooks' JWT instead (security.ts), verified in this plugin's preHandler.
 * Every call and the cards it produced are recorded (cds_call), in the same statement that claims
 * the token's jti, so a replayed token fails on every instance; the calls that reach the database
 * together share that statement (group commit, recorder.ts).
 *
 * Register it with `app.register(cdsHooksRoutes, { db, settings: loadCdsSettings(env), ... })`.
 * It is deliberately not wrapped in fastify-plugin: its CORS hook applies to its own routes only.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { SofaDaySummary } from '../../clinical/assessment.ts';
import type { IsoDateTime, Measurement } from '../../clinical/types.ts';
import { type ConceptDictionary, defaultConceptDictionary } from '../../sources/concepts/dictionary.ts';
import type { Database } from '../../store/db.ts';
import { type CdsCardRecord, recordCdsFeedback } from '../../store/cds.ts';
import { HttpProblem } from '../problem.ts';
import { type CardOptions, draftsToCheck, orderCards, patientViewCards } from './cards.ts';
import { targetedDrugIn } from './drugs.ts';
import { evaluatePatient } from './evaluate.ts';
import type { FetchLike } from './fhir-client.ts';
import { fhirAccessFor, gatherPatientData } from './patient-data.ts';
import { type CdsCallRecorderOptions, createCdsCallRecorder } from './recorder.ts';
import { type CdsCaller, CdsAuthError, REPLAYED_JTI, createCdsJwtVerifier } from './security.ts';
import { type CdsCatalog, buildCatalog } from './services.ts';
import type { CdsSettings } from './settings.ts';
import type { CdsCard, CdsFeedbackRequest, CdsRequest, CdsServiceDefinition } from './types.ts';

export interface CdsPluginOptions {
  db: Database;
  settings: CdsSettings;
  /** Concept dictionary (with the site's codes); default: the built-in one. */
  dictionary?: ConceptDictionary;
  /** Daily SOFA from the measurements (the SOFA engine); without it cards say SOFA was not computed. */
  sofaDays?: (measurements: readonly Measurement[], at: IsoDateTime) => SofaDaySummary[];
  /** Clock in epoch milliseconds (tests); default Date.now. */
  now?: () => number;
  /** fetch used for the EHR's FHIR server; default the global fetch. */
  fetch?: FetchLike;
  /** Options of the group commit of call records (batch size bound, a callback per batch for metrics). */
  recorder?: CdsCallRecorderOptions;
}

declare module 'fastify' {
  interface FastifyRequest {
    cdsCaller: CdsCaller | undefined;
  }
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;

const serviceParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 100 } } } as const;

/** The hook request (CDS Hooks 2.0, "Calling a CDS Service"); unknown fields are allowed, as the spec extends by adding. */
const hookRequestSchema = {
  type: 'object',
  required: ['hook', 'hookInstance', 'context'],
  properties: {
    hook: { type: 'string', minLength: 1, maxLength: 200 },
    hookInstance: { type: 'string', minLength: 1, maxLength: 200 },
    fhirServer: { type: 'string', minLength: 1, maxLength: 2000 },
    fhirAuthorization: {
      type: 'object',
      required: ['access_token', 'token_type'],
      properties: {
        access_token: { type: 'string', minLength: 1 },
        token_type: { type: 'string', pattern: '^[Bb][Ee][Aa][Rr][Ee][Rr]$' },
        expires_in: { type: 'number' },
        scope: { type: 'string' },
        subject: { type: 'string' },
        patient: { type: 'string' },
      },
    },
    context: {
      type: 'object',
      required: ['patientId'],
      properties: {
        userId: { type: 'string', maxLength: 300 },
        patientId: { type: 'string', minLength: 1, maxLength: 128 },
        encounterId: { type: 'string', maxLength: 128 },
        selections: { type: 'array', items: { type: 'string' } },
        draftOrders: { type: 'object', properties: { resourceType: { const: 'Bundle' }, entry: { type: 'array' } } },
      },
    },
    prefetch: { type: 'object' },
    extension: { type: 'object' },
  },
} as const;

const codingSchema = {
  type: 'object',
  required: ['code', 'system'],
  properties: { code: { type: 'string', maxLength: 200 }, system: { type: 'string', maxLength: 500 }, display: { type: 'string', maxLength: 500 } },
} as const;

/** Feedback (CDS Hooks 2.0, "Feedback"). */
const feedbackSchema = {
  type: 'object',
  required: ['feedback'],
  properties: {
    feedback: {
      type: 'array',
      minItems: 1,
      maxItems: 200,
      items: {
        type: 'object',
        required: ['card', 'outcome', 'outcomeTimestamp'],
        properties: {
          card: { type: 'string', minLength: 1, maxLength: 200 },
          outcome: { type: 'string', enum: ['accepted', 'overridden'] },
          acceptedSuggestions: { type: 'array', maxItems: 100, items: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } },
          overrideReason: { type: 'object', properties: { reason: codingSchema, userComment: { type: 'string', maxLength: 4000 } } },
          outcomeTimestamp: { type: 'string', maxLength: 40 },
        },
      },
    },
  },
} as const;

export const cdsHooksRoutes: FastifyPluginAsync<CdsPluginOptions> = async (app, options) => {
  const { db, settings } = options;
  const now = options.now ?? Date.now;
  const dictionary = options.dictionary ?? defaultConceptDictionary();
  const catalog: CdsCatalog = buildCatalog(dictionary);
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const verifier = createCdsJwtVerifier(db, settings, { now, log: (message, error) => app.log.warn({ err: error }, message) });
  const rateLimit = { max: settings.rateLimitPerMinute, timeWindow: '1 minute' };
  const cardOptions: Omit<CardOptions, 'newId'> = { catalog, dictionary, publicUrl: settings.publicUrl, smartLaunchUrl: settings.smartLaunchUrl };
  const routeConfig = { public: true, rateLimit };
  const recorder = createCdsCallRecorder(db, options.recorder);
  // On close the server first stops listening and lets the requests in flight finish; their
  // records are committed before they answer, so this only makes sure nothing is left queued
  // when the database is closed after the app.
  app.addHook('onClose', async () => recorder.flush());

  app.decorateRequest('cdsCaller', undefined);

  // CORS (CDS Hooks 2.0, "Cross-Origin Resource Sharing"): browser-based EHRs call from another
  // origin. Authentication is the bearer JWT, never cookies, so credentials are not allowed.
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (typeof origin !== 'string') return;
    const allowed = settings.corsOrigins.includes('*') ? '*' : settings.corsOrigins.includes(origin) ? origin : undefined;
    if (allowed === undefined) return;
    void reply.header('access-control-allow-origin', allowed);
    if (allowed !== '*') void reply.header('vary', 'Origin');
  });
  const preflight = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(204)
      .header('access-control-allow-methods', 'GET, POST, OPTIONS')
      .header('access-control-allow-headers', 'authorization, content-type')
      .header('access-control-max-age', '600')
      .send();
  for (const url of ['/cds-services', '/cds-services/:id', '/cds-services/:id/feedback']) {
    app.options(url, { config: routeConfig, schema: { hide: true } }, preflight);
  }

  const serviceUrl = (id: string): string | undefined => (settings.publicUrl === undefined ? undefined : `${settings.publicUrl}/cds-services/${id}`);

  const unauthorized = (message: string): HttpProblem =>
    new HttpProblem(401, 'Unauthorized', message, {}, {
      'WWW-Authenticate': `Bearer realm="immunoguide-cds", error="invalid_token", error_description="${message.replace(/"/g, "'")}"`,
    });

  const authenticate = (audiencesOf: (id: string) => string[]) => async (request: FastifyRequest) => {
    const { id } = request.params as { id: string };
    try {
      request.cdsCaller = await verifier.verify(request.headers.authorization, audiencesOf(id));
    } catch (error) {
      if (error instanceof CdsAuthError) throw unauthorized(error.message);
      throw error;
    }
  };

  app.get(
    '/cds-services',
    {
      config: routeConfig,
      schema: { tags: ['cds-hooks'], summary: 'CDS Hooks discovery: the services and their prefetch templates', security: [] },
    },
    async () => ({ services: catalog.services }),
  );

  app.post(
    '/cds-services/:id',
    {
      config: routeConfig,
      bodyLimit: MAX_BODY_BYTES,
      preHandler: authenticate((id) => [serviceUrl(id)].filter((u): u is string => u !== undefined)),
      schema: {
        tags: ['cds-hooks'],
        summary: 'Call a CDS service (patient-view, order-select, order-sign); authenticated by the EHR\'s CDS Hooks JWT',
        params: serviceParams,
        body: hookRequestSchema,
        security: [],
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const service = catalog.services.find((s) => s.id === id);
      if (service === undefined) throw new HttpProblem(404, 'Not Found', `No CDS service "${id}". See GET /cds-services.`);
      const body = request.body as CdsRequest;
      if (body.hook !== service.hook) throw new HttpProblem(400, 'Bad Request', `Service "${id}" answers the ${service.hook} hook, not ${body.hook}.`);
      if (body.fhirAuthorization !== undefined && body.fhirServer === undefined) {
        throw new HttpProblem(400, 'Bad Request', 'fhirAuthorization was sent without fhirServer (CDS Hooks 2.0: fhirServer is required with fhirAuthorization).');
      }
      const caller = request.cdsCaller ?? { authenticated: false, reason: 'not verified' };
      const cards = await answer(service, body, caller);
      // The call, its cards and the claim of the token's jti in one statement (shared with the
      // calls recorded at the same moment); nothing is recorded (and no card is sent) when the
      // jti was already used.
      const recorded = await recorder.record({
        call: {
          serviceId: service.id,
          hook: service.hook,
          hookInstance: body.hookInstance,
          issuer: caller.authenticated ? caller.issuer : null,
          tenant: caller.authenticated ? caller.tenant : null,
          userRef: typeof body.context.userId === 'string' ? body.context.userId : null,
          patientRef: body.context.patientId,
          dataSources: cards.sources,
        },
        cards: cards.cards.map(cardRecord),
        claim: caller.authenticated ? caller.claim : null,
      });
      if (!recorded) throw unauthorized(REPLAYED_JTI);
      return { cards: cards.cards };
    },
  );

  app.post(
    '/cds-services/:id/feedback',
    {
      config: routeConfig,
      preHandler: authenticate((id) => [serviceUrl(id), serviceUrl(`${id}/feedback`)].filter((u): u is string => u !== undefined)),
      schema: { tags: ['cds-hooks'], summary: 'Feedback on cards: accepted suggestions, overrides and their reasons', params: serviceParams, body: feedbackSchema, security: [] },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      if (!catalog.services.some((s) => s.id === id)) throw new HttpProblem(404, 'Not Found', `No CDS service "${id}". See GET /cds-services.`);
      const { feedback } = request.body as CdsFeedbackRequest;
      feedback.forEach((item, index) => {
        const where = `feedback[${index}]`;
        // CDS Hooks 2.0 invariants cds-fb-2 and cds-fb-3.
        if (item.outcome === 'accepted' && (item.acceptedSuggestions ?? []).length === 0) {
          throw new HttpProblem(400, 'Bad Request', `${where}: an accepted outcome needs acceptedSuggestions.`);
        }
        if (item.overrideReason !== undefined && item.overrideReason.reason === undefined && item.overrideReason.userComment === undefined) {
          throw new HttpProblem(400, 'Bad Request', `${where}: overrideReason needs a reason, a userComment, or both.`);
        }
        if (!/T.*(Z|[+-]\d{2}:\d{2})$/.test(item.outcomeTimestamp) || Number.isNaN(Date.parse(item.outcomeTimestamp))) {
          throw new HttpProblem(400, 'Bad Request', `${where}: outcomeTimestamp must be an ISO 8601 date-time with a time zone, got "${item.outcomeTimestamp}".`);
        }
      });
      const caller = request.cdsCaller;
      if (caller !== undefined) {
        try {
          await verifier.claimJti(caller);
        } catch (error) {
          if (error instanceof CdsAuthError) throw unauthorized(error.message);
          throw error;
        }
      }
      const known = await recordCdsFeedback(
        db,
        id,
        caller?.authenticated ? caller.issuer : null,
        feedback.map((item) => ({
          cardUuid: item.card,
          outcome: item.outcome,
          acceptedSuggestions: (item.acceptedSuggestions ?? []).map((s) => s.id),
          overrideReason: item.overrideReason?.reason ?? null,
          userComment: item.overrideReason?.userComment ?? null,
          outcomeAt: new Date(Date.parse(item.outcomeTimestamp)).toISOString(),
        })),
      );
      return { recorded: feedback.length, knownCards: known };
    },
  );

  async function answer(service: CdsServiceDefinition, body: CdsRequest, caller: CdsCaller): Promise<{ cards: CdsCard[]; sources: unknown }> {
    const newId = () => randomUUID();
    const drafts = service.hook === 'patient-view' ? [] : draftsToCheck(service.hook, body.context).filter((r) => targetedDrugIn(r, dictionary) !== null);
    // An order check with no anakinra or interferon-gamma among the drafts has nothing to say.
    if (service.hook !== 'patient-view' && drafts.length === 0) return { cards: [], sources: [] };

    const access = fhirAccessFor(body, { allowedHosts: settings.fhirAllowedHosts, authenticated: caller.authenticated, timeoutMs: settings.fhirTimeoutMs, fetch: fetchImpl });
    const data = await gatherPatientData(body, access, catalog.prefetchKeys);
    const ev = evaluatePatient(data, { dictionary, at: new Date(now()).toISOString(), ...(options.sofaDays ? { sofaDays: options.sofaDays } : {}) });
    const cards = service.hook === 'patient-view' ? patientViewCards(ev, { ...cardOptions, newId }) : orderCards(ev, drafts, { ...cardOptions, newId });
    return { cards, sources: data.keys.map((k) => ({ key: k.key, source: k.source, status: k.status, count: k.count })) };
  }
};

function cardRecord(card: CdsCard): CdsCardRecord {
  return {
    uuid: card.uuid,
    indicator: card.indicator,
    summary: card.summary,
    kind: card.source.topic?.code ?? 'card',
    suggestions: (card.suggestions ?? []).map((s) => ({ uuid: s.uuid, label: s.label })),
  };
}
