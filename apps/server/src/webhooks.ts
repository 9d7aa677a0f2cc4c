import { isDatabaseUnavailable } from '@chargeonce/db';
import {
  applyPaymentIntentEvent,
  createRefusalRecorder,
  type PaymentIntentEvent,
  type PaymentsDeps,
} from '@chargeonce/payments';
import type { FastifyInstance } from 'fastify';
import { withLogger } from './log-context';
import type { Metrics } from './metrics';

export interface WebhookOptions {
  payments: PaymentsDeps;
  /** From `createWebhookVerifier(secret)`: throws unless the signature over the raw body is valid. */
  verify: (rawBody: Buffer, signatureHeader: string | undefined) => PaymentIntentEvent;
  metrics?: Metrics | undefined;
}

/**
 * `POST /webhooks/stripe`. The signature is checked on the raw bytes before anything else (bad or
 * missing → 400, nothing changed); the event is applied before answering 2xx, so a failure makes
 * Stripe deliver it again.
 */
export async function webhookRoutes(app: FastifyInstance, options: WebhookOptions): Promise<void> {
  // Encapsulated: only this plugin's routes see JSON as raw bytes.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // Deliveries not applied are kept (sampled) for the operator page; recording never delays an answer.
  const refusals = createRefusalRecorder(options.payments);

  app.post('/webhooks/stripe', async (req, reply) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const signature = req.headers['stripe-signature'];
    let event: PaymentIntentEvent;
    try {
      event = options.verify(raw, typeof signature === 'string' ? signature : undefined);
    } catch {
      options.metrics?.webhookEvents.inc({ type: 'unverified', result: 'bad_signature' });
      refusals.record({ reason: 'bad_signature', httpStatus: 400 });
      return reply.code(400).send({ error: 'invalid signature' });
    }
    const about = { eventId: event.id, eventType: event.type };
    let result: Awaited<ReturnType<typeof applyPaymentIntentEvent>>;
    try {
      // Its lines (and its provider calls') carry the Stripe event id next to this delivery's reqId.
      result = await withLogger(req.log.child({ eventId: event.id }), () =>
        applyPaymentIntentEvent(options.payments, event),
      );
    } catch (err) {
      // Nothing was committed: a non-2xx makes Stripe deliver the event again. No detail leaves.
      // A database that cannot serve is an outage, not a bug: 503, logged as a warning.
      if (isDatabaseUnavailable(err)) {
        req.log.warn({ err, eventId: event.id }, 'webhook event not applied: database unavailable');
        options.metrics?.webhookEvents.inc({ type: event.type, result: 'database_unavailable' });
        refusals.record({ reason: 'database_unavailable', httpStatus: 503, ...about });
        return reply.code(503).header('retry-after', '1').send({ received: false, result: 'retry_later' });
      }
      req.log.error({ err, eventId: event.id }, 'webhook event failed');
      options.metrics?.webhookEvents.inc({ type: event.type, result: 'error' });
      refusals.record({ reason: 'error', httpStatus: 500, ...about });
      return reply.code(500).send({ error: 'internal error' });
    }
    options.metrics?.webhookEvents.inc({ type: event.type, result });
    req.audit.outcome = result;
    // Not applied yet (the PaymentIntent could not be re-read): ask Stripe to deliver it again.
    if (result === 'retry_later') {
      refusals.record({ reason: 'retry_later', httpStatus: 503, ...about });
      return reply.code(503).send({ received: false, result });
    }
    // Accepted, but nothing of ours matches: reconciliation reports it; the operator page shows it.
    if (result === 'unknown_payment_intent') refusals.record({ reason: result, httpStatus: 200, ...about });
    return reply.code(200).send({ received: true, result });
  });
}
