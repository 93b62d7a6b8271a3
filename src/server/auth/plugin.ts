/**
 * Authentication for every route unless the route says `config: { public: true }` (health,
 * FHIR CapabilityStatement, CDS Hooks discovery, the token endpoint, JWKS, API docs, static
 * assets). Authorisation by permission: `config: { permission: 'patient:read' }`.
 * Authenticated requests carry `request.principal`.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HttpProblem } from '../problem.ts';
import { AuthError, type Authenticator } from './authenticator.ts';
import { type Permission, type Principal, can } from './principal.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /** No authentication (the route serves nothing patient-related). */
    public?: boolean;
    /** Permission the caller needs (see PERMISSIONS in principal.ts). */
    permission?: Permission;
  }
}

const plugin: FastifyPluginAsync<{ authenticator: Authenticator }> = async (app, { authenticator }) => {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config?.public || request.is404) return;
    try {
      request.principal = await authenticator.authenticate(request.headers);
    } catch (error) {
      if (error instanceof AuthError) {
        throw new HttpProblem(401, 'Unauthorized', error.message, {}, {
          'WWW-Authenticate': `Bearer realm="immunoguide", error="invalid_token", error_description="${error.message.replace(/"/g, "'")}"`,
        });
      }
      throw error;
    }
    const permission = config?.permission;
    if (permission !== undefined && !can(request.principal, permission)) {
      throw new HttpProblem(403, 'Forbidden', `Your role(s) ${request.principal.roles.join(', ')} do not allow ${permission}.`);
    }
  });
};

export const authPlugin = fp(plugin, { name: 'immunoguide-auth' });

/** The authenticated caller of a non-public route (the hook guarantees it is set). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new HttpProblem(401, 'Unauthorized', 'authentication required');
  return request.principal;
}
