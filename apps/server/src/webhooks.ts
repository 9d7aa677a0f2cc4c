import { applyPaymentIntentEvent, type PaymentIntentEvent, type PaymentsDeps } from '@chargeonce/payments';
import type { FastifyInstance } from 'fastify';
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

  app.post('/webhooks/stripe', async (req, reply) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const signature = req.headers['stripe-signature'];
    let event: PaymentIntentEvent;
    try {
      event = options.verify(raw, typeof signature === 'string' ? signature : undefined);
    } catch {
      options.metrics?.webhookEvents.inc({ type: 'unverified', result: 'bad_signature' });
      return reply.code(400).send({ error: 'invalid signature' });
    }
    const result = await applyPaymentIntentEvent(options.payments, event);
    options.metrics?.webhookEvents.inc({ type: event.type, result });
    req.audit.outcome = result;
    return reply.code(200).send({ received: true, result });
  });
}
