/** The provider's test cards (emulator and Stripe test mode) and what each does. */
export const TEST_CARDS = [
  { id: 'pm_card_visa', label: 'Visa — succeeds' },
  { id: 'pm_card_chargeDeclined', label: 'Visa — declined' },
  { id: 'pm_card_chargeDeclinedInsufficientFunds', label: 'Visa — insufficient funds' },
  // Always asks for 3-D Secure: paying sends the browser to the bank's (the emulator's) challenge page.
  { id: 'pm_card_threeDSecure2Required', label: 'Visa — asks your bank to confirm (3-D Secure)' },
] as const;

export type TestCardId = (typeof TEST_CARDS)[number]['id'];

export function cardLabel(paymentMethodId: string): string {
  return TEST_CARDS.find((c) => c.id === paymentMethodId)?.label ?? paymentMethodId;
}
