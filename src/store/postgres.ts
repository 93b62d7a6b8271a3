/** PostgreSQL server backend (node-postgres pool), selected by DATABASE_URL. */
import os from 'node:os';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { redactUrl } from '../config.ts';
import { type Database, type QueryResult, type Queryable, toDatabaseError } from './db.ts';

// Return BIGINT (int8) and NUMERIC as JavaScript values rather than strings, as PGlite does,
// so both backends hand the same types to the rest of the code. Counts and ids stay far
// below 2^53; NUMERIC is used only where a double is exact enough (see migrations).
pg.types.setTypeParser(20, (value) => Number(value));
pg.types.setTypeParser(1700, (value) => Number(value));

export interface PostgresOptions {
  url: string;
  /** Schema to create (if missing) and put first on the search_path of every connection. */
  schema?: string | undefined;
  maxConnections?: number;
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    backend: 'postgres',
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      try {
        const result = await client.query(sql, params as unknown[]);
        return { rows: result.rows as Row[], affectedRows: result.rowCount ?? 0 };
      } catch (error) {
        throw toDatabaseError(error);
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        await client.query(sql);
      } catch (error) {
        throw toDatabaseError(error);
      }
    },
    async copyFrom(sql: string, data: Uint8Array): Promise<number> {
      if (!(client instanceof pg.Pool)) return copyFromStdin(client, sql, data);
      const connection = await client.connect();
      try {
        return await copyFromStdin(connection, sql, data);
      } finally {
        connection.release();
      }
    },
  };
}

/** COPY data is written in pieces of at most this many bytes (each becomes one CopyData message). */
const COPY_CHUNK_BYTES = 1 << 20;

/**
 * COPY ... FROM STDIN through pg-copy-streams (node-postgres' companion for COPY): the data is
 * written in 1 MiB pieces and the promise settles when the server has answered. When the
 * server refuses a row it reports the error and drops the rest of the data; the connection is
 * then ready for the next statement (ROLLBACK TO SAVEPOINT, say).
 */
async function copyFromStdin(client: pg.ClientBase, sql: string, bytes: Uint8Array): Promise<number> {
  const stream = client.query(copyFrom(sql));
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    await pipeline(
      (function* () {
        for (let offset = 0; offset < data.length; offset += COPY_CHUNK_BYTES) yield data.subarray(offset, offset + COPY_CHUNK_BYTES);
      })(),
      stream,
    );
  } catch (error) {
    throw toDatabaseError(error);
  }
  return stream.rowCount;
}

/**
 * Like libpq: with no user in the URL (nor PGUSER), connect as the operating-system user.
 * node-postgres would otherwise need $USER, which is unset in some service environments.
 */
function withDefaultUser(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username !== '' || process.env.PGUSER) return url;
    parsed.username = encodeURIComponent(process.env.USER || os.userInfo().username);
    return parsed.toString();
  } catch {
    return url;
  }
}

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw toDatabaseError(new Error(`invalid schema name "${schema}"`));
  }
  const pool = new pg.Pool({
    connectionString: withDefaultUser(options.url),
    max: options.maxConnections ?? 10,
    // With a schema, every connection searches it first; `public` stays visible for extensions.
    ...(schema !== undefined ? { options: `-c search_path=${schema},public` } : {}),
  });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => {});
  try {
    if (schema !== undefined) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    else await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw toDatabaseError(error, `could not connect to ${redactUrl(options.url)}`);
  }
  const base = wrap(pool);
  return {
    ...base,
    location: redactUrl(options.url) + (schema !== undefined ? ` (schema ${schema})` : ''),
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}
