import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { minorDigits, parseMoney } from '../src/money';

/**
 * Property-based tests of the amount field's parser: whatever is typed, in whatever currency, the
 * answer is no amount or a positive safe integer of minor units, exactly the digits typed (checked
 * against a BigInt oracle, so a float on the way, 1.13 * 100 = 112.99999999999999, cannot pass).
 *
 * FUZZ_SEED replays a run (fast-check prints the seed and path of a failure); FUZZ_SCALE multiplies
 * the number of runs for a longer local session.
 */
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const scale = Number(process.env.FUZZ_SCALE ?? 1);
const runs = (n: number) => ({
  numRuns: Math.max(1, Math.round(n * scale)),
  ...(seed === undefined ? {} : { seed }),
});

/** A ceiling, not a wait (it grows with FUZZ_SCALE): many runs on a loaded 2-core machine. */
const CEILING_MS = 60_000 * Math.max(1, scale);

const KNOWN = Intl.supportedValuesOf('currency');
/** Known codes in either case, and strings that are no currency (minorDigits falls back to 2). */
const currency = fc.oneof(
  fc.constantFrom(...KNOWN),
  fc.constantFrom(...KNOWN).map((c) => c.toLowerCase()),
  fc.constantFrom('', 'zz1', 'XXX', 'usd ', 'US', 'USDX', '__proto__', 'constructor', 'ÜSD'),
  fc.string({ maxLength: 5 }),
);
const knownCurrency = fc.constantFrom(...KNOWN);

/** Characters that make up amounts and near-amounts, including digits that are not ASCII. */
const AMOUNT_CHARS = [
  ...'0123456789',
  '.',
  ',',
  '-',
  '+',
  'e',
  'E',
  ' ',
  '\t',
  '\n',
  '\u00a0',
  '_',
  "'",
  '١', // ARABIC-INDIC DIGIT ONE
  '１', // FULLWIDTH DIGIT ONE
  '٫', // ARABIC DECIMAL SEPARATOR
  '\u0000',
];
const amountLike = fc.oneof(
  fc.string({ unit: fc.constantFrom(...AMOUNT_CHARS), maxLength: 16 }),
  // digits, one separator, digits, maybe padded: the shape that is almost always valid
  fc
    .tuple(
      fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 0, maxLength: 10 }),
      fc.constantFrom('', '.', ','),
      fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 5 }),
      fc.constantFrom('', ' ', '\t', '\u00a0'),
    )
    .map(([int, sep, frac, pad]) => `${pad}${int}${sep}${frac}${pad}`),
);
const anyInput = fc.oneof(
  amountLike,
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('NaN', 'Infinity', '-0', '0x10', '1e3', '9007199254740993', '1.13', '4.35', '0.1', ''),
  fc.nat({ max: 200 }).map((n) => '9'.repeat(n)),
);

const isAsciiDigit = (c: string) => c >= '0' && c <= '9';

/** The parser's contract written independently of its regex, with exact (BigInt) arithmetic. */
function oracle(input: string, digits: number): number | undefined {
  const text = input.trim();
  let sep = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '.' || c === ',') {
      if (sep !== -1) return undefined;
      sep = i;
    } else if (!isAsciiDigit(c)) {
      return undefined;
    }
  }
  const whole = sep === -1 ? text : text.slice(0, sep);
  const fraction = sep === -1 ? '' : text.slice(sep + 1);
  if (whole.length < 1 || whole.length > 8 || fraction.length > digits) return undefined;
  const minor = BigInt(whole) * 10n ** BigInt(digits) + BigInt(fraction.padEnd(digits, '0') || '0');
  return minor > 0n && minor <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(minor) : undefined;
}

/** How a person types `minor` units: whole part, separator, exactly `digits` fraction digits. */
function plain(minor: bigint, digits: number, separator = '.'): string {
  if (digits === 0) return minor.toString();
  const text = minor.toString().padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}${separator}${text.slice(-digits)}`;
}

describe('parseMoney', () => {
  test.prop([anyInput, currency], runs(20_000))(
    'is undefined or a positive safe integer, for any input and currency',
    (input, code) => {
      const minor = parseMoney(input, code);
      if (minor !== undefined) {
        expect(Number.isSafeInteger(minor)).toBe(true);
        expect(minor).toBeGreaterThan(0);
        expect(Object.is(minor, -0)).toBe(false);
      }
    },
    CEILING_MS,
  );

  test.prop([anyInput, currency], runs(20_000))(
    'reads exactly the digits typed (BigInt oracle): never through floats',
    (input, code) => {
      expect(parseMoney(input, code)).toBe(oracle(input, minorDigits(code)));
    },
    CEILING_MS,
  );

  test.prop(
    [
      knownCurrency.chain((code) => {
        const digits = minorDigits(code);
        const max = 10n ** BigInt(8 + digits) - 1n;
        return fc.tuple(fc.constant(code), fc.bigInt({ min: 1n, max }));
      }),
      fc.constantFrom('.', ','),
      fc.constantFrom('', ' ', '\t', '\n', '\u00a0'),
    ],
    runs(10_000),
  )(
    'round-trips every amount in range, as typed with either separator',
    ([code, minor], sep, pad) => {
      const digits = minorDigits(code);
      const typed = plain(minor, digits, sep);
      expect(parseMoney(`${pad}${typed}${pad}`, code)).toBe(Number(minor));
      // Trailing fraction zeros may be left off ("42.5" is 4250 cents), and so may the separator.
      const short = digits === 0 ? typed : typed.replace(/0+$/, '').replace(/[.,]$/, '');
      expect(parseMoney(short, code)).toBe(Number(minor));
    },
    CEILING_MS,
  );

  test.prop(
    [
      knownCurrency.chain((code) => {
        const digits = minorDigits(code);
        return fc.tuple(fc.constant(code), fc.integer({ min: 1, max: 10 ** (8 + digits) - 1 }));
      }),
    ],
    runs(5_000),
  )(
    'round-trips what Intl shows for the amount (no grouping)',
    ([code, minor]) => {
      const digits = minorDigits(code);
      const shown = new Intl.NumberFormat('en', {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
        useGrouping: false,
      }).format(minor / 10 ** digits);
      expect(parseMoney(shown, code)).toBe(minor);
    },
    CEILING_MS,
  );

  test.prop([knownCurrency, fc.bigInt({ min: 1n, max: 10n ** 8n - 1n }), fc.nat({ max: 4 })], runs(5_000))(
    'refuses more fraction digits than the currency has, a ninth whole digit, and signs',
    (code, whole, extra) => {
      const digits = minorDigits(code);
      expect(parseMoney(`${whole}.${'1'.repeat(digits + 1 + extra)}`, code)).toBeUndefined();
      // nine or more whole digits
      expect(parseMoney(`${whole}0${'0'.repeat(extra)}`.padStart(9, '1'), code)).toBeUndefined();
      expect(parseMoney(`-${whole}`, code)).toBeUndefined();
      expect(parseMoney(`+${whole}`, code)).toBeUndefined();
      expect(parseMoney(`${whole}e1`, code)).toBeUndefined();
    },
    CEILING_MS,
  );

  test.each([
    ['1.13', 'usd', 113],
    ['4.35', 'usd', 435],
    ['1.15', 'eur', 115],
    ['0.29', 'usd', 29],
    ['8.20', 'gbp', 820],
    ['99999999.99', 'usd', 9_999_999_999],
    ['1.005', 'kwd', 1005],
  ])('%s %s is %i minor units (values where x * 100 is not an integer in floats)', (input, code, minor) => {
    expect(parseMoney(input, code)).toBe(minor);
  });
});
