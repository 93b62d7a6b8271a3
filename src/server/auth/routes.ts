/**
 * Sign-in under the local issuer, the issuer's public keys, and user / API-key management.
 * Under an external OpenID Connect issuer, /auth/token answers 404-like guidance: users sign
 * in at the hospital's identity provider instead.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Database } from '../../store/db.ts';
import { createApiKey, createUser, findUserByUsername } from '../../store/users.ts';
import { HttpProblem } from '../problem.ts';
import { type Authenticator, newApiKey } from './authenticator.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { principalOf } from './plugin.ts';
import { ROLES, isRole } from './principal.ts';

const principalSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string' },
    id: { type: 'string' },
    name: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    sites: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const authRoutes: FastifyPluginAsync<{ db: Database; authenticator: Authenticator }> = async (
  app,
  { db, authenticator },
) => {
  app.post(
    '/auth/token',
    {
      config: { public: true, rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        tags: ['auth'],
        summary: 'Sign in (local issuer): username and password for a bearer token',
        body: {
          type: 'object',
          required: ['username', 'password'],
          properties: { username: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 256 } },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              access_token: { type: 'string' },
              token_type: { type: 'string' },
              expires_in: { type: 'integer' },
              user: principalSchema,
            },
          },
          401: { $ref: 'Problem#' },
        },
      },
    },
    async (request) => {
      if (authenticator.config.mode !== 'local') {
        throw new HttpProblem(400, 'Bad Request', `Sign in at the identity provider ${authenticator.config.issuer}.`);
      }
      const { username, password } = request.body as { username: string; password: string };
      const user = await findUserByUsername(db, username.toLowerCase());
      // Verify against a dummy hash for unknown users so timing does not reveal which usernames exist.
      const valid = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
      if (!user || !user.passwordHash || !valid || user.disabled) {
        throw new HttpProblem(401, 'Unauthorized', 'Unknown username or wrong password.');
      }
      const roles = user.roles.filter(isRole);
      const token = await authenticator.issueToken({ id: user.id, name: user.displayName, roles, sites: user.sites });
      return {
        access_token: token.accessToken,
        token_type: 'Bearer',
        expires_in: token.expiresIn,
        user: { kind: 'user', id: user.id, name: user.displayName, roles, sites: user.sites },
      };
    },
  );

  app.get(
    '/auth/jwks.json',
    { config: { public: true }, schema: { tags: ['auth'], summary: "The local issuer's public signing keys" } },
    async () => authenticator.jwks(),
  );

  app.get(
    '/api/me',
    { schema: { tags: ['auth'], summary: 'Who am I: roles and sites of the caller', response: { 200: principalSchema } } },
    async (request) => principalOf(request),
  );

  const grantSchema = {
    roles: { type: 'array', minItems: 1, items: { type: 'string', enum: [...ROLES] } },
    sites: { type: 'array', minItems: 1, items: { type: 'string' } },
  } as const;

  app.post(
    '/api/users',
    {
      config: { permission: 'user:manage' },
      schema: {
        tags: ['auth'],
        summary: 'Create a user (local issuer)',
        body: {
          type: 'object',
          required: ['username', 'password', 'roles', 'sites'],
          properties: {
            username: { type: 'string', pattern: '^[a-z0-9._@-]{2,64}$' },
            displayName: { type: 'string', maxLength: 200 },
            password: { type: 'string', minLength: 12, maxLength: 256 },
            ...grantSchema,
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { username: string; displayName?: string; password: string; roles: string[]; sites: string[] };
      if (await findUserByUsername(db, body.username)) {
        throw new HttpProblem(409, 'Conflict', `User ${body.username} already exists.`);
      }
      const user = await createUser(db, {
        username: body.username,
        displayName: body.displayName ?? body.username,
        passwordHash: await hashPassword(body.password),
        roles: body.roles,
        sites: body.sites,
      });
      return reply.code(201).send({ id: user.id, username: user.username, roles: user.roles, sites: user.sites });
    },
  );

  app.post(
    '/api/api-keys',
    {
      config: { permission: 'user:manage' },
      schema: {
        tags: ['auth'],
        summary: 'Create an API key for a service client (the key is shown once)',
        body: {
          type: 'object',
          required: ['name', 'roles', 'sites'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, ...grantSchema },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { name: string; roles: string[]; sites: string[] };
      const key = newApiKey();
      await createApiKey(db, { id: key.id, name: body.name, secretHash: key.secretHash, roles: body.roles, sites: body.sites, createdBy: principalOf(request).id });
      return reply.code(201).send({ id: key.id, name: body.name, key: key.token, roles: body.roles, sites: body.sites });
    },
  );
};

// scrypt hash of a random throwaway password, used only to spend the same time on unknown users.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$Qk1ZcSGqkA7Q8hqHq1tX5i0e8f3mT7l3mQ8x4Jmfq1Y';
