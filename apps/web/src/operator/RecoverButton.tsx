import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ErrorMessage } from '../components/ErrorMessage';
import { useActionKey } from '../order/mutations';
import { useTRPC } from '../trpc';
import { type AwaitingItem, KIND_LABELS, type RecoverAnswer } from './view';

interface Props {
  item: AwaitingItem & { kind: 'attempt' | 'refund' | 'capture' };
  onAnswer: (item: AwaitingItem, answer: RecoverAnswer) => void;
}

/**
 * "Recover" for one row: one idempotency key per press meant (a double click, or a press again
 * after a lost answer, is the same action: the server replays it), disabled while in flight. Once
 * answered the page re-reads the overview (a settled row leaves the list), and only then is the
 * button free again.
 */
export function RecoverButton({ item, onAnswer }: Props) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const key = useActionKey();
  const recover = useMutation(
    trpc.operations.recover.mutationOptions({
      onSuccess: (answer) => onAnswer(item, answer),
      onSettled: async (_data, error) => {
        await queryClient.invalidateQueries(trpc.operations.overview.queryFilter());
        key.settled(error);
        // An answered press is done: the next one is a new action.
        if (!error) key.renew();
      },
    }),
  );
  const name = `${KIND_LABELS[item.kind]} ${item.id.slice(0, 8)}`;
  return (
    <>
      <button
        type="button"
        aria-label={`Recover ${name}`}
        disabled={recover.isPending}
        onClick={() => recover.mutate({ kind: item.kind, id: item.id, idempotencyKey: key.key })}
      >
        {recover.isPending ? 'Recovering…' : 'Recover'}
      </button>
      <ErrorMessage error={recover.error} />
    </>
  );
}
