import { describe, expect, it } from 'vitest';
import { formatMoney, minorDigits, parseMoney, plainAmount } from '../src/money';

describe('parseMoney', () => {
  it('reads whole and decimal amounts into integer minor units, never through floats', () => {
    expect(parseMoney('42', 'usd')).toBe(4200);
    expect(parseMoney('42.5', 'usd')).toBe(4250);
    expect(parseMoney('42,50', 'eur')).toBe(4250);
    expect(parseMoney(' 0.29 ', 'usd')).toBe(29);
    // 0.1 + 0.2 style float errors cannot happen: digits are joined as text.
    expect(parseMoney('1.13', 'usd')).toBe(113);
    expect(parseMoney('99999999.99', 'usd')).toBe(9_999_999_999);
  });
  it('knows zero-decimal currencies', () => {
    expect(minorDigits('jpy')).toBe(0);
    expect(parseMoney('500', 'jpy')).toBe(500);
    expect(parseMoney('500.5', 'jpy')).toBeUndefined();
  });
  it('counts decimals as Stripe does, not as the browser: huf, idr and isk in hundredths, kwd in thousandths', () => {
    // Chromium's Intl says 0 decimals for these; Stripe's amounts are hundredths (HUF's minimum
    // charge, 175.00 Ft, is 17500). Typing 50 must mean 50 Ft (5000), never 0.50 Ft.
    for (const code of ['huf', 'HUF', 'idr', 'isk', 'cop']) expect(minorDigits(code), code).toBe(2);
    expect(parseMoney('50', 'huf')).toBe(5000);
    expect(minorDigits('kwd')).toBe(3);
    expect(parseMoney('1.5', 'kwd')).toBe(1500);
    expect(minorDigits('krw')).toBe(0);
  });
  it('refuses what is not an amount', () => {
    for (const input of ['', '0', '0.00', '-1', '1.234', 'abc', '1e3', '1.2.3', '123456789']) {
      expect(parseMoney(input, 'usd'), input).toBeUndefined();
    }
  });
});

describe('formatMoney', () => {
  it('shows minor units in the currency', () => {
    expect(formatMoney(4200, 'usd')).toMatch(/42\.00/);
    expect(formatMoney(500, 'jpy')).toMatch(/500/);
    expect(formatMoney(500, 'jpy')).not.toMatch(/5\.00/);
    expect(formatMoney(17500, 'huf')).toMatch(/175\.00/);
  });
  it('an unknown currency code still shows the amount', () => {
    expect(formatMoney(123, 'zz1')).toBe('123 ZZ1 (minor units)');
  });
});

describe('plainAmount', () => {
  it('writes minor units as the amount fields read them back', () => {
    expect(plainAmount(4250, 'usd')).toBe('42.50');
    expect(plainAmount(5, 'eur')).toBe('0.05');
    expect(plainAmount(500, 'jpy')).toBe('500');
    expect(plainAmount(1005, 'kwd')).toBe('1.005');
    for (const [minor, code] of [
      [1, 'usd'],
      [9_999_999_999, 'usd'],
      [123, 'jpy'],
      [7, 'kwd'],
    ] as const) {
      expect(parseMoney(plainAmount(minor, code), code)).toBe(minor);
    }
  });
});
