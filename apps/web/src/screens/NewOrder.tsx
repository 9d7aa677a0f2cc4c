import { newIdempotencyKey } from '@chargeonce/client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { CardPicker } from '../components/CardPicker';
import { ErrorMessage } from '../components/ErrorMessage';
import { PageHeading } from '../components/PageHeading';
import { parseMoney } from '../money';
import { navigate } from '../navigation';
import { useTRPC } from '../trpc';

const CURRENCIES = ['usd', 'eur', 'gbp', 'chf', 'jpy'] as const;

export function NewOrder() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const id = useId();
  const [amount, setAmount] = useState('42.00');
  const [currency, setCurrency] = useState<string>('usd');
  const [card, setCard] = useState('pm_card_visa');
  // Capture later (manual capture): paying only authorizes; the merchant charges it when shipping.
  const [captureLater, setCaptureLater] = useState(false);
  const [amountError, setAmountError] = useState<string | undefined>();
  // One idempotency key per order the form describes: submitting it twice (a double Enter, a
  // retry after a lost answer) makes one order; editing any field makes it another order.
  const [orderKey, setOrderKey] = useState(newIdempotencyKey);
  const edited =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      set(value);
      setOrderKey(newIdempotencyKey());
    };

  const create = useMutation(
    trpc.orders.create.mutationOptions({
      onSuccess: async (order) => {
        await queryClient.invalidateQueries(trpc.orders.list.queryFilter());
        navigate(`/orders/${order.id}`);
      },
    }),
  );

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const minor = parseMoney(amount, currency);
    if (minor === undefined) {
      setAmountError('Enter an amount greater than 0, like 42.00.');
      return;
    }
    setAmountError(undefined);
    create.mutate({
      amount: minor,
      currency,
      paymentMethodId: card,
      // Left out unless asked for: the request stays the one the server always knew.
      ...(captureLater ? { captureMethod: 'manual' as const } : {}),
      idempotencyKey: orderKey,
    });
  };

  return (
    <>
      <PageHeading title="New order">New order</PageHeading>
      <form onSubmit={onSubmit} className="stack" noValidate>
        <label htmlFor={`${id}-amount`}>Amount</label>
        <input
          id={`${id}-amount`}
          inputMode="decimal"
          autoComplete="off"
          value={amount}
          onChange={(e) => edited(setAmount)(e.target.value)}
          aria-invalid={amountError ? true : undefined}
          aria-describedby={amountError ? `${id}-amount-error` : undefined}
        />
        {amountError ? (
          <p id={`${id}-amount-error`} role="alert" className="error">
            {amountError}
          </p>
        ) : null}
        <label htmlFor={`${id}-currency`}>Currency</label>
        <select id={`${id}-currency`} value={currency} onChange={(e) => edited(setCurrency)(e.target.value)}>
          {CURRENCIES.map((c) => (
            <option key={c} value={c}>
              {c.toUpperCase()}
            </option>
          ))}
        </select>
        <CardPicker legend="Test card" value={card} onChange={edited(setCard)} />
        <label className="check">
          <input
            type="checkbox"
            checked={captureLater}
            onChange={(e) => edited(setCaptureLater)(e.target.checked)}
            aria-describedby={`${id}-capture-hint`}
          />
          Capture later
        </label>
        <p id={`${id}-capture-hint`} className="muted hint">
          Paying only authorizes the amount (the funds are held on the card); it is charged when the order
          ships.
        </p>
        <ErrorMessage error={create.error} />
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create order'}
        </button>
      </form>
    </>
  );
}
