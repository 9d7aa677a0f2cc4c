import type { ReactNode } from 'react';

export interface Column<T> {
  header: string;
  cell: (row: T, index: number) => ReactNode;
}

/** A moment of a history, in the reader's locale. */
export function when(iso: string): string {
  return new Date(iso).toLocaleString();
}

interface Props<T> {
  className: string;
  /** Read by screen readers only: what the rows are, and in which order. */
  caption: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
}

/** One of an order's histories (payment attempts, refunds) as a table: a row per entry, numbered. */
export function HistoryTable<T extends { id: string }>({ className, caption, columns, rows }: Props<T>) {
  return (
    <table className={className}>
      <caption className="sr-only">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          {columns.map((c) => (
            <th key={c.header} scope="col">
              {c.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row, i) => (
          <tr key={row.id}>
            <td>{i + 1}</td>
            {columns.map((c) => (
              <td key={c.header}>{c.cell(row, i)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
