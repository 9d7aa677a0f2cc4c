/**
 * The amounts Stripe charges at all, so an order that could never be paid is refused when it is
 * created, not when the customer pays. From Stripe's "Minimum and maximum charge amounts"
 * (docs.stripe.com/currencies): the minimum per currency, in that currency's minor units (a
 * zero-decimal currency such as jpy has no minor unit: 50 is ¥50). Stripe converts other
 * currencies to the account's settlement currency to apply its minimum; without exchange rates,
 * those only need a positive amount here and Stripe has the last word.
 */
const MINIMUM_CHARGE: Readonly<Record<string, number>> = {
  usd: 50,
  aed: 200,
  aud: 50,
  bgn: 100,
  brl: 50,
  cad: 50,
  chf: 50,
  czk: 1500,
  dkk: 250,
  eur: 50,
  gbp: 30,
  hkd: 400,
  huf: 17500,
  inr: 50,
  jpy: 50,
  mxn: 1000,
  myr: 200,
  nok: 300,
  nzd: 50,
  pln: 200,
  ron: 200,
  sek: 300,
  sgd: 50,
  thb: 1000,
};

/** Stripe's amount field holds at most eight digits. */
export const MAXIMUM_CHARGE = 99_999_999;

/** The smallest amount Stripe charges in `currency` (lower-case ISO code), in minor units. */
export function minimumChargeAmount(currency: string): number {
  return MINIMUM_CHARGE[currency.toLowerCase()] ?? 1;
}
