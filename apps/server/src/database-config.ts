/** The database settings' defaults and checks (read by config.ts). */

/** A statement running longer is canceled (`statement_timeout`): the caller gets a retryable 503. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
/** Opening a connection taking longer fails the statement as unavailable (a retryable 503). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * postgres.js accepts several comma-separated hosts (`postgres://u:p@h1:5432,h2:5432/db`, tried in
 * order, with `target_session_attrs`), which a URL parser refuses: checked with the first host.
 */
export function isPostgresUrl(url: string): boolean {
  const m = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/.exec(url);
  if (!m) return false;
  const [, scheme, userinfo = '', hosts = '', rest = ''] = m;
  const first = hosts.split(',')[0] ?? '';
  return hosts.split(',').every((h) => h.length > 0) && URL.canParse(`${scheme}${userinfo}${first}${rest}`);
}

/** How this process talks to the database (every pool it opens). */
export interface DatabaseOptions {
  /** Unset: as the URL says (`?prepare=false`), else named prepared statements. */
  prepare: boolean | undefined;
  statementTimeoutMs: number;
  connectTimeoutMs: number;
}
