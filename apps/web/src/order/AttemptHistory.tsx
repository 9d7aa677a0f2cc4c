import { cardLabel } from '../cards';
import { type Column, HistoryTable, when } from '../components/HistoryTable';
import { declineInWords } from '../errors';
import type { Attempt } from './view';

const RESULT: Record<Attempt['status'], string> = {
  processing: 'Being confirmed',
  succeeded: 'Succeeded',
  failed: 'Declined',
  requires_action: 'Being confirmed',
};

const COLUMNS: readonly Column<Attempt>[] = [
  { header: 'Started', cell: (a) => when(a.claimedAt) },
  { header: 'Card', cell: (a) => cardLabel(a.paymentMethodId) },
  { header: 'Result', cell: (a) => RESULT[a.status] },
  {
    header: 'Detail',
    cell: (a) =>
      a.status === 'failed' ? (
        declineInWords(a.declineCode ?? a.errorCode)
      ) : a.paymentIntentId ? (
        <code>{a.paymentIntentId}</code>
      ) : (
        '—'
      ),
  },
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
