import type { Executor } from './client';

/**
 * A statement built once per database handle and sent as a named prepared statement (drizzle's
 * public `.prepare(name)`): PostgreSQL parses and plans it once per pooled connection instead of
 * on every call. The money statements are CTEs whose planning costs more than their execution, so
 * this is where the database time of a pay goes (see the README's performance section).
 *
 * `build` runs once per executor: the pool handle keeps its statement for the process's life; a
 * transaction handle gets its own, dropped with the transaction. With `prepare: false` (connection
 * poolers) postgres.js sends the same statement unnamed; behaviour does not change.
 */
export function preparedStatement<P>(name: string, build: (db: Executor) => { prepare(name: string): P }) {
  const cache = new WeakMap<Executor, P>();
  return (db: Executor): P => {
    let statement = cache.get(db);
    if (!statement) {
      statement = build(db).prepare(name);
      cache.set(db, statement);
    }
    return statement;
  };
}
