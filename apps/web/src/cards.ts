/** The provider's test cards (emulator and Stripe test mode) and what each does. */
export const TEST_CARDS = [
  { id: 'pm_card_visa', label: 'Visa — succeeds' },
  { id: 'pm_card_chargeDeclined', label: 'Visa — declined' },
  { id: 'pm_card_chargeDeclinedInsufficientFunds', label: 'Visa — insufficient funds' },
] as const;

export type TestCardId = (typeof TEST_CARDS)[number]['id'];

export function cardLabel(paymentMethodId: string): string {
  return TEST_CARDS.find((c) => c.id === paymentMethodId)?.label ?? paymentMethodId;
}
