import type { Params, ParamValue } from './types';

/**
 * What one request parameter may contain, for the unknown-parameter check (the value's type is
 * checked by the handler that reads it):
 * - `true`: a value (string, or a list such as `expand[]`); not descended into;
 * - `'metadata'`: a hash with free-form keys (`metadata[...]`);
 * - `'unchecked'`: a deep hash whose keys the emulator does not check (`payment_method_options`,
 *   `payment_method_data`, `amount_details`: hundreds of nested parameters it has no use for). Stripe
 *   does check them; the emulator accepts any keys there;
 * - an object: a hash taking exactly these parameters.
 */
export type ParamSpec = true | 'metadata' | 'unchecked' | ParamSpecs;
export interface ParamSpecs {
  readonly [name: string]: ParamSpec;
}

/**
 * The parameters of `params` that `spec` does not take, as Stripe names them (`foo`,
 * `automatic_payment_methods[foo]`, `shipping[address][zip]`), in request order. A hash parameter
 * sent as a plain value (`shipping=` to unset it) is not descended into.
 */
export function unknownParams(spec: ParamSpecs, params: Params): string[] {
  const unknown: string[] = [];
  collect(spec, params, '', unknown);
  return unknown;
}

function collect(spec: ParamSpecs, value: Params, prefix: string, out: string[]): void {
  for (const [key, child] of Object.entries(value)) {
    const name = prefix === '' ? key : `${prefix}[${key}]`;
    const childSpec = Object.hasOwn(spec, key) ? spec[key] : undefined;
    if (childSpec === undefined) out.push(name);
    else if (typeof childSpec === 'object' && isHash(child)) collect(childSpec, child, name, out);
  }
}

function isHash(value: ParamValue): value is Params {
  return typeof value === 'object' && !Array.isArray(value);
}
