import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';

export type Schema = typeof schema;
export type Database = PostgresJsDatabase<Schema>;
/** The transaction handle drizzle passes to `db.transaction(async (tx) => ...)`. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Query helpers take either, so that they compose into a caller's transaction. */
export type Executor = Database | Transaction;

export interface DbOptions {
  /** Pool size (postgres.js `max`). */
  max?: number;
  /** Called with the text of every statement sent: used to count round trips in tests and the bench. */
  onQuery?: (query: string) => void;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
}

export interface DbHandle {
  db: Database;
  /** The underlying postgres.js client, for raw SQL in tests and tools. */
  sql: postgres.Sql;
  close(): Promise<void>;
}

export function createDb(url: string, options: DbOptions = {}): DbHandle {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'chargeonce' },
    ...(options.onQuery ? { debug: (_connection: number, query: string) => options.onQuery?.(query) } : {}),
  });
  const db = drizzle(sql, { schema, casing: 'snake_case' });
  return {
    db,
    sql,
    close: () => sql.end({ timeout: 5 }),
  };
}

/** PostgreSQL SQLSTATE of a driver error, looking through drizzle's wrapping (`err.cause`). */
export function pgErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

/** The constraint a driver error names, looking through drizzle's wrapping. */
export function pgConstraintName(err: unknown): string | undefined {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const name = (e as { constraint_name?: unknown }).constraint_name;
    if (typeof name === 'string') return name;
  }
  return undefined;
}
