import type { ApiContext, ApiResult } from './context';
import { invalidRequest, resourceMissing } from './errors';
import { asArray } from './form';
import { listNewestFirst } from './list';
import type { EventRecord } from './store';
import { optionalBoolean, optionalString } from './validate';

/** `GET /v1/events/:id` — for reconciliation: re-read what a webhook said. */
export function retrieveEvent(ctx: ApiContext): ApiResult {
  const id = ctx.path.id ?? '';
  const record = ctx.state.getEvent(id);
  if (!record) throw resourceMissing(`No such event: '${id}'`, 'id');
  return { status: 200, body: record.event };
}

/**
 * `GET /v1/events`: newest first; `limit`, `starting_after` / `ending_before` (event ids), `type`
 * (exact, or a `prefix.*` wildcard as in Stripe), `types[]`, `created[gt|gte|lt|lte]`, and
 * `delivery_success` (true: no delivery outstanding, `pending_webhooks` 0; false: one is pending or
 * was given up — Stripe: "still pending or have failed all delivery attempts").
 */
export function listEvents(ctx: ApiContext): ApiResult {
  return listNewestFirst(ctx, {
    url: '/v1/events',
    records: ctx.state.events(),
    find: (id) => ctx.state.getEvent(id),
    noun: 'event',
    created: (r) => r.event.created,
    where: (p) => {
      const type = optionalString(p, 'type');
      const delivered = optionalBoolean(p, 'delivery_success');
      const types = asArray(p.types);
      if (types && !types.every((t): t is string => typeof t === 'string'))
        throw invalidRequest('Invalid array: types', { param: 'types' });
      const wanted = [...(type ? [type] : []), ...((types as string[] | undefined) ?? [])];
      return (r) =>
        (wanted.length === 0 || wanted.some((t) => typeMatches(t, r))) &&
        (delivered === undefined || (r.event.pending_webhooks === 0) === delivered);
    },
    object: (r) => r.event,
  });
}

function typeMatches(pattern: string, record: EventRecord): boolean {
  return pattern.endsWith('.*')
    ? record.event.type.startsWith(pattern.slice(0, -1))
    : record.event.type === pattern;
}
