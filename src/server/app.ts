/**
 * The Fastify application. Each feature is a plugin that owns its routes and their JSON
 * schemas; tests drive the app in-process with app.inject().
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Database } from '../store/db.ts';
import { VERSION } from '../version.ts';
import { healthRoutes } from './health.ts';
import { HttpProblem, errorHandler } from './problem.ts';

export interface AppOptions {
  db: Database;
  /** pino options, or false to disable request logging (tests). */
  logger?: { level: string } | false;
  /** Largest accepted request body in bytes. */
  bodyLimit?: number;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 10 * 1024 * 1024,
    // Requests that stall must not hold a connection forever.
    connectionTimeout: 60_000,
    requestTimeout: 120_000,
    return503OnClosing: true,
    disableRequestLogging: false,
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request) => {
    throw new HttpProblem(404, 'Not Found', `No route for ${request.method} ${request.url.split('?')[0]}.`);
  });
  await app.register(healthRoutes, { db: options.db, version: VERSION });
  return app;
}
