import { describe, expect, it } from 'vitest';
import { readCookie } from '../src/cookies';

describe('readCookie', () => {
  it('finds a cookie by its exact name among others', () => {
    const cookies = 'theme=dark; co_csrf=AbC-_123; xco_csrf=wrong';
    expect(readCookie(cookies, 'co_csrf')).toBe('AbC-_123');
    expect(readCookie('co_csrf=first', 'co_csrf')).toBe('first');
    expect(readCookie('xco_csrf=wrong; co_csrf=right', 'co_csrf')).toBe('right');
  });

  it('is null when the cookie is absent or empty (a cleared cookie)', () => {
    expect(readCookie('', 'co_csrf')).toBeNull();
    expect(readCookie('theme=dark', 'co_csrf')).toBeNull();
    expect(readCookie('co_csrf=; theme=dark', 'co_csrf')).toBeNull();
    expect(readCookie('co_csrf', 'co_csrf')).toBeNull();
  });

  it('decodes percent-escapes and keeps a malformed one as it is', () => {
    expect(readCookie('a=x%3Dy', 'a')).toBe('x=y');
    expect(readCookie('a=100%', 'a')).toBe('100%');
  });
});
