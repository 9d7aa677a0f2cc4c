import { describe, expect, it } from 'vitest';
import { redactKey } from '../src/errors';
import { asArray, canonicalJson, decodeForm, FormDecodeError } from '../src/form';
import { parseSearchQuery } from '../src/search';

describe('decodeForm', () => {
  it('decodes Stripe bracket nesting', () => {
    const params = decodeForm(
      'amount=100&metadata[order_id]=ord%201&metadata[note]=a+b&payment_method_types[0]=card&payment_method_types[1]=link&expand[]=latest_charge&expand[]=customer&created[gte]=5',
    );
    expect(params).toEqual({
      amount: '100',
      metadata: { order_id: 'ord 1', note: 'a b' },
      payment_method_types: { 0: 'card', 1: 'link' },
      expand: ['latest_charge', 'customer'],
      created: { gte: '5' },
    });
    expect(asArray(params.payment_method_types)).toEqual(['card', 'link']);
    expect(asArray(params.expand)).toEqual(['latest_charge', 'customer']);
    expect(asArray(params.metadata)).toBeUndefined();
  });

  it('accepts percent-encoded brackets', () => {
    expect(decodeForm('metadata%5Bk%5D=v')).toEqual({ metadata: { k: 'v' } });
  });

  it.each(['a[b=1', 'a]=1', '[a]=1', 'a[b]c=1', 'a[][b]=1', 'a=1&a[b]=2', 'a[b]=1&a=2', 'a[]=1&a[b]=2'])(
    'rejects malformed or conflicting %s',
    (input) => {
      expect(() => decodeForm(input)).toThrow(FormDecodeError);
    },
  );

  it('orders keys canonically for idempotency comparison', () => {
    expect(canonicalJson(decodeForm('b=1&a[y]=2&a[x]=3'))).toBe(
      canonicalJson(decodeForm('a[x]=3&b=1&a[y]=2')),
    );
    expect(canonicalJson(decodeForm('e[]=1&e[]=2'))).not.toBe(canonicalJson(decodeForm('e[]=2&e[]=1')));
  });
});

describe('parseSearchQuery', () => {
  it('parses clauses, connectors, negation and quoting', () => {
    expect(parseSearchQuery(`metadata['k']:'v' and -status:"canceled" AND amount>=10`)).toEqual({
      combinator: 'AND',
      clauses: [
        { negated: false, field: 'metadata', metadataKey: 'k', operator: ':', value: 'v' },
        { negated: true, field: 'status', metadataKey: null, operator: ':', value: 'canceled' },
        { negated: false, field: 'amount', metadataKey: null, operator: '>=', value: '10' },
      ],
    });
    expect(parseSearchQuery(`customer~'cus' OR currency:usd`).combinator).toBe('OR');
    expect(parseSearchQuery(`metadata['k']:'it\\'s'`).clauses[0]?.value).toBe("it's");
  });

  it.each([
    '',
    '   ',
    'amount',
    'amount:',
    "status:'a' AND",
    'foo:1',
    'metadata:1',
    "metadata['k']>'1'",
    'amount~100',
  ])('rejects %j', (query) => {
    expect(() => parseSearchQuery(query)).toThrow();
  });
});

describe('redactKey', () => {
  it('never reveals the secret part of a key', () => {
    expect(redactKey('sk_live_abc')).toBe('sk_live_***');
    const long = 'sk_test_51HxYzAbCdEfGhIjKlMnOpQrStUv';
    expect(redactKey(long)).toMatch(/^sk_test_\*+StUv$/);
    expect(redactKey('hunter2')).toBe('***');
  });
});
