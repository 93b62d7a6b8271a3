/**
 * Runtime configuration, read once from the environment by the shells (server, CLI).
 * The core (clinical, stats, trial) never reads configuration: it receives values as arguments.
 * Every variable here is listed in the README's configuration table.
 */
import { DEFAULT_SOFA_PRESET, SOFA_PRESETS, findSofaPreset } from './clinical/sofa/parameters.ts';
import path from 'node:path';

export interface Config {
  /** Interface the HTTP server binds to. Default 127.0.0.1: expose deliberately, never by accident. */
  host: string;
  port: number;
  /** postgres://... selects a PostgreSQL server; unset selects the embedded PGlite database. */
  databaseUrl: string | undefined;
  /** Schema on the PostgreSQL server (default: public). Lets several deployments or test runs share one database. */
  databaseSchema: string | undefined;
  /** Directory of the embedded database (PGlite). */
  dataDir: string;
  logLevel: string;
  /**
   * Seed the synthetic demo cohort into an empty database at start-up: 'auto' (default) does
   * it for the embedded database only, 'true' also for a PostgreSQL server, 'false' never.
   */
  demo: 'auto' | 'true' | 'false';
  /**
   * SOFA conventions of this deployment's bedside views (census, patient page, FHIR output):
   * a preset id of src/clinical/sofa/parameters.ts. A trial's endpoint uses its own definition's preset.
   */
  sofaPreset: string;
  /**
   * Run the embedded database (PGlite) in a worker thread, so that its work does not hold up the
   * server's event loop (default true); false runs it in-process. No effect with DATABASE_URL.
   */
  pgliteThread: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const portText = env.PORT ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be an integer between 0 and 65535, got "${portText}"`);
  }
  const databaseUrl = nonEmpty(env.DATABASE_URL);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql://, got "${redactUrl(databaseUrl)}"`);
  }
  const databaseSchema = nonEmpty(env.DATABASE_SCHEMA);
  if (databaseSchema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) {
    throw new ConfigError(`DATABASE_SCHEMA must be a lower-case SQL identifier, got "${databaseSchema}"`);
  }
  const demo = (nonEmpty(env.IMMUNOGUIDE_DEMO) ?? 'auto').toLowerCase();
  if (demo !== 'auto' && demo !== 'true' && demo !== 'false') {
    throw new ConfigError(`IMMUNOGUIDE_DEMO must be auto, true or false, got "${env.IMMUNOGUIDE_DEMO}"`);
  }
  const sofaPreset = nonEmpty(env.IMMUNOGUIDE_SOFA_PRESET) ?? DEFAULT_SOFA_PRESET;
  if (findSofaPreset(sofaPreset) === undefined) {
    throw new ConfigError(`IMMUNOGUIDE_SOFA_PRESET must be one of ${Object.keys(SOFA_PRESETS).join(', ')}, got "${sofaPreset}"`);
  }
  const pgliteThread = (nonEmpty(env.IMMUNOGUIDE_PGLITE_THREAD) ?? 'true').toLowerCase();
  if (pgliteThread !== 'true' && pgliteThread !== 'false') {
    throw new ConfigError(`IMMUNOGUIDE_PGLITE_THREAD must be true or false, got "${env.IMMUNOGUIDE_PGLITE_THREAD}"`);
  }
  return {
    demo,
    sofaPreset,
    pgliteThread: pgliteThread === 'true',
    host: nonEmpty(env.HOST) ?? '127.0.0.1',
    port,
    databaseUrl,
    databaseSchema,
    dataDir: path.resolve(cwd, nonEmpty(env.IMMUNOGUIDE_DATA_DIR) ?? 'data'),
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** A database URL fit for logs and error messages: the password is replaced. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}

export interface AuthSettings {
  mode: 'local' | 'oidc';
  issuer: string;
  audience: string;
  jwksUrl: string | undefined;
  rolesClaim: string;
  sitesClaim: string;
  tokenTtlSeconds: number;
}

export const LOCAL_ISSUER = 'urn:immunoguide:local';

/** Authentication settings (see the README's configuration table). */
export function loadAuthSettings(env: NodeJS.ProcessEnv = process.env): AuthSettings {
  const mode = (nonEmpty(env.AUTH_MODE) ?? 'local').toLowerCase();
  if (mode !== 'local' && mode !== 'oidc') throw new ConfigError(`AUTH_MODE must be local or oidc, got "${env.AUTH_MODE}"`);
  const issuer = nonEmpty(env.AUTH_ISSUER) ?? (mode === 'local' ? LOCAL_ISSUER : undefined);
  if (issuer === undefined) throw new ConfigError('AUTH_MODE=oidc needs AUTH_ISSUER (the OpenID Connect issuer URL)');
  const ttl = Number(nonEmpty(env.AUTH_TOKEN_TTL_SECONDS) ?? '3600');
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86_400) {
    throw new ConfigError(`AUTH_TOKEN_TTL_SECONDS must be an integer from 60 to 86400, got "${env.AUTH_TOKEN_TTL_SECONDS}"`);
  }
  return {
    mode,
    issuer,
    audience: nonEmpty(env.AUTH_AUDIENCE) ?? 'immunoguide',
    jwksUrl: nonEmpty(env.AUTH_JWKS_URL),
    rolesClaim: nonEmpty(env.AUTH_ROLES_CLAIM) ?? 'roles',
    sitesClaim: nonEmpty(env.AUTH_SITES_CLAIM) ?? 'sites',
    tokenTtlSeconds: ttl,
  };
}
