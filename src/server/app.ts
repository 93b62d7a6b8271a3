/**
 * The Fastify application. Each feature is a plugin that owns its routes and their JSON
 * schemas (which double as the OpenAPI document at /api/docs); tests drive the app in-process
 * with app.inject().
 */
import { DEFAULT_SOFA_PRESET } from '../clinical/sofa/parameters.ts';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Database } from '../store/db.ts';
import { VERSION } from '../version.ts';
import { accessAuditPlugin } from './access-audit.ts';
import { analysisRoutes } from './api/analysis.ts';
import { assessmentRoutes } from './api/assessment.ts';
import { clinicalRoutes } from './api/clinical.ts';
import { patientRoutes } from './api/patients.ts';
import { ruleSetRoutes } from './api/rule-sets.ts';
import { trialRoutes } from './api/trial.ts';
import { measurementSchema, patientSchema, problemSchema } from './api/schemas.ts';
import type { Authenticator } from './auth/authenticator.ts';
import { authPlugin } from './auth/plugin.ts';
import type { Permission } from './auth/principal.ts';
import { authRoutes } from './auth/routes.ts';
import { type CdsPluginOptions, cdsHooksRoutes } from './cds/plugin.ts';
import { fhirRoutes } from './fhir/routes.ts';
import { healthRoutes } from './health.ts';
import { HttpProblem, errorHandler } from './problem.ts';
import { webAppRoutes } from './web.ts';
import { importRoutes } from './imports.ts';

export interface AppOptions {
  db: Database;
  authenticator: Authenticator;
  /** Log level for structured (pino) JSON logs on stderr, or false to disable logging (tests). */
  logger?: { level: string } | false;
  /** Largest accepted request body in bytes (uploads have their own, larger limit). */
  bodyLimit?: number;
  /** Requests per minute per client (authenticated principal, else IP address); false disables. */
  rateLimitPerMinute?: number | false;
  /** CDS Hooks service settings; the service is not mounted without them. */
  cds?: Omit<CdsPluginOptions, 'db'>;
  /** Called when a job was queued (wakes this instance's idle worker at once). */
  onJobEnqueued?: () => void;
  /** SOFA preset of the bedside views (default: the engine's, mimic-iv). */
  sofaPreset?: string;
}

export interface RouteInfo {
  method: string;
  url: string;
  public: boolean;
  permission: Permission | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every registered route (for the security sweep tests and the docs). */
    routeTable: RouteInfo[];
    /** The deployment's SOFA preset for bedside views (IMMUNOGUIDE_SOFA_PRESET). */
    sofaPreset: string;
  }
}

/** Route prefixes served without authentication: documentation only, never patient data. */
const PUBLIC_PREFIXES = ['/api/docs'];

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // Logs are JSON lines on stderr, so stdout stays free for the CLI's result (`serve --json`).
    ...(options.logger
      ? { loggerInstance: pino({ level: options.logger.level, base: { service: 'immunoguide' } }, pino.destination(2)) as FastifyBaseLogger }
      : { logger: false }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Requests that stall must not hold a connection forever.
    connectionTimeout: 60_000,
    requestTimeout: 120_000,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }) as unknown as FastifyInstance;

  app.setErrorHandler(errorHandler);
  // Graceful shutdown: requests in flight finish, and their keep-alive connections are closed
  // after the response instead of lingering until the keep-alive timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) void reply.header('connection', 'close');
    return payload;
  });
  app.setNotFoundHandler((request) => {
    throw new HttpProblem(404, 'Not Found', `No route for ${request.method} ${request.url.split('?')[0]}.`);
  });
  const routeTable: RouteInfo[] = [];
  app.decorate('routeTable', routeTable);
  app.decorate('sofaPreset', options.sofaPreset ?? DEFAULT_SOFA_PRESET);
  app.addHook('onRoute', (route) => {
    if (PUBLIC_PREFIXES.some((prefix) => route.url.startsWith(prefix))) route.config = { ...route.config, public: true };
    for (const method of [route.method].flat()) {
      routeTable.push({ method, url: route.url, public: route.config?.public === true, permission: route.config?.permission });
    }
  });
  for (const schema of [problemSchema, patientSchema, measurementSchema]) app.addSchema(schema);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'ImmunoGuide API',
        version: VERSION,
        description: 'Biomarker-guided immunotherapy for sepsis. Errors are RFC 9457 problem documents.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  if (options.rateLimitPerMinute !== false) {
    await app.register(rateLimit, {
      global: true,
      max: options.rateLimitPerMinute ?? 1200,
      timeWindow: '1 minute',
      hook: 'preHandler',
      keyGenerator: (request) => (request.principal ? `${request.principal.kind}:${request.principal.id}` : `ip:${request.ip}`),
    });
  }
  await app.register(authPlugin, { authenticator: options.authenticator });
  await app.register(accessAuditPlugin, { db: options.db });

  await app.register(healthRoutes, { db: options.db, version: VERSION });
  await app.register(authRoutes, { db: options.db, authenticator: options.authenticator });
  await app.register(patientRoutes, { db: options.db });
  await app.register(clinicalRoutes, { db: options.db });
  await app.register(assessmentRoutes, { db: options.db });
  await app.register(trialRoutes, { db: options.db });
  await app.register(analysisRoutes, { db: options.db });
  await app.register(importRoutes, { db: options.db, ...(options.onJobEnqueued ? { onEnqueued: options.onJobEnqueued } : {}) });
  await app.register(fhirRoutes, { db: options.db });
  if (options.cds) await app.register(cdsHooksRoutes, { db: options.db, ...options.cds });
  await app.register(ruleSetRoutes);
  await app.register(webAppRoutes);
  return app;
}
