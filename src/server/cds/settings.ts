/**
 * Configuration of the CDS Hooks service, read once from the environment by the shells (see the
 * README's configuration table). Every value has a safe default: no trusted issuer means every
 * service call is refused until the site configures its EHR.
 */
import { ConfigError } from '../../config.ts';

export interface CdsSettings {
  /**
   * Public base URL of this server as the EHR calls it (scheme, host, optional path prefix; no
   * trailing slash). The JWT audience of a service call must be `${publicUrl}/cds-services/{id}`;
   * cards link to `${publicUrl}/patients/{id}`. Undefined: calls cannot be authenticated.
   */
  publicUrl: string | undefined;
  /** issuer (JWT `iss`) -> URL of its JWK Set, or null when its keys come only from an allowed `jku`. */
  trustedIssuers: ReadonlyMap<string, string | null>;
  /** Hosts (host or host:port) whose `jku` header URLs are followed; any other `jku` is ignored. */
  jkuAllowedHosts: readonly string[];
  /** Accept service calls without a JWT (development only; never with real patient data). */
  allowUnauthenticated: boolean;
  /** Hosts (host or host:port) the service may query as `fhirServer`; empty: any host, for authenticated calls only. */
  fhirAllowedHosts: readonly string[];
  /** Time limit of one FHIR query the service makes itself, in milliseconds. */
  fhirTimeoutMs: number;
  /** Origins allowed by CORS ('*' = any; responses carry no cookies, authentication is the bearer JWT). */
  corsOrigins: readonly string[];
  /** SMART app launch URL for the card's "open in ImmunoGuide" link (type smart); unset: absolute link only. */
  smartLaunchUrl: string | undefined;
  /** Requests per minute per client address on the CDS routes (an EHR calls for all its users from few addresses). */
  rateLimitPerMinute: number;
  /** Oldest JWT `iat` accepted, in seconds: bounds how long a seen `jti` must be remembered. */
  jwtMaxAgeSeconds: number;
}

export const DEFAULT_CDS_SETTINGS: CdsSettings = {
  publicUrl: undefined,
  trustedIssuers: new Map(),
  jkuAllowedHosts: [],
  allowUnauthenticated: false,
  fhirAllowedHosts: [],
  fhirTimeoutMs: 2500,
  corsOrigins: ['*'],
  smartLaunchUrl: undefined,
  rateLimitPerMinute: 6000,
  jwtMaxAgeSeconds: 300,
};

export function loadCdsSettings(env: NodeJS.ProcessEnv = process.env): CdsSettings {
  const publicUrl = optionalUrl(env.IMMUNOGUIDE_PUBLIC_URL, 'IMMUNOGUIDE_PUBLIC_URL');
  const trustedIssuers = parseTrustedIssuers(env.CDS_TRUSTED_ISSUERS);
  if (trustedIssuers.size > 0 && publicUrl === undefined) {
    throw new ConfigError('CDS_TRUSTED_ISSUERS needs IMMUNOGUIDE_PUBLIC_URL: the JWT audience is the service URL the EHR calls');
  }
  return {
    publicUrl,
    trustedIssuers,
    jkuAllowedHosts: hostList(env.CDS_JKU_ALLOWED_HOSTS),
    allowUnauthenticated: booleanSetting(env.CDS_ALLOW_UNAUTHENTICATED, 'CDS_ALLOW_UNAUTHENTICATED', false),
    fhirAllowedHosts: hostList(env.CDS_FHIR_ALLOWED_HOSTS),
    fhirTimeoutMs: integerSetting(env.CDS_FHIR_TIMEOUT_MS, 'CDS_FHIR_TIMEOUT_MS', DEFAULT_CDS_SETTINGS.fhirTimeoutMs, 100, 30_000),
    corsOrigins: corsList(env.CDS_CORS_ORIGINS),
    smartLaunchUrl: optionalUrl(env.CDS_SMART_LAUNCH_URL, 'CDS_SMART_LAUNCH_URL'),
    rateLimitPerMinute: integerSetting(env.CDS_RATE_LIMIT_PER_MINUTE, 'CDS_RATE_LIMIT_PER_MINUTE', DEFAULT_CDS_SETTINGS.rateLimitPerMinute, 1, 10_000_000),
    jwtMaxAgeSeconds: integerSetting(env.CDS_JWT_MAX_AGE_SECONDS, 'CDS_JWT_MAX_AGE_SECONDS', DEFAULT_CDS_SETTINGS.jwtMaxAgeSeconds, 10, 3600),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function optionalUrl(value: string | undefined, name: string): string | undefined {
  const text = nonEmpty(value);
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got "${text}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${name} must be an http(s) URL, got "${text}"`);
  if (url.search || url.hash) throw new ConfigError(`${name} must not have a query or fragment, got "${text}"`);
  return text.replace(/\/+$/, '');
}

export function parseTrustedIssuers(value: string | undefined): Map<string, string | null> {
  const text = nonEmpty(value);
  const issuers = new Map<string, string | null>();
  if (text === undefined) return issuers;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError('CDS_TRUSTED_ISSUERS must be a JSON object {"<issuer>": "<JWKS URL>" or null}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('CDS_TRUSTED_ISSUERS must be a JSON object {"<issuer>": "<JWKS URL>" or null}');
  }
  for (const [issuer, jwks] of Object.entries(parsed)) {
    if (issuer.trim() === '') throw new ConfigError('CDS_TRUSTED_ISSUERS has an empty issuer');
    if (jwks === null) {
      issuers.set(issuer, null);
      continue;
    }
    if (typeof jwks !== 'string') throw new ConfigError(`CDS_TRUSTED_ISSUERS["${issuer}"] must be a JWKS URL or null`);
    let url: URL;
    try {
      url = new URL(jwks);
    } catch {
      throw new ConfigError(`CDS_TRUSTED_ISSUERS["${issuer}"] is not a URL: "${jwks}"`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      throw new ConfigError(`CDS_TRUSTED_ISSUERS["${issuer}"] must be an https URL (http only on loopback), got "${jwks}"`);
    }
    issuers.set(issuer, jwks);
  }
  return issuers;
}

function hostList(value: string | undefined): string[] {
  const text = nonEmpty(value);
  if (text === undefined) return [];
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((host) => host.toLowerCase());
}

function corsList(value: string | undefined): string[] {
  const text = nonEmpty(value);
  if (text === undefined) return [...DEFAULT_CDS_SETTINGS.corsOrigins];
  const origins = text.split(/[\s,]+/).filter(Boolean);
  for (const origin of origins) {
    if (origin === '*') continue;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(`CDS_CORS_ORIGINS entries must be origins like https://ehr.example.org or *, got "${origin}"`);
    }
    if (url.origin !== origin) throw new ConfigError(`CDS_CORS_ORIGINS entries must be bare origins (scheme://host[:port]), got "${origin}"`);
  }
  return origins;
}

function booleanSetting(value: string | undefined, name: string, fallback: boolean): boolean {
  const text = nonEmpty(value)?.toLowerCase();
  if (text === undefined) return fallback;
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

function integerSetting(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  const text = nonEmpty(value);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Whether a URL's host is on a host list (entries "host" match any port, "host:port" only that port). */
export function hostAllowed(url: URL, allowed: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  const hostPort = url.host.toLowerCase();
  return allowed.some((entry) => entry === host || entry === hostPort);
}
