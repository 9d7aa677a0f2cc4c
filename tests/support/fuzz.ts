import {
  BOUNDARY_NUMBERS,
  fuzzCeilingMs,
  fuzzInputs,
  LONG,
  ODD_STRINGS,
  ODD_UUIDS,
  type PrincipalName,
  type Procedure,
  protoObject,
  resolve as resolvePlaceholders,
  SCOPES,
} from '@chargeonce/api/fuzz';
import { fc } from '@fast-check/vitest';
import { expect } from 'vitest';
import type { InProcess } from './in-process';

export {
  type Case,
  deniedAs,
  EXECUTED,
  fuzzParams,
  type Generated,
  LONG,
  mustSucceed,
  named,
  PRINCIPALS,
  PROCEDURES,
  type PrincipalName,
  type Procedure,
  principal,
  SCOPE,
  SCOPES,
  snapshot,
} from '@chargeonce/api/fuzz';

/**
 * Building blocks for fuzzing the HTTP API with fast-check: JSON inputs for every orders procedure
 * (valid-looking ones with fields broken, boundary numbers, odd strings, prototype keys, numbers
 * written as JSON.stringify cannot), the fixture's callers and rows, and the checks every response
 * must pass. The callers, inputs and which calls must succeed are the createCaller fuzzing's
 * (packages/api/test/fuzz-support.ts), with the values only JSON carries.
 *
 * FUZZ_SEED replays a run (fast-check prints the seed and path of a failure); FUZZ_SCALE multiplies
 * the number of runs for a longer session.
 */
/** A ceiling, not a wait (it grows with FUZZ_SCALE): one property's runs on a loaded 2-core machine. */
export const FUZZ_CEILING_MS = fuzzCeilingMs(120_000);

// ---------------------------------------------------------------------------------------------
// Arbitraries (JSON only: this is what HTTP carries)

/** A JSON number written as is (`-0`, `1e400`, `4200.0`), which JSON.stringify cannot produce. */
export class RawNumber {
  constructor(readonly text: string) {}
}
const RAW_NUMBERS = [
  '-0',
  '1e400',
  '-1e400',
  '4200.0',
  '4.2e3',
  '42E2',
  '9007199254740993',
  '0.0000000000000001e20',
];
export const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...BOUNDARY_NUMBERS),
  fc.constantFrom(...RAW_NUMBERS).map((text) => new RawNumber(text)),
  fc.constantFrom(...ODD_STRINGS),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(true, false, null, [], {}),
  fc.jsonValue({ maxDepth: 2 }),
  protoObject,
);
export const { INPUTS, caseFor } = fuzzInputs(weird, ODD_UUIDS);
export const KIND: Record<Procedure, 'query' | 'mutation'> = {
  create: 'mutation',
  get: 'query',
  list: 'query',
  pay: 'mutation',
  refund: 'mutation',
  cancel: 'mutation',
  capture: 'mutation',
  void: 'mutation',
};

// ---------------------------------------------------------------------------------------------
// The environment's rows, state and the checks on what comes back

export interface Fixture {
  ids: Record<string, string>;
  /** The Authorization header each caller sends (none for anonymous). */
  headers: Record<Exclude<PrincipalName, 'garbage'>, string | undefined>;
}

export async function makeFixture(env: InProcess): Promise<Fixture> {
  const ids: Record<string, string> = {};
  const headers: Partial<Fixture['headers']> = {};
  for (const name of ['A', 'B'] as const) {
    const user = await env.newUser(name);
    ids[`$${name}`] = user.id;
    headers[name] = `Bearer ${user.token}`;
    const order = { amount: 5_000, currency: 'usd', paymentMethodId: 'pm_card_visa' };
    ids[`$${name}_ORDER`] = (await user.client.orders.create.mutate(order)).id;
    const paid = await user.client.orders.create.mutate(order);
    await user.client.orders.pay.mutate({ orderId: paid.id });
    ids[`$${name}_PAID`] = paid.id;
  }
  ids.$A_ORDER_UPPER = (ids.$A_ORDER as string).toUpperCase();
  for (const name of ['service', 'service-read', 'service-none'] as const) {
    headers[name] = `Bearer ${(await env.newService(SCOPES[name])).token}`;
  }
  headers.anonymous = undefined;
  headers.unknown = 'Bearer co_unknown_token';
  return { ids, headers: headers as Fixture['headers'] };
}

