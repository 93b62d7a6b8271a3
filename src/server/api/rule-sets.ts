/**
 * GET /api/rule-sets: the immune classification rule sets as data (every threshold with its
 * operator, unit and source) and the citations they refer to. The web app draws its chart
 * thresholds and prints its citations from this, so no clinical number is restated in the
 * browser. Not patient data, but behind authentication like the rest of /api.
 */
import type { FastifyPluginAsync } from 'fastify';
import { CITATIONS, DEFAULT_IMMUNE_RULE_SET, IMMUNE_RULE_SETS } from '../../clinical/immune/index.ts';
import { errorResponses } from './schemas.ts';

export const ruleSetRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/api/rule-sets',
    {
      schema: {
        tags: ['clinical'],
        summary: 'Immune classification rule sets (versioned thresholds with sources) and their citations',
        response: { ...errorResponses },
      },
    },
    async () => ({
      default: { id: DEFAULT_IMMUNE_RULE_SET.id, version: DEFAULT_IMMUNE_RULE_SET.version },
      ruleSets: IMMUNE_RULE_SETS,
      citations: Object.values(CITATIONS),
    }),
  );
};
