import { newIdempotencyKey } from '@chargeonce/client';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { isFinalAnswer } from '../errors';
import { useTRPC } from '../trpc';
import { type Order, type Refund, withAnswer } from './view';

/**
 * One idempotency key per action a person means, as the New-order form keeps one per order: every
 * press until the action has its answer sends the same key, so a double click (or a press again
 * after a lost answer) is one refund, one cancel. A definite answer (a success, or a refusal:
 * `isFinalAnswer`) or an edit of what the action is (`renew`) makes the next press another action,
 * with a new key; no answer or an unknown 5xx keeps the key, so pressing again asks about the same one.
 */
export interface ActionKey {
  key: string;
  renew: () => void;
  settled: (error: unknown) => void;
}

export function useActionKey(): ActionKey {
  const [key, setKey] = useState(newIdempotencyKey);
  const renew = () => setKey(newIdempotencyKey());
  return {
    key,
    renew,
    settled: (error) => {
      if (!error || isFinalAnswer(error)) renew();
    },
  };
}

/**
 * The callbacks every mutation of the order page runs (pay, refund, cancel). The order (and refund)
 * answered shows at once, for every call sent from this page in whatever order the answers arrive;
 * then the page re-reads the order and the list: attempts, refunds and (after an error) the status
 * come from the server, never guessed here. `onSettled` waits for the re-read, so the mutation stays
 * pending, its button disabled, until the page shows its outcome; only then does `key` move on.
 */
export function useOrderAnswers(orderId: string, key?: ActionKey) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return {
    onSuccess: (answer: { order: Order; refund?: Refund }) => {
      queryClient.setQueryData(trpc.orders.get.queryKey({ orderId }), (prev) =>
        prev ? withAnswer(prev, answer) : prev,
      );
    },
    onSettled: async (_data: unknown, error: unknown) => {
      await Promise.all([
        queryClient.invalidateQueries(trpc.orders.get.queryFilter({ orderId })),
        queryClient.invalidateQueries(trpc.orders.list.queryFilter()),
      ]);
      key?.settled(error);
    },
  };
}
