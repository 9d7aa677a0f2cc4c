import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ErrorMessage } from '../components/ErrorMessage';
import { type Column, HistoryTable, when } from '../components/HistoryTable';
import { useActionKey } from '../order/mutations';
import { useTRPC } from '../trpc';
import { type Overview, reconcileRunningInWords } from './view';

type Run = Overview['reconciliations'][number];
type Finding = Run['findings'][number] & { id: string };

const FINDING_COLUMNS: readonly Column<Finding>[] = [
  { header: 'Kind', cell: (f) => f.kind.replaceAll('_', ' ') },
  { header: 'Order', cell: (f) => (f.orderId ? <code>{f.orderId}</code> : '—') },
  { header: 'PaymentIntent', cell: (f) => (f.paymentIntentId ? <code>{f.paymentIntentId}</code> : '—') },
  { header: 'Detail', cell: (f) => f.detail },
];

function describeRun(run: Run): string {
  const by = run.trigger === 'operator' ? `by ${run.requestedBy ?? 'an operator'}` : 'on schedule';
  if (run.outcome === 'failed') return `Failed at ${when(run.finishedAt)} (${by}); the server log has why.`;
  return `Completed ${when(run.finishedAt)} (${by}, instance ${run.instanceId}): ${run.findingsCount} findings, ${run.unexplained} unexplained, ${run.providerPaymentIntents} PaymentIntents compared.`;
}

/** The latest reconciliation and its findings, and "Reconcile now" (one key per press meant). */
export function ReconcilePanel({ latest, canAct }: { latest: Run | undefined; canAct: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const key = useActionKey();
  const reconcile = useMutation(
    trpc.operations.reconcile.mutationOptions({
      onSettled: async (_data, error) => {
        await queryClient.invalidateQueries(trpc.operations.overview.queryFilter());
        key.settled(error);
        if (!error) key.renew();
      },
    }),
  );
  // Another run still going is no failure of this one: said as a status, not an alert.
  const running = reconcileRunningInWords(reconcile.error);
  const findings = (latest?.findings ?? []).map((f, i) => ({ ...f, id: String(i) }));
  return (
    <section className="panel" aria-labelledby="reconcile-heading">
      <h2 id="reconcile-heading">Latest reconciliation</h2>
      <p data-testid="latest-reconciliation">
        {latest ? describeRun(latest) : 'No reconciliation has run yet.'}
      </p>
      {findings.length ? (
        <HistoryTable className="findings" caption="Its findings" columns={FINDING_COLUMNS} rows={findings} />
      ) : null}
      {canAct ? (
        <button
          type="button"
          disabled={reconcile.isPending}
          onClick={() => reconcile.mutate({ idempotencyKey: key.key })}
        >
          {reconcile.isPending ? 'Reconciling…' : 'Reconcile now'}
        </button>
      ) : null}
      {running ? <p role="status">{running}</p> : <ErrorMessage error={reconcile.error} />}
    </section>
  );
}
