import type { Params, ParamValue } from './types';

/** Thrown for a parameter name or structure that cannot be decoded. */
export class FormDecodeError extends Error {}

const MAX_DEPTH = 8;

/**
 * Decodes an `application/x-www-form-urlencoded` body or query string with Stripe's bracket nesting:
 * `metadata[order_id]=1` → `{ metadata: { order_id: '1' } }`, `expand[]=a&expand[]=b` → `{ expand: ['a', 'b'] }`.
 * Indexed arrays (`payment_method_types[0]=card`, what stripe-node sends) decode to objects keyed by the
 * index; {@link asArray} reads either form as a list.
 */
export function decodeForm(input: string): Params {
  const root: Params = {};
  if (input === '') return root;
  for (const [rawKey, value] of new URLSearchParams(input)) {
    if (rawKey === '') throw new FormDecodeError('Invalid request: a parameter has an empty name.');
    assign(root, parseKey(rawKey), value, rawKey);
  }
  return root;
}

function parseKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open === -1) {
    if (key.includes(']')) throw malformed(key);
    return [key];
  }
  if (open === 0) throw malformed(key);
  const segments = [key.slice(0, open)];
  let rest = key.slice(open);
  while (rest.length > 0) {
    const close = rest.indexOf(']');
    if (rest[0] !== '[' || close === -1) throw malformed(key);
    const segment = rest.slice(1, close);
    if (segment.includes('[')) throw malformed(key);
    segments.push(segment);
    rest = rest.slice(close + 1);
  }
  if (segments.length > MAX_DEPTH)
    throw new FormDecodeError(`Invalid request: parameter '${key}' is nested too deeply.`);
  // `[]` (append) is only meaningful as the last segment, as in `expand[]=...`.
  if (segments.slice(0, -1).includes('')) throw malformed(key);
  return segments;
}

function malformed(key: string): FormDecodeError {
  return new FormDecodeError(`Invalid request: malformed parameter name '${key}'.`);
}

function setOwn(target: Params, key: string, value: ParamValue): void {
  // defineProperty keeps keys such as `__proto__` plain data.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function getOwn(target: Params, key: string): ParamValue | undefined {
  return Object.hasOwn(target, key) ? target[key] : undefined;
}

function assign(root: Params, segments: string[], value: string, rawKey: string): void {
  let container: Params = root;
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i] as string;
    const isLastContainer = i === segments.length - 2;
    const appends = isLastContainer && segments[i + 1] === '';
    const existing = getOwn(container, segment);
    if (appends) {
      if (existing === undefined) setOwn(container, segment, [value]);
      else if (Array.isArray(existing)) existing.push(value);
      else throw new FormDecodeError(`Invalid request: conflicting values for parameter '${rawKey}'.`);
      return;
    }
    if (existing === undefined) {
      const next: Params = {};
      setOwn(container, segment, next);
      container = next;
    } else if (typeof existing === 'object' && !Array.isArray(existing)) {
      container = existing;
    } else {
      throw new FormDecodeError(`Invalid request: conflicting values for parameter '${rawKey}'.`);
    }
  }
  const last = segments[segments.length - 1] as string;
  const existing = getOwn(container, last);
  if (existing !== undefined && typeof existing !== 'string') {
    throw new FormDecodeError(`Invalid request: conflicting values for parameter '${rawKey}'.`);
  }
  setOwn(container, last, value);
}

/** Reads a list parameter sent either as `a[]=x` (array) or `a[0]=x` (index-keyed object). */
export function asArray(value: ParamValue | undefined): ParamValue[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return value === '' ? [] : undefined;
  const keys = Object.keys(value);
  if (!keys.every((k) => /^\d+$/.test(k))) return undefined;
  return keys.sort((a, b) => Number(a) - Number(b)).map((k) => value[k] as ParamValue);
}

/** Deterministic serialisation (object keys sorted) used to compare idempotent requests' parameters. */
export function canonicalJson(value: ParamValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as ParamValue)}`).join(',')}}`;
}
