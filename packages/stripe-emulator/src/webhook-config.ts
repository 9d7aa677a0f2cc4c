import { createHmac } from 'node:crypto';
import { randomId } from './ids';
import type { WebhookConfig } from './types';

export const DEFAULT_WEBHOOK_CONFIG: Omit<WebhookConfig, 'secret'> = {
  url: null,
  enabledEvents: ['*'],
  maxAttempts: 8,
  retryBaseMs: 500,
  retryMaxMs: 30_000,
  timeoutMs: 10_000,
  delayMs: 0,
  duplicateProbability: 0,
  reorderWindowMs: 0,
};

export function randomWebhookSecret(): string {
  return `whsec_${randomId('x', 32).slice(2)}`;
}

/**
 * `Stripe-Signature` exactly as Stripe computes it: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<raw body>">`, keyed with the whole `whsec_...` string (stripe-node verifies it that way).
 */
export function signatureHeader(payload: string, secret: string, timestamp: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

export class WebhookConfigError extends Error {}

const MS_FIELDS = ['retryBaseMs', 'retryMaxMs', 'timeoutMs', 'delayMs', 'reorderWindowMs'] as const;

/** Validates an untrusted partial config (admin JSON, options) and merges it over `base`. */
export function mergeWebhookConfig(base: WebhookConfig, patch: unknown): WebhookConfig {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch))
    throw new WebhookConfigError('Expected a JSON object of webhook settings.');
  const p = patch as Record<string, unknown>;
  const next: WebhookConfig = { ...base, enabledEvents: [...base.enabledEvents] };
  for (const key of Object.keys(p)) {
    if (!(key in next)) throw new WebhookConfigError(`${key} is not a webhook setting.`);
  }
  if (p.url !== undefined) {
    if (p.url !== null && (typeof p.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(p.url)))
      throw new WebhookConfigError('url must be an http(s) URL or null.');
    next.url = p.url;
  }
  if (p.secret !== undefined) {
    if (typeof p.secret !== 'string' || !p.secret.startsWith('whsec_'))
      throw new WebhookConfigError('secret must be a string starting with whsec_.');
    next.secret = p.secret;
  }
  if (p.enabledEvents !== undefined) {
    if (!Array.isArray(p.enabledEvents) || !p.enabledEvents.every((t) => typeof t === 'string'))
      throw new WebhookConfigError('enabledEvents must be a list of event types.');
    next.enabledEvents = [...p.enabledEvents];
  }
  if (p.maxAttempts !== undefined) {
    if (!Number.isSafeInteger(p.maxAttempts) || (p.maxAttempts as number) < 1)
      throw new WebhookConfigError('maxAttempts must be a positive integer.');
    next.maxAttempts = p.maxAttempts as number;
  }
  for (const key of MS_FIELDS) {
    const value = p[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 2_147_483_647)
      throw new WebhookConfigError(`${key} must be a non-negative number of milliseconds.`);
    next[key] = value;
  }
  if (p.duplicateProbability !== undefined) {
    const d = p.duplicateProbability;
    if (typeof d !== 'number' || !(d >= 0 && d <= 1))
      throw new WebhookConfigError('duplicateProbability must be between 0 and 1.');
    next.duplicateProbability = d;
  }
  return next;
}

export function eventEnabled(config: WebhookConfig, type: string): boolean {
  return config.enabledEvents.some((t) =>
    t === '*' ? true : t.endsWith('.*') ? type.startsWith(t.slice(0, -1)) : t === type,
  );
}
