import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { operatorGate, reconcileRunningInWords } from '../src/operator/view';
import { WhoamiFailed } from '../src/operator/WhoamiFailed';
import { answer } from './fixtures';

const OPERATOR = ['orders:read', 'operations:read'];

describe('the operator page while whoami is asked', () => {
  it('loading until it answers; its scopes then decide; a failure is an error, not Loading… for good', () => {
    expect(operatorGate({ scopes: undefined, failed: false })).toBe('loading');
    expect(operatorGate({ scopes: undefined, failed: true })).toBe('error');
    expect(operatorGate({ scopes: OPERATOR, failed: false })).toBe('page');
    expect(operatorGate({ scopes: ['orders:read'], failed: false })).toBe('not-found');
    // A refetch that failed after an answer: the known scopes still stand.
    expect(operatorGate({ scopes: OPERATOR, failed: true })).toBe('page');
  });

  it('the failure shows the error (ErrorMessage, announced) and a retry that asks again', () => {
    let asked = 0;
    const whoami = {
      isError: true,
      error: answer('INTERNAL_SERVER_ERROR', null, 500),
      isFetching: false,
      refetch: () => asked++,
    };
    const html = renderToStaticMarkup(createElement(WhoamiFailed, { whoami }));
    expect(html).toContain('<p role="alert" class="error">Something went wrong on our side.');
    expect(html).toContain('<button type="button">Try again</button>');
    expect(html).not.toContain('Loading');
    // The button's handler is the query's refetch.
    const element = WhoamiFailed({ whoami });
    const button = (element.props.children as { type: string; props: { onClick: () => void } }[]).find(
      (child) => child?.type === 'button',
    );
    button!.props.onClick();
    expect(asked).toBe(1);
    const retrying = renderToStaticMarkup(
      createElement(WhoamiFailed, { whoami: { ...whoami, isFetching: true } }),
    );
    expect(retrying).toContain('<button type="button" disabled="">Trying again…</button>');
  });
});

describe('Reconcile now meeting a run still going', () => {
  it('RECONCILIATION_RUNNING is said as such; other errors are left to ErrorMessage', () => {
    expect(reconcileRunningInWords(answer('CONFLICT', 'RECONCILIATION_RUNNING', 409))).toMatch(
      /already running on the server; nothing new was started/,
    );
    expect(reconcileRunningInWords(answer('CONFLICT', 'IDEMPOTENCY_KEY_IN_USE', 409))).toBeUndefined();
    expect(reconcileRunningInWords(new Error('network'))).toBeUndefined();
  });
});
