import { invalidRequest } from './errors';
import type { PaymentIntentObject } from './types';

/**
 * A subset of Stripe's search query language (https://docs.stripe.com/search#search-query-language) for
 * PaymentIntents: clauses `field:value`, numeric comparisons (`amount>1000`, `created<=1700000000`),
 * `metadata['key']:'value'`, `~` substring on string fields, `-` negation, `null` values, joined by
 * whitespace/`AND` or by `OR` (never both, at most 10 clauses).
 */

type Operator = ':' | '~' | '>' | '<' | '>=' | '<=';

interface Clause {
  negated: boolean;
  field: string;
  metadataKey: string | null;
  operator: Operator;
  /** null for the unquoted `null` literal. */
  value: string | null;
}

export interface SearchQuery {
  combinator: 'AND' | 'OR';
  clauses: Clause[];
}

const FIELD_KINDS: Record<string, 'numeric' | 'token' | 'string'> = {
  amount: 'numeric',
  created: 'numeric',
  currency: 'token',
  customer: 'string',
  status: 'token',
  metadata: 'string',
};

const MAX_CLAUSES = 10;

function malformed(detail: string) {
  return invalidRequest(
    `We were unable to parse your search query (${detail}). Try using the format \`metadata['key']:'value'\` to query for metadata or \`field:'value'\` to query for other fields.`,
    { param: 'query' },
  );
}

export function parseSearchQuery(query: string): SearchQuery {
  const clauses: Clause[] = [];
  const connectors = new Set<'AND' | 'OR'>();
  let pos = 0;
  const skipSpace = () => {
    while (pos < query.length && /\s/.test(query[pos] as string)) pos++;
  };

  skipSpace();
  if (pos >= query.length) throw malformed('the query is empty');
  while (pos < query.length) {
    if (clauses.length > 0) {
      const connector = /^(AND|OR)(?=\s)/i.exec(query.slice(pos));
      if (connector) {
        connectors.add((connector[1] as string).toUpperCase() as 'AND' | 'OR');
        pos += connector[0].length;
        skipSpace();
        if (pos >= query.length) throw malformed(`it ends with ${connector[1]}`);
      }
    }
    const negated = query[pos] === '-';
    if (negated) pos++;
    const fieldMatch = /^[a-z_][a-z0-9_.]*/i.exec(query.slice(pos));
    if (!fieldMatch) throw malformed(`unexpected input at position ${pos}`);
    const field = fieldMatch[0];
    pos += field.length;
    let metadataKey: string | null = null;
    if (query[pos] === '[') {
      pos++;
      const key = readQuoted();
      if (key === null || query[pos] !== ']') throw malformed(`expected ['key'] after ${field}`);
      pos++;
      metadataKey = key;
    }
    const opMatch = /^(>=|<=|:|~|>|<)/.exec(query.slice(pos));
    if (!opMatch) throw malformed(`expected an operator after ${field}`);
    const operator = opMatch[1] as Operator;
    pos += operator.length;
    let value = readQuoted();
    if (value === null) {
      const bare = /^[^\s'"]+/.exec(query.slice(pos));
      if (!bare) throw malformed(`expected a value for ${field}`);
      pos += bare[0].length;
      value = bare[0] === 'null' ? null : bare[0];
    }
    clauses.push(validateClause({ negated, field, metadataKey, operator, value }));
    if (pos < query.length && !/\s/.test(query[pos] as string))
      throw malformed(`unexpected input at position ${pos}`);
    skipSpace();
  }
  if (connectors.size > 1) {
    throw invalidRequest('Search queries cannot combine AND and OR.', { param: 'query' });
  }
  if (clauses.length > MAX_CLAUSES) {
    throw invalidRequest(`Search queries can contain at most ${MAX_CLAUSES} clauses.`, { param: 'query' });
  }
  return { combinator: connectors.has('OR') ? 'OR' : 'AND', clauses };

  function readQuoted(): string | null {
    const quote = query[pos];
    if (quote !== "'" && quote !== '"') return null;
    let out = '';
    for (let i = pos + 1; i < query.length; i++) {
      const ch = query[i] as string;
      if (ch === '\\' && i + 1 < query.length) {
        out += query[++i];
      } else if (ch === quote) {
        pos = i + 1;
        return out;
      } else {
        out += ch;
      }
    }
    throw malformed('unterminated quoted string');
  }
}

function validateClause(clause: Clause): Clause {
  const kind = FIELD_KINDS[clause.field];
  if (kind === undefined || (clause.field === 'metadata') !== (clause.metadataKey !== null)) {
    const name = clause.metadataKey === null ? clause.field : `${clause.field}['${clause.metadataKey}']`;
    throw invalidRequest(
      `Field \`${name}\` is an unsupported search field for resource \`payment_intents\`. See http://stripe.com/docs/search#query-fields-for-payment-intents for a list of supported fields.`,
      { param: 'query' },
    );
  }
  const comparison = clause.operator !== ':' && clause.operator !== '~';
  if (kind === 'numeric') {
    if (clause.operator === '~')
      throw invalidRequest(`Field \`${clause.field}\` does not support substring matching.`, {
        param: 'query',
      });
    if (clause.value === null || !/^-?\d+$/.test(clause.value)) {
      throw invalidRequest(`Field \`${clause.field}\` requires an integer value.`, { param: 'query' });
    }
  } else if (comparison) {
    throw invalidRequest(`Field \`${clause.field}\` does not support the ${clause.operator} operator.`, {
      param: 'query',
    });
  } else if (clause.operator === '~') {
    if (kind !== 'string') {
      throw invalidRequest(`Field \`${clause.field}\` does not support substring matching.`, {
        param: 'query',
      });
    }
    if (clause.value === null || clause.value.length < 3) {
      throw invalidRequest('Substring matching requires a value of at least 3 characters.', {
        param: 'query',
      });
    }
  }
  return clause;
}

export function matchesQuery(pi: PaymentIntentObject, query: SearchQuery): boolean {
  const results = query.clauses.map((clause) => matchesClause(pi, clause) !== clause.negated);
  return query.combinator === 'AND' ? results.every(Boolean) : results.some(Boolean);
}

function matchesClause(pi: PaymentIntentObject, clause: Clause): boolean {
  if (clause.field === 'amount' || clause.field === 'created') {
    const actual = pi[clause.field];
    const expected = Number(clause.value);
    switch (clause.operator) {
      case '>':
        return actual > expected;
      case '<':
        return actual < expected;
      case '>=':
        return actual >= expected;
      case '<=':
        return actual <= expected;
      default:
        return actual === expected;
    }
  }
  let actual: string | null;
  if (clause.field === 'metadata') {
    const key = clause.metadataKey as string;
    actual = Object.hasOwn(pi.metadata, key) ? (pi.metadata[key] as string) : null;
  } else if (clause.field === 'currency') {
    actual = pi.currency;
  } else if (clause.field === 'status') {
    actual = pi.status;
  } else {
    actual = pi.customer;
  }
  if (clause.value === null) return actual === null;
  if (actual === null) return false;
  if (clause.operator === '~') return actual.toLowerCase().includes(clause.value.toLowerCase());
  return clause.field === 'currency' ? actual === clause.value.toLowerCase() : actual === clause.value;
}
