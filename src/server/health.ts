/** GET /health: liveness and database reachability, for load balancers and `npm start` users. */
import type { FastifyPluginAsync } from 'fastify';
import type { Database } from '../store/db.ts';
import { appliedMigrations } from '../store/migrate.ts';

export interface HealthOptions {
  db: Database;
  version: string;
}

export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, { db, version }) => {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        summary: 'Service health',
        response: {
          200: {
            type: 'object',
            required: ['status', 'version', 'database'],
            properties: {
              status: { type: 'string', enum: ['ok'] },
              version: { type: 'string' },
              database: {
                type: 'object',
                required: ['backend', 'schemaVersion'],
                properties: { backend: { type: 'string' }, schemaVersion: { type: 'integer' } },
              },
            },
          },
          503: {
            type: 'object',
            properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' } },
          },
        },
      },
    },
    async (_request, reply) => {
      let schemaVersion: number;
      try {
        const applied = await appliedMigrations(db);
        schemaVersion = applied.length;
      } catch (error) {
        _request.log.error({ err: error }, 'health check: database unreachable');
        return reply.code(503).type('application/problem+json').send({
          type: 'about:blank',
          title: 'Service Unavailable',
          status: 503,
          detail: 'The database is not reachable.',
        });
      }
      return { status: 'ok' as const, version, database: { backend: db.backend, schemaVersion } };
    },
  );
};
