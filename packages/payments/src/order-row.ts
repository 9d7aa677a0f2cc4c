import type { OrderStatus, orders } from '@chargeonce/db';

export type Order = typeof orders.$inferSelect;

/** A row of `orders` as raw SQL returns it (snake_case), as selected by `ORDER_COLUMNS`. */
export type OrderRow = {
  id: string;
  user_id: string;
  amount: number;
  currency: string;
  payment_method_id: string;
  status: OrderStatus;
  version: number;
  payment_intent_id: string | null;
  /** Raw `db.execute` rows keep timestamps as strings (drizzle's postgres.js parsers). */
  created_at: string | Date;
  updated_at: string | Date;
  paid_at: string | Date | null;
  canceled_at: string | Date | null;
};

const toDate = (v: string | Date) => (v instanceof Date ? v : new Date(v));

export function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    userId: row.user_id,
    amount: row.amount,
    currency: row.currency,
    paymentMethodId: row.payment_method_id,
    status: row.status,
    version: row.version,
    paymentIntentId: row.payment_intent_id,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    paidAt: row.paid_at === null ? null : toDate(row.paid_at),
    canceledAt: row.canceled_at === null ? null : toDate(row.canceled_at),
  };
}
