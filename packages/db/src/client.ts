import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';

export type Schema = typeof schema;
export type Database = PostgresJsDatabase<Schema>;
/** The transaction handle drizzle passes to `db.transaction(async (tx) => ...)`. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Query helpers take either, so that they compose into a caller's transaction. */
export type Executor = Database | Transaction;

/** Connections per pool unless told otherwise. */
export const DEFAULT_POOL_SIZE = 10;

export interface DbOptions {
  /** Pool size (postgres.js `max`); default `DEFAULT_POOL_SIZE`. */
  max?: number;
  /** Called with the text of every statement sent: used to count round trips in tests and the bench. */
  onQuery?: (query: string) => void;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * Named prepared statements (default true). `false` sends every statement unnamed, for
   * connection poolers that do not keep prepared statements across transactions (PgBouncer before
   * 1.21 in transaction mode); `?prepare=false` in the URL does the same.
   */
  prepare?: boolean;
  /**
   * Each statement's bound on the server (`statement_timeout`), sent as a startup parameter; 0 or
   * absent: the server's own. Not sent in pooler mode (`prepare: false` or `?prepare=false`):
   * PgBouncer refuses startup parameters it does not know — set it on the role there
   * (`ALTER ROLE ... SET statement_timeout`).
   */
  statementTimeoutMs?: number;
  /** How long opening a connection may take before the statement fails as unavailable. */
  connectTimeoutMs?: number;
}

/** Whether statements go unnamed to a pooler (the option, or `prepare=false` in the URL). */
export function isPoolerMode(url: string, options: Pick<DbOptions, 'prepare'> = {}): boolean {
  if (options.prepare !== undefined) return !options.prepare;
  return /[?&]prepare=false(&|$)/.test(url);
}

export interface DbHandle {
  db: Database;
  /** The underlying postgres.js client, for raw SQL in tests and tools. */
  sql: postgres.Sql;
  close(): Promise<void>;
}

export function createDb(url: string, options: DbOptions = {}): DbHandle {
  const sql = postgres(url, {
    max: options.max ?? DEFAULT_POOL_SIZE,
    onnotice: () => {},
    connection: {
      application_name: options.applicationName ?? 'chargeonce',
      ...(options.statementTimeoutMs && !isPoolerMode(url, options)
        ? { statement_timeout: options.statementTimeoutMs }
        : {}),
    },
    ...(options.connectTimeoutMs ? { connect_timeout: options.connectTimeoutMs / 1000 } : {}),
    // Only when given: postgres.js reads `prepare` from the URL unless the option is present at all.
    ...(options.prepare === undefined ? {} : { prepare: options.prepare }),
    ...(options.onQuery ? { debug: (_connection: number, query: string) => options.onQuery?.(query) } : {}),
  });
  const db = drizzle(sql, { schema, casing: 'snake_case' });
  return {
    db,
    sql,
    close: () => sql.end({ timeout: 5 }),
  };
}
