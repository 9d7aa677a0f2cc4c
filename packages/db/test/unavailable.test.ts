import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../src/unavailable';

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe('isDatabaseUnavailable', () => {
  it('is true for a lost or refused connection and a server that cannot serve now, through wrappers', () => {
    for (const code of [
      'CONNECTION_CLOSED',
      'CONNECT_TIMEOUT',
      'ECONNREFUSED',
      '57P01',
      '57P03',
      '25006',
      '08006',
      '53300',
    ]) {
      expect(isDatabaseUnavailable(withCode(code)), code).toBe(true);
    }
    const wrapped = Object.assign(new Error('Failed query: ...'), { cause: withCode('57P01') });
    expect(isDatabaseUnavailable(wrapped)).toBe(true);
  });

  it('is false for bugs, constraint violations and anything without a code', () => {
    for (const code of ['23505', '23514', '42P01', '22P02', 'UNSAFE_TRANSACTION']) {
      expect(isDatabaseUnavailable(withCode(code)), code).toBe(false);
    }
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDatabaseUnavailable('CONNECTION_CLOSED')).toBe(false);
  });
});
