/** Amounts are integers in minor units; only display divides, parsing never goes through floats. */

/**
 * Stripe's zero-decimal and three-decimal currencies (https://docs.stripe.com/currencies): every
 * other currency's amounts are in hundredths, whatever the browser's `Intl` data says (Chromium gives
 * huf, idr, cop, isk, ... no decimals; Stripe counts them in hundredths). The server's amounts are
 * Stripe's minor units, so this page must count them the same way. (The web client imports no server
 * code; the emulator keeps the same zero-decimal list for the provider's side.)
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
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

export function minorDigits(currency: string): number {
  const code = currency.toLowerCase();
  return ZERO_DECIMAL.has(code) ? 0 : THREE_DECIMAL.has(code) ? 3 : 2;
}

export function formatMoney(amount: number, currency: string): string {
  const code = currency.toUpperCase();
  try {
    const digits = minorDigits(code);
    return new Intl.NumberFormat(undefined, {
      style: 'currency',
      currency: code,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(amount / 10 ** digits);
  } catch {
    return `${amount} ${code} (minor units)`;
  }
}

/** "42", "42.5", "42.50" → 4250 for a 2-digit currency; undefined when not a valid amount. */
export function parseMoney(input: string, currency: string): number | undefined {
  const digits = minorDigits(currency);
  const match = /^(\d{1,8})(?:[.,](\d*))?$/.exec(input.trim());
  if (!match) return undefined;
  const fraction = match[2] ?? '';
  if (fraction.length > digits) return undefined;
  const minor = Number(match[1]! + fraction.padEnd(digits, '0'));
  return Number.isSafeInteger(minor) && minor > 0 ? minor : undefined;
}

/** 4250 → "42.50" for a 2-digit currency: an amount as the amount fields take it (no symbol, no grouping). */
export function plainAmount(amount: number, currency: string): string {
  const digits = minorDigits(currency);
  if (digits === 0) return String(amount);
  const text = String(amount).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}
