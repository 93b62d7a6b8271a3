/**
 * Authentication of the EHR (the CDS Client) per CDS Hooks 2.0, "Trusting CDS Clients": every
 * service call carries `Authorization: Bearer <JWT>` signed by the client with an asymmetric key.
 *
 * Checked here, in this order:
 * - the issuer (`iss`) is on the configured allow-list (CDS_TRUSTED_ISSUERS);
 * - the signing key comes from the issuer's configured JWK Set, or from the `jku` header URL when
 *   its host is on CDS_JKU_ALLOWED_HOSTS (the spec's "allowlist of iss and jku urls"); `none`
 *   and symmetric (HMAC) algorithms are refused, as the spec requires;
 * - `aud` is the URL of the endpoint being called (`{publicUrl}/cds-services/{id}`), `exp` is in
 *   the future, `iat` is present and not older than CDS_JWT_MAX_AGE_SECONDS, `jti` is present;
 * - the `jti` was never seen before for this issuer: seen ids are kept in the database until the
 *   token expires, so a token replayed to another instance is refused too. `verify` checks the
 *   token; the caller claims its jti with `claimJti`, or inside the statement that records the
 *   call (one database round trip per service call, see recordCdsCall).
 */
import {
  type JWTPayload,
  type JWTVerifyGetKey,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import type { Database } from '../../store/db.ts';
import { type JwtClaim, claimJwtId, purgeExpiredJwtIds } from '../../store/cds.ts';
import { type CdsSettings, hostAllowed, isLoopbackHost } from './settings.ts';

/** Asymmetric JWS algorithms (RFC 7518); the spec recommends ES384 and RS384. */
export const CDS_JWT_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'] as const;

/** Allowed clock difference between the EHR and us, in seconds. */
export const CLOCK_TOLERANCE_SECONDS = 60;

export type CdsCaller =
  | { authenticated: true; issuer: string; tenant: string | null; subject: string | null; claim: JwtClaim }
  | { authenticated: false; reason: string };

export class CdsAuthError extends Error {
  override name = 'CdsAuthError';
}

export interface CdsJwtVerifier {
  /**
   * The caller of a request with this Authorization header, for a request whose JWT audience
   * must be one of `audiences`. Throws CdsAuthError when the call must be refused.
   */
  verify(authorization: string | undefined, audiences: readonly string[]): Promise<CdsCaller>;
  /** Claims the caller's jti on its own (when no call record carries it). Throws CdsAuthError on a replay. */
  claimJti(caller: CdsCaller): Promise<void>;
}

export const REPLAYED_JTI = 'the token was already used (replayed jti)';

// Often, so each purge is small (a few seconds' worth of expired ids, through the expires_at
// index of migration 0006): on the embedded database a purge holds the event loop while it runs.
const PURGE_INTERVAL_MS = 5_000;
const MAX_CACHED_JKU = 50;

export function createCdsJwtVerifier(
  db: Database,
  settings: CdsSettings,
  options: { now: () => number; log?: (message: string, error?: unknown) => void },
): CdsJwtVerifier {
  const remoteSets = new Map<string, JWTVerifyGetKey>();
  const remote = (url: string): JWTVerifyGetKey => {
    let set = remoteSets.get(url);
    if (set === undefined) {
      // Bounded: jku URLs vary per client; the configured ones are few.
      if (remoteSets.size >= MAX_CACHED_JKU) remoteSets.delete(remoteSets.keys().next().value as string);
      set = createRemoteJWKSet(new URL(url), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
      remoteSets.set(url, set);
    }
    return set;
  };
  let lastPurge = 0;

  function keysFor(issuer: string, jku: unknown): JWTVerifyGetKey {
    const configured = settings.trustedIssuers.get(issuer) ?? null;
    if (typeof jku === 'string') {
      let url: URL | undefined;
      try {
        url = new URL(jku);
      } catch {
        url = undefined;
      }
      const secure = url !== undefined && (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname)));
      if (url !== undefined && secure && hostAllowed(url, settings.jkuAllowedHosts)) return remote(url.toString());
      // A jku we do not trust is ignored: the keys configured for the issuer still decide.
      if (configured === null) throw new CdsAuthError(`the token's jku ${url?.host ?? '(invalid URL)'} is not on the allowed list and no JWK Set is configured for its issuer`);
    }
    if (configured === null) throw new CdsAuthError('no JWK Set is configured for the token issuer and the token has no jku');
    return remote(configured);
  }

  async function verifyToken(token: string, audiences: readonly string[]): Promise<CdsCaller & { authenticated: true }> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      throw new CdsAuthError('the token is malformed');
    }
    if (typeof header.alg !== 'string' || !(CDS_JWT_ALGORITHMS as readonly string[]).includes(header.alg)) {
      throw new CdsAuthError(`the token's signature algorithm ${String(header.alg)} is not accepted (asymmetric algorithms only)`);
    }
    if (typeof header.kid !== 'string' || header.kid === '') throw new CdsAuthError('the token header has no kid');
    if (header.typ !== undefined && header.typ.toUpperCase() !== 'JWT') throw new CdsAuthError('the token header typ must be JWT');
    const issuer = unverified.iss;
    if (typeof issuer !== 'string' || !settings.trustedIssuers.has(issuer)) throw new CdsAuthError('the token is from an unknown issuer');
    if (audiences.length === 0) throw new CdsAuthError('the service has no public URL configured (IMMUNOGUIDE_PUBLIC_URL), so no audience can match');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keysFor(issuer, header.jku), {
        issuer,
        audience: [...audiences],
        algorithms: [...CDS_JWT_ALGORITHMS],
        requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        maxTokenAge: settings.jwtMaxAgeSeconds + CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(options.now()),
      }));
    } catch (error) {
      if (error instanceof CdsAuthError) throw error;
      throw new CdsAuthError(describeJoseError(error));
    }
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti === '' || jti.length > 255) throw new CdsAuthError('the token jti must be a non-empty string of at most 255 characters');
    // Keep the id until the token can no longer be accepted: its expiry, or its maximum age.
    const lastAcceptedSeconds = Math.min(payload.exp!, payload.iat! + settings.jwtMaxAgeSeconds + CLOCK_TOLERANCE_SECONDS) + CLOCK_TOLERANCE_SECONDS;
    purgeNowAndThen();
    return {
      authenticated: true,
      issuer,
      tenant: typeof payload.tenant === 'string' ? payload.tenant : null,
      subject: typeof payload.sub === 'string' ? payload.sub : null,
      claim: { issuer, jti, expiresAt: new Date(lastAcceptedSeconds * 1000) },
    };
  }

  function purgeNowAndThen(): void {
    const now = options.now();
    if (now - lastPurge < PURGE_INTERVAL_MS) return;
    lastPurge = now;
    purgeExpiredJwtIds(db, new Date(now)).catch((error: unknown) => options.log?.('purging expired CDS JWT ids failed', error));
  }

  return {
    async verify(authorization, audiences) {
      const token = bearerToken(authorization);
      if (token === undefined) {
        if (settings.allowUnauthenticated) return { authenticated: false, reason: 'no token (CDS_ALLOW_UNAUTHENTICATED=true)' };
        throw new CdsAuthError(authorization === undefined ? 'authentication required: send "Authorization: Bearer <JWT>" signed by a trusted EHR' : 'Authorization must be "Bearer <JWT>"');
      }
      try {
        return await verifyToken(token, audiences);
      } catch (error) {
        if (error instanceof CdsAuthError && settings.allowUnauthenticated) {
          return { authenticated: false, reason: `token not verified (${error.message}); CDS_ALLOW_UNAUTHENTICATED=true` };
        }
        throw error;
      }
    },
    async claimJti(caller) {
      if (!caller.authenticated) return;
      if (!(await claimJwtId(db, caller.claim.issuer, caller.claim.jti, caller.claim.expiresAt))) throw new CdsAuthError(REPLAYED_JTI);
    },
  };
}

function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  return match?.[1];
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return 'the token is for another audience (aud must be the URL of the service called)';
    if (error.claim === 'iss') return 'the token is from an unknown issuer';
    if (error.claim === 'iat') return `the token is too old or issued in the future (${error.reason})`;
    return `the token's "${error.claim}" claim is invalid (${error.reason})`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the token was signed with an unknown key';
  if (error instanceof joseErrors.JWKSTimeout) return "the EHR's JWK Set could not be fetched in time";
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token uses a signature algorithm that is not accepted';
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return 'the token is malformed';
  if (error instanceof joseErrors.JWKSInvalid) return "the EHR's JWK Set is invalid";
  if (error instanceof joseErrors.JOSEError) return `the token could not be verified (${error.code})`;
  return "the token could not be verified (the EHR's JWK Set may be unreachable)";
}
