import { describe, expect, it } from 'vitest';
import { failureError } from '../src/outcome';
import { PROVIDER_UNAVAILABLE_CODE } from '../src/settle';

/** The caller's error for a failed attempt, from what was recorded of it (a stored row may lack codes). */
describe('failureError', () => {
  it('a decline code is a decline; our credentials refused is PROVIDER_UNAVAILABLE; else a rejection with its code', () => {
    expect(
      failureError('o1', { errorCode: 'card_declined', declineCode: 'insufficient_funds' }, 'No funds.'),
    ).toMatchObject({
      code: 'PAYMENT_DECLINED',
      details: { orderId: 'o1', declineCode: 'insufficient_funds', providerMessage: 'No funds.' },
    });
    expect(failureError('o1', { errorCode: PROVIDER_UNAVAILABLE_CODE, declineCode: null })).toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      details: { orderId: 'o1' },
    });
    expect(
      failureError('o1', { errorCode: 'amount_too_small', declineCode: null }, 'Too small.'),
    ).toMatchObject({
      code: 'PAYMENT_REJECTED',
      details: { providerCode: 'amount_too_small', providerMessage: 'Too small.' },
    });
    // Recorded without any code: still a rejection, saying it is not known why.
    expect(failureError('o1', { errorCode: null, declineCode: null })).toMatchObject({
      code: 'PAYMENT_REJECTED',
      details: { providerCode: 'unknown', providerMessage: '' },
    });
  });
});
