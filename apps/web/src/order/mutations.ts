import { newIdempotencyKey } from '@chargeonce/client';
import { useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { isFinalAnswer } from '../errors';
import { useTRPC } from '../trpc';
import { challengeRedirect, type Order, type PayAnswer, type Refund, withAnswer } from './view';

/**
 * One idempotency key per action a person means, as the New-order form keeps one per order: every
 * press sends the same key until the person changes what the action is (`renew`, on an edit of the
 * form), so a double click, a press again after a lost answer, or a press again *after* a success
 * (the form still describes that refund) is one refund, one cancel: the server replays its answer. A
 * refusal (`isFinalAnswer`) renews the key too: the same key would only replay it. No answer, or a
 * 5xx without a domain code, keeps the key and marks the outcome `unsure`: the form is locked until
 * pressing again (with the same key, so it cannot act twice) has told what happened.
 */
export interface ActionKey {
  key: string;
  /** The last press got no definite answer: money may have moved. Ask again before anything else. */
  unsure: boolean;
  renew: () => void;
  settled: (error: unknown) => void;
}

export function useActionKey(): ActionKey {
  const [key, setKey] = useState(newIdempotencyKey);
  const [unsure, setUnsure] = useState(false);
  const renew = () => setKey(newIdempotencyKey());
  return {
    key,
    unsure,
    renew,
    settled: (error) => {
      setUnsure(Boolean(error) && !isFinalAnswer(error));
      if (error && isFinalAnswer(error)) renew();
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

/**
 * The pay's callbacks: those of every order mutation, and on a 3-D Secure challenge the browser sent
 * to the bank's page, once. Every pay of the order while its challenge is open answers with the same
 * page (the second answer of a double click included): the first answer navigates, a later one for
 * the same page does nothing, so the browser goes there once and the challenge stays the one opened.
 */
export function usePayAnswers(orderId: string) {
  const answers = useOrderAnswers(orderId);
  const sentTo = useRef<string | null>(null);
  return {
    ...answers,
    onSuccess: (answer: PayAnswer) => {
      answers.onSuccess(answer);
      const url = challengeRedirect(answer);
      if (url === null || url === sentTo.current) return;
      sentTo.current = url;
      window.location.assign(url);
    },
  };
}
