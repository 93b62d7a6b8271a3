/**
 * Bearer-token and API-key authentication.
 *
 * - `local` issuer (the embedded default): ImmunoGuide signs ES256 JWTs itself with a key kept
 *   in the database (so every instance verifies what any instance issued) and publishes the
 *   public key at /auth/jwks.json.
 * - `oidc`: tokens from the hospital's OpenID Connect provider, verified with `jose` against
 *   the issuer's JWKS; roles and sites come from configurable claims.
 * - API keys for service clients: `Authorization: ApiKey igk_<id>.<secret>` (or `X-API-Key`).
 *
 * Every token must carry iss, aud, sub, iat and exp, and pass signature, issuer, audience and
 * expiry checks. Failures are AuthError with a reason safe to show to the caller.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  SignJWT,
  calculateJwkThumbprint,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
} from 'jose';
import type { Database } from '../../store/db.ts';
import { activeSigningKeys, findApiKey, insertSigningKeyIfNone } from '../../store/users.ts';
import { type Principal, type Role, isRole } from './principal.ts';

export interface AuthConfig {
  mode: 'local' | 'oidc';
  issuer: string;
  audience: string;
  /** oidc: the issuer's JWKS; defaults to the jwks_uri of its discovery document. */
  jwksUrl: string | undefined;
  rolesClaim: string;
  sitesClaim: string;
  tokenTtlSeconds: number;
}

export class AuthError extends Error {
  override name = 'AuthError';
}

type KeyResolver = JWTVerifyGetKey;
type SigningKey = Parameters<SignJWT['sign']>[0];

export interface Authenticator {
  readonly config: AuthConfig;
  authenticate(headers: Record<string, string | string[] | undefined>): Promise<Principal>;
  /** Local issuer only: a signed access token for a user. */
  issueToken(subject: { id: string; name: string; roles: readonly Role[]; sites: readonly string[] }): Promise<{
    accessToken: string;
    expiresIn: number;
  }>;
  /** Local issuer only: the public keys. */
  jwks(): Promise<JSONWebKeySet>;
}

const ALGORITHM = 'ES256';

export async function createAuthenticator(db: Database, config: AuthConfig): Promise<Authenticator> {
  const resolveKey = config.mode === 'local' ? await localKeyResolver(db) : await remoteKeyResolver(config);

  async function verifyBearer(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, resolveKey.resolver, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: config.mode === 'local' ? [ALGORITHM] : ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'PS256'],
        requiredClaims: ['sub', 'iat', 'exp'],
        clockTolerance: 30,
      }));
    } catch (error) {
      throw new AuthError(describeJoseError(error));
    }
    const roles = claimList(payload[config.rolesClaim]).filter(isRole);
    if (roles.length === 0) throw new AuthError(`the token grants no ImmunoGuide role (claim "${config.rolesClaim}")`);
    return {
      kind: 'user',
      id: payload.sub!,
      name: typeof payload.name === 'string' ? payload.name : payload.sub!,
      roles,
      sites: claimList(payload[config.sitesClaim]),
    };
  }

  async function verifyApiKey(presented: string): Promise<Principal> {
    const match = /^igk_([A-Za-z0-9]{8,40})\.([A-Za-z0-9_-]{20,100})$/.exec(presented);
    if (!match) throw new AuthError('malformed API key');
    const record = await findApiKey(db, match[1]!);
    const expected = record ? Buffer.from(record.secretHash, 'hex') : Buffer.alloc(32);
    const actual = createHash('sha256').update(match[2]!).digest();
    // Compare even when the key id is unknown, so timing does not tell which ids exist.
    const matches = timingSafeEqual(actual, expected);
    if (!record || !matches) throw new AuthError('unknown API key');
    if (record.revokedAt !== null) throw new AuthError('the API key was revoked');
    return { kind: 'api-key', id: record.id, name: record.name, roles: record.roles.filter(isRole), sites: record.sites };
  }

  return {
    config,
    async authenticate(headers) {
      const authorization = single(headers.authorization);
      const apiKeyHeader = single(headers['x-api-key']);
      if (authorization) {
        const [scheme, value] = authorization.split(/\s+/, 2);
        if (scheme?.toLowerCase() === 'bearer' && value) return verifyBearer(value);
        if (scheme?.toLowerCase() === 'apikey' && value) return verifyApiKey(value);
        throw new AuthError('Authorization must be "Bearer <token>" or "ApiKey <key>"');
      }
      if (apiKeyHeader) return verifyApiKey(apiKeyHeader);
      throw new AuthError('authentication required: send "Authorization: Bearer <token>"');
    },
    async issueToken(subject) {
      if (config.mode !== 'local') throw new AuthError('tokens are issued by the configured OpenID Connect provider');
      const { kid, privateKey } = await resolveKey.signingKey();
      const accessToken = await new SignJWT({ name: subject.name, [config.rolesClaim]: subject.roles, [config.sitesClaim]: subject.sites })
        .setProtectedHeader({ alg: ALGORITHM, kid, typ: 'JWT' })
        .setIssuer(config.issuer)
        .setAudience(config.audience)
        .setSubject(subject.id)
        .setIssuedAt()
        .setJti(randomBytes(16).toString('hex'))
        .setExpirationTime(`${config.tokenTtlSeconds}s`)
        .sign(privateKey);
      return { accessToken, expiresIn: config.tokenTtlSeconds };
    },
    async jwks() {
      return resolveKey.publicKeys();
    },
  };
}

