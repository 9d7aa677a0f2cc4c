import type { ApiContext, ApiResult } from './context';
import { invalidRequest, resourceMissing } from './errors';
import { asArray } from './form';
import { matchesQuery, parseSearchQuery } from './search';
import type { PaymentIntentRecord } from './store';
import type { Params } from './types';
import { optionalString, parseInteger, parseLimit, requiredString } from './validate';

const CREATED_OPERATORS = ['gt', 'gte', 'lt', 'lte'] as const;

/**
 * One list endpoint, newest first, over records kept oldest first: `limit`, `created` (exact or
 * `created[gt|gte|lt|lte]`), the endpoint's own filters, then the `starting_after` / `ending_before`
 * cursors (ids; an unknown one is `No such <noun>: '<id>'`), validated in that order.
 */
export interface ListSpec<T extends { seq: number }> {
  url: string;
  records: readonly T[];
  find(id: string): T | undefined;
  noun: string;
  created(record: T): number;
  /** Reads the endpoint's filters from the parameters; the predicate they make. */
  where(params: Params): (record: T) => boolean;
  object(record: T): unknown;
}

export function listNewestFirst<T extends { seq: number }>(ctx: ApiContext, spec: ListSpec<T>): ApiResult {
  const p = ctx.params;
  const limit = parseLimit(p);
  const createdFilter = parseCreated(p);
  const where = spec.where(p);
  const cursor = (name: 'starting_after' | 'ending_before'): T | null => {
    const id = optionalString(p, name);
    if (id === undefined || id === '') return null;
    const record = spec.find(id);
    if (!record) throw resourceMissing(`No such ${spec.noun}: '${id}'`, name, 400);
    return record;
  };
  const startingAfter = cursor('starting_after');
  const endingBefore = cursor('ending_before');
  const matching = [...spec.records].reverse().filter((r) => createdFilter(spec.created(r)) && where(r));
  const { data, hasMore } = pageNewestFirst(matching, startingAfter, endingBefore, limit);
  return {
    status: 200,
    body: { object: 'list', data: data.map((r) => spec.object(r)), has_more: hasMore, url: spec.url },
  };
}

/** `GET /v1/payment_intents`, with optional `customer` and `customer_account` filters. */
export function listPaymentIntents(ctx: ApiContext): ApiResult {
  return listNewestFirst(ctx, {
    url: '/v1/payment_intents',
    records: ctx.state.paymentIntents(),
    find: (id) => ctx.state.getPaymentIntent(id),
    noun: 'payment_intent',
    created: (r) => r.pi.created,
    where: (p) => {
      const customer = optionalString(p, 'customer');
      const customerAccount = optionalString(p, 'customer_account');
      return (r) =>
        (customer === undefined || customer === '' || r.pi.customer === customer) &&
        (customerAccount === undefined ||
          customerAccount === '' ||
          r.pi.customer_account === customerAccount);
    },
    object: (r) => r.pi,
  });
}

/** `GET /v1/payment_intents/search`: newest first, opaque `page` cursor in `next_page`. */
export function searchPaymentIntents(ctx: ApiContext): ApiResult {
  const p = ctx.params;
  const query = parseSearchQuery(requiredString(p, 'query'));
  const limit = parseLimit(p);
  const page = optionalString(p, 'page');
  const before = page === undefined || page === '' ? Number.POSITIVE_INFINITY : decodePage(page);
  const expand = asArray(p.expand) ?? [];

  const matching = newestFirst(ctx).filter((r) => matchesQuery(r.pi, query));
  const remaining = matching.filter((r) => r.seq < before);
  const data = remaining.slice(0, limit);
  const hasMore = remaining.length > limit;
  const last = data[data.length - 1];
  const body: Record<string, unknown> = {
    object: 'search_result',
    data: data.map((r) => r.pi),
    has_more: hasMore,
    next_page: hasMore && last ? encodePage(last.seq) : null,
    url: '/v1/payment_intents/search',
  };
  if (expand.includes('total_count')) body.total_count = matching.length;
  return { status: 200, body };
}

function newestFirst(ctx: ApiContext): PaymentIntentRecord[] {
  return [...ctx.state.paymentIntents()].reverse();
}

export function parseCreated(params: Params): (created: number) => boolean {
  const value = params.created;
  if (value === undefined || value === '') return () => true;
  if (typeof value === 'string') {
    const exact = parseInteger(value, 'created');
    return (created) => created === exact;
  }
  if (Array.isArray(value))
    throw invalidRequest('Invalid created: expected an integer or a hash.', { param: 'created' });
  const bounds: Partial<Record<(typeof CREATED_OPERATORS)[number], number>> = {};
  for (const [op, raw] of Object.entries(value)) {
    if (!(CREATED_OPERATORS as readonly string[]).includes(op)) {
      throw invalidRequest(`Received unknown parameter: created[${op}]`, { param: `created[${op}]` });
    }
    bounds[op as (typeof CREATED_OPERATORS)[number]] = parseInteger(raw, `created[${op}]`);
  }
  return (created) =>
    (bounds.gt === undefined || created > bounds.gt) &&
    (bounds.gte === undefined || created >= bounds.gte) &&
    (bounds.lt === undefined || created < bounds.lt) &&
    (bounds.lte === undefined || created <= bounds.lte);
}

function encodePage(seq: number): string {
  return Buffer.from(JSON.stringify({ before: seq }), 'utf8').toString('base64url');
}

function decodePage(page: string): number {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(page, 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && 'before' in parsed && Number.isSafeInteger(parsed.before)) {
      return parsed.before as number;
    }
  } catch {
    // fall through
  }
  throw invalidRequest(`Invalid page: ${page}`, { param: 'page' });
}

/**
 * Stripe's cursor paging over items already sorted newest first: `starting_after` gives the next
 * `limit` older items, `ending_before` the `limit` items just newer than the cursor (still newest
 * first). Shared by every list endpoint.
 */
export function pageNewestFirst<T extends { seq: number }>(
  matching: T[],
  startingAfter: { seq: number } | null,
  endingBefore: { seq: number } | null,
  limit: number,
): { data: T[]; hasMore: boolean } {
  if (startingAfter && endingBefore) {
    throw invalidRequest('You may only specify one of these parameters: ending_before, starting_after.', {
      param: 'ending_before',
    });
  }
  if (endingBefore) {
    const newer = matching.filter((r) => r.seq > endingBefore.seq);
    return { data: newer.slice(Math.max(0, newer.length - limit)), hasMore: newer.length > limit };
  }
  const older = startingAfter ? matching.filter((r) => r.seq < startingAfter.seq) : matching;
  return { data: older.slice(0, limit), hasMore: older.length > limit };
}
