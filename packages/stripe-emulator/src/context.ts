import type { EmulatorState } from './store';
import type { Params } from './types';

/** What an API handler gets: the decoded parameters and the request's identity. */
export interface ApiContext {
  state: EmulatorState;
  params: Params;
  /** Path parameters, e.g. `{ id: 'pi_...' }` for `/v1/payment_intents/:id`. */
  path: Record<string, string>;
  requestId: string;
  idempotencyKey: string | null;
}

/**
 * The outcome of an executed request. Card declines are results (HTTP 402), not thrown errors: they
 * happen during execution, change state and are stored for idempotent replay.
 */
export interface ApiResult {
  status: number;
  body: unknown;
}

export type ApiHandler = (ctx: ApiContext) => ApiResult;
