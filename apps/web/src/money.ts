/** Amounts are integers in minor units; only display divides, parsing never goes through floats. */

export function minorDigits(currency: string): number {
  try {
    return (
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2
    );
  } catch {
    return 2;
  }
}

export function formatMoney(amount: number, currency: string): string {
  const code = currency.toUpperCase();
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: code }).format(
      amount / 10 ** minorDigits(code),
    );
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
