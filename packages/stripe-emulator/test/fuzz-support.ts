import { fc } from '@fast-check/vitest';

/**
 * What the emulator's fuzzing (./fuzz-form.test.ts, ./fuzz.test.ts) is made of: the run counts,
 * odd strings and prototype keys, text that looks like a form body, and search queries (valid
 * clauses, clauses of any field and operator, and text that is no query at all).
 *
 * FUZZ_SEED replays a run (fast-check prints the seed and path of a failure); FUZZ_SCALE multiplies
 * the number of runs.
 */
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const scale = Number(process.env.FUZZ_SCALE ?? 1);
export const runs = (n: number) => ({
  numRuns: Math.max(1, Math.round(n * scale)),
  ...(seed === undefined ? {} : { seed }),
});

/** A ceiling, not a wait (it grows with FUZZ_SCALE): many runs on a loaded 2-core machine. */
export const CEILING_MS = 60_000 * Math.max(1, scale);

// ---------------------------------------------------------------------------------------------
// Odd strings and form text

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf'];
export const ODD_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\u0000\u0001\u001f\u007f',
  '\r\n',
  "'; drop table orders; --",
  '%',
  '%%',
  '%zz',
  '%ff%fe',
  '%E2%82',
  '%5B',
  '%5D',
  '+',
  '&',
  '=',
  '==',
  '[]',
  '][',
  '🦄',
  '\u202e',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e308',
  '99999999',
  '100000000',
];
/** Text that looks like a form, with the characters that matter to the decoder over-represented. */
export const formText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom(...'ab0_[]&=%+ 5BD'), maxLength: 40 }) },
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc
    .array(
      fc.tuple(
        fc.array(fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 6 })), {
          minLength: 1,
          maxLength: 10,
        }),
        fc.constantFrom('', '[]', '[', ']'),
        fc.oneof(fc.constantFrom(...ODD_STRINGS), fc.string({ maxLength: 8 })),
      ),
      { maxLength: 12 },
    )
    .map((pairs) =>
      pairs
        .map(
          ([[head, ...rest], tail, value]) => `${head}${rest.map((s) => `[${s}]`).join('')}${tail}=${value}`,
        )
        .join('&'),
    ),
  fc.constantFrom(...ODD_STRINGS),
);

// ---------------------------------------------------------------------------------------------
// Search queries

const FIELDS = ['amount', 'created', 'currency', 'customer', 'status', 'metadata', 'foo', 'amount.x', '_'];
const OPERATORS = [':', '~', '>', '<', '>=', '<=', '=', '!'];
export const quote = (text: string, q: "'" | '"') => `${q}${text.replace(/[\\'"]/g, '\\$&')}${q}`;
const searchValue = fc.oneof(
  fc.constantFrom('null', '100', '-5', '0', '1e3', 'usd', 'succeeded', 'cus_1', '', '\\'),
  fc.string({ maxLength: 8 }).map((s) => quote(s, "'")),
  fc.string({ maxLength: 8 }).map((s) => quote(s, '"')),
  fc.string({ unit: fc.constantFrom(...`ab1'"\\ :~-[]`), maxLength: 8 }),
);
/** A clause the grammar allows, for its field: what a real query is made of. */
const validClause = fc.oneof(
  fc
    .tuple(fc.constantFrom('amount', 'created'), fc.constantFrom(':', '>', '<', '>=', '<='), fc.integer())
    .map(([field, op, n]) => `${field}${op}${n}`),
  fc
    .tuple(
      fc.constantFrom('currency', 'status', 'customer'),
      fc.oneof(
        fc.constant('null'),
        fc.string({ maxLength: 8 }).map((v) => quote(v, "'")),
      ),
    )
    .map(([field, value]) => `${field}:${value}`),
  fc.string({ minLength: 3, maxLength: 8 }).map((v) => `customer~${quote(v, '"')}`),
  fc
    .tuple(fc.string({ maxLength: 6 }), fc.constantFrom(':', '~'), fc.string({ minLength: 3, maxLength: 8 }))
    .map(([k, op, v]) => `metadata[${quote(k, "'")}]${op}${quote(v, "'")}`),
);
const anyClause = fc
  .tuple(
    fc.boolean(),
    fc.constantFrom(...FIELDS),
    fc.option(
      fc.string({ maxLength: 6 }).map((k) => `[${quote(k, "'")}]`),
      { nil: '' },
    ),
    fc.constantFrom(...OPERATORS),
    searchValue,
  )
  .map(([negated, field, key, op, value]) => `${negated ? '-' : ''}${field}${key}${op}${value}`);
const clauseText = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.boolean(), validClause).map(([neg, c]) => (neg ? `-${c}` : c)) },
  anyClause,
);
export const queryText = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.array(clauseText, { minLength: 1, maxLength: 12 }),
        fc.constantFrom(' ', '  ', ' AND ', ' and ', ' OR ', ' or ', '\t', ''),
      )
      .map(([clauses, joiner]) => clauses.join(joiner)),
  },
  fc.string({ unit: fc.constantFrom(...`amount:currency'"\\ -ANDOR~<>=[]`), maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
