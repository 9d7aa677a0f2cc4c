import { fc, test } from '@fast-check/vitest';
import Stripe from 'stripe';
import { describe, expect } from 'vitest';
import { decodeForm, FormDecodeError } from '../src/form';
import type { Params, ParamValue } from '../src/types';
import { CEILING_MS, formText, ODD_STRINGS, PROTO_KEYS, runs } from './fuzz-support';
import { TEST_KEY } from './helpers';

/**
 * Property-based tests of the form decoder (Stripe's bracket nesting): whatever arrives, it answers
 * well-formed params or its own 400, never anything else, and nothing reaches a prototype; and it
 * reads back exactly what stripe-node encodes (captured from the SDK itself, no server).
 * (The generators and FUZZ_SEED / FUZZ_SCALE: ./fuzz-support.ts.)
 */

// ---------------------------------------------------------------------------------------------
// What stripe-node is handed

/** A key stripe-node can carry: not empty, no brackets (as Stripe's metadata keys). */
const wireKey = fc.oneof(
  fc.constantFrom(...PROTO_KEYS),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((k) => !/[[\]]/.test(k)),
  fc.constantFrom('0', '1', '10', 'a b', 'a+b', 'a&b=c', '%5B', '%', 'ü', '🦄'),
);
const topKey = wireKey.filter((k) => k !== '__proto__');
const wireScalar = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(...ODD_STRINGS),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date({ noInvalidDate: true }),
);
/** What application code hands stripe-node: nested hashes and lists of scalars, some nested past the limit. */
const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', maxDepth: 9 },
    wireScalar,
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.array(fc.tuple(wireKey, tie('tree')), { maxLength: 4 }).map((entries) => Object.fromEntries(entries)),
  ),
}));
const requestParams = fc
  .array(fc.tuple(topKey, tree), { maxLength: 6 })
  .map((entries) => Object.fromEntries(entries) as Record<string, unknown>);

// ---------------------------------------------------------------------------------------------
// Helpers

function expectWellFormed(value: ParamValue, depth = 0): void {
  expect(depth).toBeLessThanOrEqual(8);
  if (typeof value === 'string') return;
  if (Array.isArray(value)) {
    expect(Object.getPrototypeOf(value)).toBe(Array.prototype);
    for (const item of value) expect(typeof item).toBe('string');
    return;
  }
  expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  for (const key of Object.keys(value)) expectWellFormed(value[key] as ParamValue, depth + 1);
}

/** What a value becomes on the wire and back, as stripe-node's encoder defines it (see utils.js). */
function wireForm(value: unknown): ParamValue | undefined {
  if (value === undefined) return undefined;
  if (value === null) return '';
  if (value instanceof Date) return Math.floor(value.getTime() / 1000).toString();
  if (typeof value !== 'object') return String(value);
  const entries = Array.isArray(value)
    ? value.map((item, i) => [String(i), item] as const)
    : Object.keys(value).map((k) => [k, (value as Record<string, unknown>)[k]] as const);
  const out: Params = {};
  for (const [key, child] of entries) {
    const wire = wireForm(child);
    if (wire !== undefined)
      Object.defineProperty(out, key, { value: wire, enumerable: true, writable: true });
  }
  // A list or hash with nothing in it sends no pair at all.
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * A deterministic text of params (keys sorted, lists marked), to compare decoded values: `toEqual`
 * reads an own `constructor` key as the object's type, and such keys are among the inputs.
 */
function canonical(value: ParamValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k] as ParamValue)}`).join(',')}}`;
}

/** The depth, in bracket segments, of the deepest pair a value encodes to (0: it sends none). */
function segments(value: unknown): number {
  if (value === undefined) return 0;
  if (value === null || typeof value !== 'object' || value instanceof Date) return 1;
  const deepest = Math.max(0, ...Object.values(value).map(segments));
  return deepest === 0 ? 0 : 1 + deepest;
}

/** Records the body stripe-node sends instead of sending it (a public extension point of the SDK). */
class CapturingHttpClient extends Stripe.HttpClient {
  bodies: string[] = [];
  override getClientName() {
    return 'capture';
  }
  override async makeRequest(
    _host: string,
    _port: string,
    _path: string,
    _method: string,
    _headers: object,
    requestData: string,
  ) {
    this.bodies.push(requestData);
    return new CannedResponse();
  }
}
class CannedResponse extends Stripe.HttpClientResponse {
  constructor() {
    super(200, { 'request-id': 'req_fuzz' });
  }
  override getRawResponse() {
    return {};
  }
  override toStream(done: () => void) {
    done();
    return {};
  }
  override async toJSON() {
    return { object: 'fuzz' };
  }
}
const capture = new CapturingHttpClient();
const sdk = new Stripe(TEST_KEY, { httpClient: capture, maxNetworkRetries: 0 });

async function encodedBySdk(params: Record<string, unknown>): Promise<string> {
  capture.bodies.length = 0;
  await sdk.rawRequest('POST', '/v1/fuzz', params as Parameters<Stripe['rawRequest']>[2]);
  expect(capture.bodies).toHaveLength(1);
  return capture.bodies[0] as string;
}

// ---------------------------------------------------------------------------------------------
// decodeForm

describe('decodeForm', () => {
  test.prop([formText], runs(20_000))(
    'returns well-formed params or throws FormDecodeError, whatever the input',
    (input) => {
      let params: Params;
      try {
        params = decodeForm(input);
      } catch (err) {
        expect(err).toBeInstanceOf(FormDecodeError);
        expect((err as Error).message).toMatch(/^Invalid request: /);
        return;
      }
      expectWellFormed(params);
      // Keys such as __proto__ stay data: nothing reaches the prototypes.
      expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
      expect(Object.keys(Object.prototype)).toEqual([]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
    CEILING_MS,
  );

  test.prop([requestParams], runs(5_000))(
    'reads back exactly what stripe-node encodes, up to the nesting limit',
    async (params) => {
      const body = await encodedBySdk(params);
      const deepest = Math.max(0, ...Object.values(params).map(segments));
      if (deepest > 8) {
        expect(() => decodeForm(body)).toThrow(FormDecodeError);
        return;
      }
      const decoded = decodeForm(body);
      expectWellFormed(decoded);
      expect(canonical(decoded)).toBe(canonical(wireForm(params) ?? {}));
    },
    CEILING_MS,
  );
});
