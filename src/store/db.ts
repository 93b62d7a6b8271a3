/**
 * The one database interface the rest of the code sees. Two implementations:
 * PGlite (PostgreSQL compiled to WebAssembly, in-process; the embedded default) and
 * node-postgres against a PostgreSQL server. Both speak the same SQL dialect, so there is a
 * single schema and a single set of queries; only connection handling differs.
 */

export type Backend = 'pglite' | 'postgres';

export interface QueryResult<Row> {
  rows: Row[];
  /** Rows inserted, updated or deleted by the statement (0 for SELECT on some backends). */
  affectedRows: number;
}

/** Something that can run SQL: the database itself or a transaction on it. */
export interface Queryable {
  readonly backend: Backend;
  /** One parameterised statement ($1, $2, ...). */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Several statements without parameters (migrations, DDL). */
  exec(sql: string): Promise<void>;
  /**
   * `COPY table (columns) FROM STDIN` fed with `data`: rows in COPY's text format, UTF-8
   * (tab-separated fields, \N for NULL, backslash escapes, one line per row); resolves to the
   * number of rows copied. Only the PostgreSQL server backend has it (bulk imports: see
   * import-sink.ts); on PGlite it is undefined and callers use INSERT instead.
   */
  copyFrom?(sql: string, data: Uint8Array): Promise<number>;
}

export interface Database extends Queryable {
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws
   * (the error is re-thrown). Use the `tx` argument for every statement inside.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Human-readable location for logs: the data directory or the redacted URL. */
  readonly location: string;
  close(): Promise<void>;
}

/** A database error with the SQLSTATE code when the backend reported one. */
export class DatabaseError extends Error {
  override name = 'DatabaseError';
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function toDatabaseError(error: unknown, context?: string): DatabaseError {
  if (error instanceof DatabaseError) return error;
  const err = error as { message?: unknown; code?: unknown };
  const message = typeof err?.message === 'string' ? err.message : String(error);
  const code = typeof err?.code === 'string' ? err.code : undefined;
  return new DatabaseError(context ? `${context}: ${message}` : message, code, { cause: error });
}