/** Authorization headers that carry no usable token (printable: fetch refuses the rest). */
export const GARBAGE_AUTH = [
  '',
  'Bearer',
  'Bearer ',
  'Basic YTpi',
  'Bearer a b',
  "Bearer '; drop table api_tokens; --",
  `Bearer ${LONG}`,
  'Bearer co_\u00ff\u00fe',
  'Token co_x',
];

/** Placeholders become the rows (or long strings) they name, in arrays too; `$FRESH_A` a new order. */
export const resolve = (env: InProcess, fixture: Fixture, value: unknown): Promise<unknown> =>
  resolvePlaceholders(env, { ids: fixture.ids, arrays: true, opaque: (v) => v instanceof RawNumber }, value);

/** JSON text of a value, writing RawNumbers as they are. */
export function toJson(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof RawNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map((v) => toJson(v) ?? 'null').join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).flatMap((k) => {
      const json = toJson((value as Record<string, unknown>)[k]);
      return json === undefined ? [] : [`${JSON.stringify(k)}:${json}`];
    });
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

const STACK_OR_PATH = [
  /\n\s+at /,
  /\bat .*\.[cm]?[jt]s:\d+/,
  /node_modules/,
  /file:\/\//,
  /\/work\//,
  /\.ts:\d+/,
];
const SQL_TEXT = ['select ', 'insert into', 'relation "', 'syntax error at', 'duplicate key', 'violates'];
/** Bytes a refusal may take per call it answers, whatever the input's size. */
export const MAX_ERROR_BYTES_PER_CALL = 4096;
/** The longest run of caller-sent text an answer may repeat (the server clips echoes at 120). */
const MAX_ECHO = 121;

/** Strings anywhere in a value (keys included), to look for echoes of the long ones. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value !== null && typeof value === 'object' && !(value instanceof RawNumber)) {
    for (const key of Object.keys(value)) {
      out.push(key);
      strings((value as Record<string, unknown>)[key], out);
    }
  }
  return out;
}

/**
 * Every response: not a 5xx; no stack frame, file path or SQL text (unless the request itself said
 * it); a refusal is brief and repeats no long run of what was sent.
 */
export function expectSafeResponse(
  res: { status: number; text: string },
  request: { url: string; body?: string | undefined; input?: unknown; calls?: number },
): void {
  const { status, text } = res;
  const context = `${status} ${text.slice(0, 600)}`;
  expect(status, context).toBeLessThan(500);
  const sent = `${request.url}\n${request.body ?? ''}`.toLowerCase();
  for (const pattern of STACK_OR_PATH) expect(text, context).not.toMatch(pattern);
  for (const sql of SQL_TEXT) {
    if (!sent.includes(sql) && !decodeSafe(sent).includes(sql))
      expect(text.toLowerCase(), context).not.toContain(sql);
  }
  if (status < 400) return;
  expect(Buffer.byteLength(text), context).toBeLessThanOrEqual(
    MAX_ERROR_BYTES_PER_CALL * Math.max(1, request.calls ?? 1),
  );
  const long = [...strings(request.input), request.body ?? '', decodeSafe(request.url)].filter(
    (s) => s.length > MAX_ECHO,
  );
  for (const s of long) {
    for (const at of [0, Math.floor((s.length - MAX_ECHO) / 2), s.length - MAX_ECHO]) {
      const window = s.slice(at, at + MAX_ECHO);
      expect(
        text.includes(window) || text.includes(JSON.stringify(window).slice(1, -1)),
        `echoes ${window.slice(0, 40)}…: ${context}`,
      ).toBe(false);
    }
  }
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