interface ResolvedKeys {
  resolver: KeyResolver;
  signingKey(): Promise<{ kid: string; privateKey: SigningKey }>;
  publicKeys(): Promise<JSONWebKeySet>;
}

/** Local issuer: keys in the database; created on first use; reloaded when an unknown kid shows up. */
async function localKeyResolver(db: Database): Promise<ResolvedKeys> {
  let keys = await activeSigningKeys(db);
  if (keys.length === 0) {
    const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    await insertSigningKeyIfNone(db, {
      kid,
      alg: ALGORITHM,
      privateJwk: { ...(await exportJWK(privateKey)), kid, alg: ALGORITHM },
      publicJwk: { ...publicJwk, kid, alg: ALGORITHM, use: 'sig' },
    });
    keys = await activeSigningKeys(db);
  }
  let local = createLocalJWKSet({ keys: keys.map((k) => k.publicJwk as JWK) });
  const resolver: KeyResolver = async (header, token) => {
    try {
      return await local(header, token);
    } catch (error) {
      // A key created by another instance after we loaded ours: reload once.
      keys = await activeSigningKeys(db);
      local = createLocalJWKSet({ keys: keys.map((k) => k.publicJwk as JWK) });
      if (!keys.some((k) => k.kid === header?.kid)) throw error;
      return local(header, token);
    }
  };
  let signing: { kid: string; privateKey: SigningKey } | undefined;
  return {
    resolver,
    async signingKey() {
      if (!signing) {
        const newest = keys[keys.length - 1]!;
        signing = { kid: newest.kid, privateKey: (await importJWK(newest.privateJwk as JWK, ALGORITHM)) as SigningKey };
      }
      return signing;
    },
    async publicKeys() {
      return { keys: keys.map((k) => k.publicJwk as JWK) };
    },
  };
}

async function remoteKeyResolver(config: AuthConfig): Promise<ResolvedKeys> {
  let jwksUrl = config.jwksUrl;
  if (jwksUrl === undefined) {
    const discovery = `${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(discovery, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`OIDC discovery at ${discovery} answered ${response.status}`);
    const document = (await response.json()) as { jwks_uri?: unknown };
    if (typeof document.jwks_uri !== 'string') throw new Error(`OIDC discovery at ${discovery} has no jwks_uri`);
    jwksUrl = document.jwks_uri;
  }
  return {
    resolver: createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 }),
    signingKey: () => Promise.reject(new AuthError('no local signing key in oidc mode')),
    publicKeys: async () => ({ keys: [] }),
  };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'the token is for another audience';
    if (error.claim === 'iss') return 'the token is from an unknown issuer';
    return `the token's "${error.claim}" claim is invalid (${error.reason})`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the token was signed with an unknown key';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token uses a signature algorithm that is not accepted';
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return 'the token is malformed';
  return 'the token could not be verified';
}

function claimList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return [];
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A new API key: the id is public (shown in lists and logs), the secret is shown once. */
export function newApiKey(): { id: string; secret: string; token: string; secretHash: string } {
  const id = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
  const secret = randomBytes(32).toString('base64url');
  return {
    id,
    secret,
    token: `igk_${id}.${secret}`,
    secretHash: createHash('sha256').update(secret).digest('hex'),
  };
}
