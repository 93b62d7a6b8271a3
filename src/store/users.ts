/** Users, API keys and signing keys of the local issuer. */
import type { Queryable } from './db.ts';

export interface UserRecord {
  id: string;
  username: string;
  displayName: string;
  passwordHash: string | null;
  roles: string[];
  sites: string[];
  disabled: boolean;
}

const USER_COLUMNS = `id, username, display_name AS "displayName", password_hash AS "passwordHash", roles, sites, disabled`;

export async function findUserByUsername(db: Queryable, username: string): Promise<UserRecord | undefined> {
  const result = await db.query<UserRecord>(`SELECT ${USER_COLUMNS} FROM app_user WHERE username = $1`, [username]);
  return result.rows[0];
}

export async function findUserById(db: Queryable, id: string): Promise<UserRecord | undefined> {
  const result = await db.query<UserRecord>(`SELECT ${USER_COLUMNS} FROM app_user WHERE id = $1`, [id]);
  return result.rows[0];
}

export async function listUsers(db: Queryable): Promise<UserRecord[]> {
  return (await db.query<UserRecord>(`SELECT ${USER_COLUMNS} FROM app_user ORDER BY username`)).rows;
}

export async function countUsers(db: Queryable): Promise<number> {
  const result = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM app_user');
  return Number(result.rows[0]?.n ?? 0);
}

export interface NewUser {
  username: string;
  displayName: string;
  passwordHash: string | null;
  roles: readonly string[];
  sites: readonly string[];
}

export async function createUser(db: Queryable, user: NewUser): Promise<UserRecord> {
  const result = await db.query<UserRecord>(
    `INSERT INTO app_user (username, display_name, password_hash, roles, sites) VALUES ($1, $2, $3, $4, $5)
     RETURNING ${USER_COLUMNS}`,
    [user.username, user.displayName, user.passwordHash, user.roles, user.sites],
  );
  return result.rows[0]!;
}

export async function setUserPassword(db: Queryable, username: string, passwordHash: string): Promise<boolean> {
  const result = await db.query('UPDATE app_user SET password_hash = $2 WHERE username = $1', [username, passwordHash]);
  return result.affectedRows === 1;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  secretHash: string;
  roles: string[];
  sites: string[];
  revokedAt: string | null;
}

export async function createApiKey(
  db: Queryable,
  key: { id: string; name: string; secretHash: string; roles: readonly string[]; sites: readonly string[]; createdBy: string | null },
): Promise<void> {
  await db.query(
    'INSERT INTO api_key (id, name, secret_hash, roles, sites, created_by) VALUES ($1, $2, $3, $4, $5, $6)',
    [key.id, key.name, key.secretHash, key.roles, key.sites, key.createdBy],
  );
}

export async function findApiKey(db: Queryable, id: string): Promise<ApiKeyRecord | undefined> {
  const result = await db.query<ApiKeyRecord>(
    `SELECT id, name, secret_hash AS "secretHash", roles, sites, revoked_at AS "revokedAt" FROM api_key WHERE id = $1`,
    [id],
  );
  return result.rows[0];
}

export async function revokeApiKey(db: Queryable, id: string): Promise<boolean> {
  const result = await db.query('UPDATE api_key SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
  return result.affectedRows === 1;
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  privateJwk: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
}

export async function activeSigningKeys(db: Queryable): Promise<SigningKeyRecord[]> {
  const result = await db.query<SigningKeyRecord>(
    `SELECT kid, alg, private_jwk AS "privateJwk", public_jwk AS "publicJwk" FROM signing_key
      WHERE retired_at IS NULL ORDER BY created_at, kid`,
  );
  return result.rows;
}

/** Inserts the key unless one exists already (two instances starting together keep the first). */
export async function insertSigningKeyIfNone(db: Queryable, key: SigningKeyRecord): Promise<void> {
  await db.query(
    `INSERT INTO signing_key (kid, alg, private_jwk, public_jwk) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
    [key.kid, key.alg, JSON.stringify(key.privateJwk), JSON.stringify(key.publicJwk)],
  );
}
