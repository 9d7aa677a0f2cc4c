import { invalidRequest } from './errors';

/**
 * The presentment currencies a US Stripe account can charge, lowercase, in the order Stripe's API
 * lists them (usd first, then alphabetical).
 *
 * Stripe's docs (https://docs.stripe.com/currencies#presentment-currencies) render this list per
 * account country in the browser; the stored copy of that page has no list. It is taken from what
 * Stripe's API itself answers when a currency is refused ("Your account currently supports these
 * currencies: usd, aed, ..."): the list captured from the API on 2026-09-08 (135 currencies), which
 * equals the US list captured in March 2024 minus `bgn` (Bulgaria moved to the euro on 2026-01-01)
 * plus `xcg` (the Caribbean guilder, issued 2025). See the package README for the sources.
 */
// biome-ignore format: rows of codes read better than one code per line
export const PRESENTMENT_CURRENCIES = [
  'usd', 'aed', 'afn', 'all', 'amd', 'ang', 'aoa', 'ars', 'aud', 'awg', 'azn', 'bam', 'bbd', 'bdt',
  'bif', 'bmd', 'bnd', 'bob', 'brl', 'bsd', 'bwp', 'byn', 'bzd', 'cad', 'cdf', 'chf', 'clp', 'cny',
  'cop', 'crc', 'cve', 'czk', 'djf', 'dkk', 'dop', 'dzd', 'egp', 'etb', 'eur', 'fjd', 'fkp', 'gbp',
  'gel', 'gip', 'gmd', 'gnf', 'gtq', 'gyd', 'hkd', 'hnl', 'hrk', 'htg', 'huf', 'idr', 'ils', 'inr',
  'isk', 'jmd', 'jpy', 'kes', 'kgs', 'khr', 'kmf', 'krw', 'kyd', 'kzt', 'lak', 'lbp', 'lkr', 'lrd',
  'lsl', 'mad', 'mdl', 'mga', 'mkd', 'mmk', 'mnt', 'mop', 'mur', 'mvr', 'mwk', 'mxn', 'myr', 'mzn',
  'nad', 'ngn', 'nio', 'nok', 'npr', 'nzd', 'pab', 'pen', 'pgk', 'php', 'pkr', 'pln', 'pyg', 'qar',
  'ron', 'rsd', 'rub', 'rwf', 'sar', 'sbd', 'scr', 'sek', 'sgd', 'shp', 'sle', 'sos', 'srd', 'std',
  'szl', 'thb', 'tjs', 'top', 'try', 'ttd', 'twd', 'tzs', 'uah', 'ugx', 'uyu', 'uzs', 'vnd', 'vuv',
  'wst', 'xaf', 'xcd', 'xcg', 'xof', 'xpf', 'yer', 'zar', 'zmw',
] as const;

const SUPPORTED = new Set<string>(PRESENTMENT_CURRENCIES);

/**
 * Stripe's minimum charge amounts (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts),
 * in each currency's minor unit (JPY is zero-decimal: ¥50 is 50; HUF is charged with two decimals:
 * 175.00 Ft is 17500), with the amount exactly as the table prints it — Stripe's message quotes it
 * ("Amount must be at least $0.50 usd", "... ¥50 jpy").
 *
 * The table is per *settlement* currency: a charge that Stripe converts into another settlement
 * currency must meet that currency's minimum after conversion ("Amount must convert to at least 50
 * cents. ¥5 converts to approximately $0.03."). The emulator has no exchange rates, so it applies each
 * listed currency's own minimum, as for an account with a bank account in every listed currency, and
 * no minimum beyond 1 to currencies the table does not list (the docs give them none of their own).
 * `bgn` stays as the table prints it although `bgn` is no longer a presentment currency.
 */
export const MINIMUM_CHARGE_AMOUNTS: Readonly<Record<string, { minor: number; display: string }>> = {
  usd: { minor: 50, display: '$0.50' },
  aed: { minor: 200, display: '2.00 د.إ' },
  aud: { minor: 50, display: '$0.50' },
  bgn: { minor: 100, display: 'лв1.00' },
  brl: { minor: 50, display: 'R$0.50' },
  cad: { minor: 50, display: '$0.50' },
  chf: { minor: 50, display: '0.50 Fr' },
  czk: { minor: 1500, display: '15.00Kč' },
  dkk: { minor: 250, display: '2.50-kr.' },
  eur: { minor: 50, display: '€0.50' },
  gbp: { minor: 30, display: '£0.30' },
  hkd: { minor: 400, display: '$4.00' },
  huf: { minor: 17500, display: '175.00 Ft' },
  inr: { minor: 50, display: '₹0.50' },
  jpy: { minor: 50, display: '¥50' },
  mxn: { minor: 1000, display: '$10' },
  myr: { minor: 200, display: 'RM 2' },
  nok: { minor: 300, display: '3.00-kr.' },
  nzd: { minor: 50, display: '$0.50' },
  pln: { minor: 200, display: '2.00 zł' },
  ron: { minor: 200, display: 'lei2.00' },
  sek: { minor: 300, display: '3.00-kr.' },
  sgd: { minor: 50, display: '$0.50' },
  thb: { minor: 1000, display: '฿10' },
};

/**
 * `currency`: required, one of {@link PRESENTMENT_CURRENCIES} (any letter case; stored lowercase).
 * Stripe's answer to an unknown code has no `code`, only `message` and `param` (seen in its responses:
 * "Invalid currency: euro. Stripe currently supports these currencies: usd, aed, ..."), also for an
 * empty value ("Invalid currency: . Stripe currently ..."). Stripe lists its global currency set there
 * (which also names legacy and account-restricted codes) and answers a real currency the account
 * cannot charge with "Stripe accounts in US do not support tnd. Your account currently supports these
 * currencies: ..."; the emulator has one list, so it answers every refused code with the first form.
 */
export function checkCurrency(raw: string): string {
  const currency = raw.toLowerCase();
  if (!SUPPORTED.has(currency)) {
    throw invalidRequest(
      `Invalid currency: ${currency}. Stripe currently supports these currencies: ${PRESENTMENT_CURRENCIES.join(', ')}`,
      { param: 'currency' },
    );
  }
  return currency;
}

/** Stripe's `amount_too_small` for an amount under the currency's published minimum. */
export function checkMinimumAmount(amount: number, currency: string): void {
  const minimum = MINIMUM_CHARGE_AMOUNTS[currency];
  if (minimum !== undefined && amount < minimum.minor) {
    throw invalidRequest(`Amount must be at least ${minimum.display} ${currency}`, {
      param: 'amount',
      code: 'amount_too_small',
    });
  }
}

/**
 * Stripe's zero-decimal currencies (https://docs.stripe.com/currencies#zero-decimal): amounts are
 * whole units.
 */
const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
const SYMBOLS: Record<string, string> = { usd: '$', eur: '€', gbp: '£', jpy: '¥' };

/**
 * An amount the way Stripe's refund errors print it, `$40.00` (recorded for usd; eur gives `€40.00`).
 * Other currencies are printed with their code in the symbol's place (`CHF40.00`): what Stripe prints
 * for them is not documented.
 */
export function formatMoney(amount: number, currency: string): string {
  const symbol = SYMBOLS[currency] ?? currency.toUpperCase();
  if (ZERO_DECIMAL.has(currency)) return `${symbol}${amount}`;
  return `${symbol}${Math.trunc(amount / 100)}.${String(amount % 100).padStart(2, '0')}`;
}
