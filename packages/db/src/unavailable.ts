/**
 * Whether an error says the database could not serve a statement at all — it is down, restarting,
 * failing over, refusing connections, read-only, or the connection died — as opposed to a bug or a
 * constraint. Such an error is an outage: the caller gets a retryable answer (the API's 503
 * `DATABASE_UNAVAILABLE`), never a 500. Looks through wrappers (`DrizzleQueryError.cause`).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (
    let e = err, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (CLIENT_CODES.has(code) || SERVER_CODES.has(code) || code.startsWith('08')) return true;
  }
  return false;
}

/** postgres.js's and Node's codes for a connection that could not be made or was lost. */
const CLIENT_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that cannot serve now (class 08 — connection exception — is matched by
 * prefix): shutting down or crashed (57P01-57P03), a standby or a read-only primary during a
 * failover (25006), out of connections (53300), canceled by `statement_timeout` (57014), a
 * conflict with recovery on a standby (40001 is not here: it is a serialization failure).
 */
const SERVER_CODES = new Set(['57P01', '57P02', '57P03', '25006', '53300', '57014']);
