import { cardLabel } from '../cards';
import { declineInWords } from '../errors';
import type { Attempt } from './view';

const RESULT: Record<Attempt['status'], string> = {
  processing: 'Being confirmed',
  succeeded: 'Succeeded',
  failed: 'Declined',
  requires_action: 'Being confirmed',
};

function when(iso: string): string {
  return new Date(iso).toLocaleString();
}

/** Every payment attempt of the order, oldest first: what was tried, with which card, and how it ended. */
export function AttemptHistory({ attempts }: { attempts: readonly Attempt[] }) {
  if (attempts.length === 0) return <p>No payment attempts yet.</p>;
  const ordered = [...attempts].sort((a, b) => a.claimVersion - b.claimVersion);
  return (
    <table className="attempts">
      <caption className="sr-only">Payment attempts, oldest first</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Started</th>
          <th scope="col">Card</th>
          <th scope="col">Result</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        {ordered.map((a, i) => (
          <tr key={a.id}>
            <td>{i + 1}</td>
            <td>{when(a.claimedAt)}</td>
            <td>{cardLabel(a.paymentMethodId)}</td>
            <td>{RESULT[a.status]}</td>
            <td>
              {a.status === 'failed' ? (
                declineInWords(a.declineCode ?? a.errorCode)
              ) : a.paymentIntentId ? (
                <code>{a.paymentIntentId}</code>
              ) : (
                '—'
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
