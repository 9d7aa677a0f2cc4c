import { formatMoney } from '../money';
import { RecoverButton } from './RecoverButton';
import {
  type AwaitingItem,
  ageInWords,
  KIND_LABELS,
  type RecoverAnswer,
  recoverable,
  waitingFor,
} from './view';

interface Props {
  rows: readonly AwaitingItem[];
  canAct: boolean;
  onAnswer: (item: AwaitingItem, answer: RecoverAnswer) => void;
}

/** Attempts, refunds, captures/voids and holds awaiting an outcome, oldest first, with their age. */
export function AwaitingTable({ rows, canAct, onAnswer }: Props) {
  if (rows.length === 0) return <p>Nothing is awaiting an outcome.</p>;
  return (
    <table className="awaiting">
      <caption className="sr-only">Awaiting an outcome, oldest first</caption>
      <thead>
        <tr>
          <th scope="col">What</th>
          <th scope="col">Id</th>
          <th scope="col">Order</th>
          <th scope="col">Waiting for</th>
          <th scope="col">Amount</th>
          <th scope="col">Age</th>
          <th scope="col">Recovery runs</th>
          {canAct ? <th scope="col">Action</th> : null}
        </tr>
      </thead>
      <tbody>
        {rows.map((item) => (
          <tr key={`${item.kind}-${item.id}`} data-row-id={item.id}>
            <td>{KIND_LABELS[item.kind]}</td>
            <td>
              <code>{item.id}</code>
            </td>
            <td>
              <code>{item.orderId}</code>
            </td>
            <td>{waitingFor(item)}</td>
            <td>{item.amount !== null && item.currency ? formatMoney(item.amount, item.currency) : '—'}</td>
            <td>{ageInWords(item.ageSeconds)}</td>
            <td>{item.recoveryRuns}</td>
            {canAct ? (
              <td>{recoverable(item) ? <RecoverButton item={item} onAnswer={onAnswer} /> : '—'}</td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
