import { cardLabel } from '../cards';
import { type Column, HistoryTable, when } from '../components/HistoryTable';
import { declineInWords } from '../errors';
import { attemptResult } from './status-text';
import type { Attempt } from './view';

function detail(a: Attempt) {
  if (a.status === 'failed') return declineInWords(a.declineCode ?? a.errorCode);
  // A released hold: its PaymentIntent was canceled (voided, or lapsed at the provider).
  if (a.status === 'canceled') return declineInWords(a.errorCode ?? 'canceled_released');
  return a.paymentIntentId ? <code>{a.paymentIntentId}</code> : '—';
}

const COLUMNS: readonly Column<Attempt>[] = [
  { header: 'Started', cell: (a) => when(a.claimedAt) },
  { header: 'Card', cell: (a) => cardLabel(a.paymentMethodId) },
  { header: 'Result', cell: attemptResult },
  { header: 'Detail', cell: detail },
];

/** Every payment attempt of the order, oldest first: what was tried, with which card, and how it ended. */
export function AttemptHistory({ attempts }: { attempts: readonly Attempt[] }) {
  if (attempts.length === 0) return <p>No payment attempts yet.</p>;
  const ordered = [...attempts].sort((a, b) => a.claimVersion - b.claimVersion);
  return (
    <HistoryTable
      className="attempts"
      caption="Payment attempts, oldest first"
      columns={COLUMNS}
      rows={ordered}
    />
  );
}
