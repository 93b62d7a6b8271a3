/**
 * The Fastify application. Each feature is a plugin that owns its routes and their JSON
 * schemas; tests drive the app in-process with app.inject().
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Database } from '../store/db.ts';
import { VERSION } from '../version.ts';
import { healthRoutes } from './health.ts';
import { HttpProblem, errorHandler } from './problem.ts';

export interface AppOptions {
  db: Database;
  /** Log level for structured (pino) JSON logs on stderr, or false to disable logging (tests). */
  logger?: { level: string } | false;
  /** Largest accepted request body in bytes. */
  bodyLimit?: number;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // Logs are JSON lines on stderr, so stdout stays free for the CLI's result (`serve --json`).
    ...(options.logger
      ? { loggerInstance: pino({ level: options.logger.level, base: { service: 'immunoguide' } }, pino.destination(2)) as FastifyBaseLogger }
      : { logger: false }),
    bodyLimit: options.bodyLimit ?? 10 * 1024 * 1024,
    // Requests that stall must not hold a connection forever.
    connectionTimeout: 60_000,
    requestTimeout: 120_000,
    return503OnClosing: true,
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request) => {
    throw new HttpProblem(404, 'Not Found', `No route for ${request.method} ${request.url.split('?')[0]}.`);
  });
  await app.register(healthRoutes, { db: options.db, version: VERSION });
  return app as unknown as FastifyInstance;
}
