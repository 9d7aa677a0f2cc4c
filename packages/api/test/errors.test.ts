import { DomainError } from '@chargeonce/payments';
import { describe, expect, it } from 'vitest';
import { bearerToken } from '../src/auth';
import { DOMAIN_ERROR_TO_TRPC, domainToTRPCError } from '../src/errors';

describe('domain error mapping', () => {
  it('maps domain errors to their tRPC codes and keeps the cause', () => {
    const err = new DomainError({
      code: 'PAYMENT_DECLINED',
      orderId: 'o',
      declineCode: 'insufficient_funds',
      providerMessage: 'Your card has insufficient funds.',
    });
    const mapped = domainToTRPCError(err);
    expect(mapped?.code).toBe('PAYMENT_REQUIRED');
    expect(mapped?.cause).toBe(err);
    expect(mapped?.message).toMatch(/insufficient_funds/);
  });
  it('leaves other errors alone', () => {
    expect(domainToTRPCError(new Error('x'))).toBeUndefined();
  });
  it('uses the conventional codes', () => {
    expect(DOMAIN_ERROR_TO_TRPC).toMatchObject({
      ORDER_NOT_FOUND: 'NOT_FOUND',
      PAYMENT_DECLINED: 'PAYMENT_REQUIRED',
      PROVIDER_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
      ORDER_NOT_PAYABLE: 'CONFLICT',
    });
  });
});

describe('bearerToken', () => {
  it('parses Authorization: Bearer', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeNull();
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });
});
