import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ErrorMessage } from '../components/ErrorMessage';
import { type Column, HistoryTable, when } from '../components/HistoryTable';
import { PageHeading } from '../components/PageHeading';
import { AwaitingTable } from '../operator/AwaitingTable';
import { ReconcilePanel } from '../operator/ReconcilePanel';
import {
  type AwaitingItem,
  awaitingRows,
  canAct,
  KIND_LABELS,
  type Overview,
  type RecoverAnswer,
  recoverOutcomeInWords,
  refusalInWords,
  withAnswer,
} from '../operator/view';
import { useTRPC } from '../trpc';

/** How often the page looks again: what is stuck changes by itself (workers, webhooks, other operators). */
const REFRESH_MS = 2_000;

type Refusal = Overview['webhookRefusals'][number];
const REFUSAL_COLUMNS: readonly Column<Refusal>[] = [
  { header: 'Received', cell: (r) => when(r.receivedAt) },
  { header: 'Why', cell: (r) => refusalInWords(r.reason) },
  { header: 'Event', cell: (r) => (r.eventId ? <code>{r.eventId}</code> : '—') },
  { header: 'Type', cell: (r) => r.eventType ?? '—' },
  { header: 'Answered', cell: (r) => r.httpStatus },
  { header: 'Instance', cell: (r) => r.instanceId },
];

type Action = Overview['actions'][number];
const ACTION_COLUMNS: readonly Column<Action>[] = [
  { header: 'At', cell: (a) => when(a.startedAt) },
  { header: 'Who', cell: (a) => a.principal },
  { header: 'Action', cell: (a) => a.action.replaceAll('_', ' ') },
  { header: 'Target', cell: (a) => <code>{a.target}</code> },
  { header: 'Result', cell: (a) => a.result.replaceAll('_', ' ') },
];

/**
 * What is stuck and what to do about it, for a session with `operations:read`: rows awaiting an
 * outcome with their age (and "Recover" with `operations:write`), the latest reconciliation (and
 * "Reconcile now"), refused webhook deliveries, and the audit of operators' actions.
 */
export function OperatorPage({ scopes }: { scopes: readonly string[] }) {
  const trpc = useTRPC();
  const overview = useQuery(trpc.operations.overview.queryOptions({}, { refetchInterval: REFRESH_MS }));
  const [answers, setAnswers] = useState<string[]>([]);
  const onAnswer = (item: AwaitingItem, answer: RecoverAnswer) =>
    setAnswers((prev) =>
      withAnswer(prev, `${KIND_LABELS[item.kind]} ${item.id.slice(0, 8)}: ${recoverOutcomeInWords(answer)}`),
    );
  const data = overview.data;
  const acts = canAct(scopes);
  return (
    <>
      <PageHeading title="Operations">Operations</PageHeading>
      {overview.isError ? <ErrorMessage error={overview.error} /> : null}
      {overview.isPending ? <p role="status">Loading…</p> : null}
      <div role="status" aria-live="polite" data-testid="recover-answers">
        {answers.map((text) => (
          <p key={text}>{text}</p>
        ))}
      </div>
      {data ? (
        <>
          <section aria-labelledby="awaiting-heading">
            <h2 id="awaiting-heading">Awaiting an outcome</h2>
            <p data-testid="awaiting-totals">
              {data.totals.processingAttempts} payments with an unknown outcome, {data.totals.openChallenges}{' '}
              open 3-D Secure challenges, {data.totals.pendingRefunds} pending refunds,{' '}
              {data.totals.openAuthorizations} open holds (as of {when(data.asOf)}).
            </p>
            <AwaitingTable rows={awaitingRows(data)} canAct={acts} onAnswer={onAnswer} />
          </section>
          <ReconcilePanel latest={data.reconciliations[0]} canAct={acts} />
          <section aria-labelledby="refusals-heading">
            <h2 id="refusals-heading">Refused webhook deliveries</h2>
            {data.webhookRefusals.length ? (
              <HistoryTable
                className="refusals"
                caption="Latest first"
                columns={REFUSAL_COLUMNS}
                rows={data.webhookRefusals}
              />
            ) : (
              <p>None recorded in the last 7 days.</p>
            )}
          </section>
          <section aria-labelledby="actions-heading">
            <h2 id="actions-heading">Operators’ actions</h2>
            {data.actions.length ? (
              <HistoryTable
                className="actions"
                caption="Latest first"
                columns={ACTION_COLUMNS}
                rows={data.actions}
              />
            ) : (
              <p>None yet.</p>
            )}
          </section>
        </>
      ) : null}
    </>
  );
}
