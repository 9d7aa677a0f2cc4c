import { checkCurrency } from './currencies';
import { invalidRequest, parameterMissing } from './errors';
import { asArray } from './form';
import type { Params, ParamValue } from './types';

/** Params read by the validators below: the value of `params[name]`, with `name` used as the error `param`. */

export function optionalString(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw invalidRequest(`Invalid string: ${describe(value)}`, {
      param: name,
      code: 'parameter_invalid_string',
    });
  }
  return value;
}

export function requiredString(params: Params, name: string): string {
  const value = optionalString(params, name);
  if (value === undefined || value === '') throw parameterMissing(name);
  return value;
}

export function parseInteger(value: ParamValue, param: string): number {
  if (typeof value !== 'string' || !/^-?\d{1,15}$/.test(value)) {
    throw invalidRequest(`Invalid integer: ${describe(value)}`, { param, code: 'parameter_invalid_integer' });
  }
  return Number(value);
}

/** An optional integer parameter that must be at least 1 (Stripe's wording for 0 or less). */
export function optionalPositiveInteger(params: Params, name: string): number | undefined {
  const raw = params[name];
  if (raw === undefined || raw === '') return undefined;
  const value = parseInteger(raw, name);
  if (value < 1) {
    throw invalidRequest('This value must be greater than or equal to 1.', {
      param: name,
      code: 'parameter_invalid_integer',
    });
  }
  return value;
}

export function parseAmount(params: Params): number {
  const amount = optionalPositiveInteger(params, 'amount');
  if (amount === undefined) throw parameterMissing('amount');
  if (amount > 99_999_999) {
    throw invalidRequest('Amount must be no more than 99999999 (the amount supports up to eight digits).', {
      param: 'amount',
      code: 'amount_too_large',
    });
  }
  return amount;
}

/** `currency`: missing → `parameter_missing`; anything else must be a supported code (see currencies.ts). */
export function parseCurrency(params: Params): string {
  const currency = optionalString(params, 'currency');
  if (currency === undefined) throw parameterMissing('currency');
  return checkCurrency(currency);
}

export function optionalBoolean(params: Params, name: string): boolean | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidRequest(`Invalid boolean: ${describe(value)}`, {
    param: name,
    code: 'parameter_invalid_boolean',
  });
}

export function optionalEnum<T extends string>(
  params: Params,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const value = optionalString(params, name);
  if (value === undefined || value === '') return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw invalidRequest(`Invalid ${name}: must be one of ${oneOf(allowed)}`, { param: name });
  }
  return value as T;
}

/** `metadata[key]=value` pairs; an empty value unsets the key, `metadata=` clears everything. */
export function parseMetadata(params: Params, base: Record<string, string> = {}): Record<string, string> {
  const value = params.metadata;
  if (value === undefined) return { ...base };
  if (value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidRequest('Invalid object', { param: 'metadata', code: 'parameter_invalid_empty' });
  }
  const result: Record<string, string> = { ...base };
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw invalidRequest(`Invalid value for metadata[${key}]: metadata values must be strings.`, {
        param: `metadata[${key}]`,
      });
    }
    if (key.length > 40) {
      throw invalidRequest('Metadata keys can have up to 40 characters.', { param: `metadata[${key}]` });
    }
    if (v.length > 500) {
      throw invalidRequest('Metadata values can have up to 500 characters.', { param: `metadata[${key}]` });
    }
    if (v === '') delete result[key];
    else
      Object.defineProperty(result, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  if (Object.keys(result).length > 50) {
    throw invalidRequest('Metadata can have up to 50 keys.', { param: 'metadata' });
  }
  return result;
}

export function optionalStringArray(params: Params, name: string): string[] | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  const list = asArray(value);
  if (list === undefined || !list.every((v): v is string => typeof v === 'string')) {
    throw invalidRequest(`Invalid array`, { param: name });
  }
  return list;
}

export function parseLimit(params: Params): number {
  const raw = params.limit;
  if (raw === undefined || raw === '') return 10;
  const limit = parseInteger(raw, 'limit');
  if (limit < 1) throw invalidRequest('This value must be greater than or equal to 1.', { param: 'limit' });
  if (limit > 100) throw invalidRequest('This value must be less than or equal to 100.', { param: 'limit' });
  return limit;
}

/**
 * Stripe's enumeration in its enum errors: "a or b", "a, b, or c" (as in "Invalid reason: must be one
 * of duplicate, fraudulent, or requested_by_customer", recorded from Stripe's API).
 */
function oneOf(allowed: readonly string[]): string {
  if (allowed.length <= 2) return allowed.join(' or ');
  return `${allowed.slice(0, -1).join(', ')}, or ${allowed[allowed.length - 1]}`;
}

function describe(value: ParamValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
