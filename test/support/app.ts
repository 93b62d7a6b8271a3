/** An in-process app on a test database with the local issuer, plus tokens for any role and sites. */
import { type JWK, SignJWT, generateKeyPair, importJWK } from 'jose';
import type { FastifyInstance } from 'fastify';
import { LOCAL_ISSUER } from '../../src/config.ts';
import { buildApp } from '../../src/server/app.ts';
import type { CdsPluginOptions } from '../../src/server/cds/plugin.ts';
import { loadCdsSettings } from '../../src/server/cds/settings.ts';
import { type AuthConfig, type Authenticator, createAuthenticator } from '../../src/server/auth/authenticator.ts';
import type { Role } from '../../src/server/auth/principal.ts';
import type { Database } from '../../src/store/db.ts';
import { activeSigningKeys } from '../../src/store/users.ts';

export const LOCAL_AUTH: AuthConfig = {
  mode: 'local',
  issuer: LOCAL_ISSUER,
  audience: 'immunoguide',
  jwksUrl: undefined,
  rolesClaim: 'roles',
  sitesClaim: 'sites',
  tokenTtlSeconds: 3600,
};

export interface TestApp {
  app: FastifyInstance;
  authenticator: Authenticator;
  /** A valid bearer token for a user with these roles and sites. */
  token(roles: Role[], sites: string[], id?: string): Promise<string>;
  /** Authorization header value for such a user. */
  bearer(roles: Role[], sites: string[], id?: string): Promise<{ authorization: string }>;
}

export async function buildTestApp(
  db: Database,
  options: { rateLimitPerMinute?: number | false; cds?: Omit<CdsPluginOptions, 'db'>; sofaPreset?: string } = {},
): Promise<TestApp> {
  const authenticator = await createAuthenticator(db, LOCAL_AUTH);
  // The CDS Hooks service is mounted as in production (no trusted EHR issuers configured), so the
  // route sweeps cover its routes too.
  const app = await buildApp({ db, authenticator, logger: false, rateLimitPerMinute: options.rateLimitPerMinute ?? false, cds: options.cds ?? { settings: loadCdsSettings({}) }, ...(options.sofaPreset === undefined ? {} : { sofaPreset: options.sofaPreset }) });
  const token = async (roles: Role[], sites: string[], id = `test-${roles.join('-')}`): Promise<string> =>
    (await authenticator.issueToken({ id, name: id, roles, sites })).accessToken;
  return {
    app,
    authenticator,
    token,
    bearer: async (roles, sites, id) => ({ authorization: `Bearer ${await token(roles, sites, id)}` }),
  };
}

/**
 * Tokens that must all be rejected. Those named after a claim are signed with the server's own
 * key (so only that claim is wrong); the others are forged or signed by a stranger.
 */
export async function badTokens(db: Database): Promise<Record<string, string>> {
  const claims = { roles: ['admin', 'clinician'], sites: ['athens', 'nijmegen', 'milan', 'site-a', 'site-b'] };
  const [key] = await activeSigningKeys(db);
  if (!key) throw new Error('no signing key: build the app first');
  const serverKey = await importJWK(key.privateJwk as JWK, 'ES256');
  const stranger = await generateKeyPair('ES256');
  const now = Math.floor(Date.now() / 1000);
  const jwt = (overrides: { iss?: string; aud?: string; iat?: number; exp?: number } = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .setSubject('intruder')
      .setIssuer(overrides.iss ?? LOCAL_ISSUER)
      .setAudience(overrides.aud ?? 'immunoguide')
      .setIssuedAt(overrides.iat ?? now)
      .setExpirationTime(overrides.exp ?? now + 3600);
  const valid = await jwt().sign(serverKey);
  const [header, payload, signature] = valid.split('.');
  const tampered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'admin' })).toString('base64url');
  return {
    expired: await jwt({ iat: now - 7200, exp: now - 3600 }).sign(serverKey),
    'wrongly-signed': await jwt().sign(stranger.privateKey),
    'wrong-audience': await jwt({ aud: 'some-other-service' }).sign(serverKey),
    'wrong-issuer': await jwt({ iss: 'https://evil.example' }).sign(serverKey),
    'tampered-claims': `${header}.${tampered}.${signature}`,
    'alg-none': `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`,
    garbage: 'not.a.token',
  };
}
