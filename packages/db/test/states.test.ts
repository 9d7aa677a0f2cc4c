import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import {
  ATTEMPT_STATUSES,
  ATTEMPT_TRANSITIONS,
  attemptStatus,
  CLAIM,
  canTransition,
  IN_FLIGHT_ATTEMPT_STATUSES,
  IN_FLIGHT_ORDER_STATUSES,
  MOVES,
  ORDER_STATUSES,
  ORDER_TRANSITIONS,
  orderStatus,
  SETTLE,
  status,
  statusIn,
} from '../src/states';

describe('the state machines', () => {
  it('cover exactly the database enums', () => {
    expect(Object.keys(ORDER_TRANSITIONS).sort()).toEqual([...orderStatus.enumValues].sort());
    expect(Object.keys(ATTEMPT_TRANSITIONS).sort()).toEqual([...attemptStatus.enumValues].sort());
  });

  it('allow every move a statement makes', () => {
    for (const move of MOVES) {
      for (const from of move.order.from) {
        expect(
          canTransition(ORDER_TRANSITIONS, from, move.order.to),
          `order ${from} -> ${move.order.to}`,
        ).toBe(true);
      }
      for (const from of move.attempt.from) {
        expect(
          canTransition(ATTEMPT_TRANSITIONS, from, move.attempt.to),
          `attempt ${from} -> ${move.attempt.to}`,
        ).toBe(true);
      }
    }
    // A new attempt is inserted in the state nothing else moves into.
    expect(CLAIM.attempt.from).toEqual([]);
    for (const next of Object.values(ATTEMPT_TRANSITIONS)) expect(next).not.toContain(CLAIM.attempt.to);
  });

  it('leave no in-flight state that no statement can leave (requires_action settles)', () => {
    const left = {
      order: new Set(MOVES.flatMap((m) => m.order.from)),
      attempt: new Set(MOVES.flatMap((m) => m.attempt.from)),
    };
    for (const s of IN_FLIGHT_ORDER_STATUSES) expect(left.order.has(s), `order ${s}`).toBe(true);
    for (const s of IN_FLIGHT_ATTEMPT_STATUSES) expect(left.attempt.has(s), `attempt ${s}`).toBe(true);
    // Every state a move enters is either in flight (left above), final, or payable again.
    for (const move of MOVES) {
      const to = move.order.to;
      expect(IN_FLIGHT_ORDER_STATUSES.includes(to) || left.order.has(to) || to === 'paid', to).toBe(true);
    }
    expect(SETTLE.succeeded.order.from).toContain('requires_action');
    expect(SETTLE.failed.attempt.from).toContain('requires_action');
  });

  it('render statuses as SQL literals and refuse anything else', () => {
    expect(() => status('shipped' as never)).toThrow(/not a status/);
    expect(() => status("paid' or '1'='1" as never)).toThrow(/not a status/);
  });

  it('statusIn over an empty set matches nothing', () => {
    // `in ()` is a syntax error in PostgreSQL; the empty set must still be valid SQL.
    expect(new PgDialect().sqlToQuery(statusIn(sql`status`, [])).sql).toBe('false');
    expect(new PgDialect().sqlToQuery(statusIn(sql`status`, CLAIM.order.from)).sql).toBe(
      "status in ('pending', 'failed')",
    );
  });
});

/**
 * The SQL text of a TypeScript source: the literal parts of its template strings (the `${...}`
 * expressions removed, since those are TypeScript, not SQL), with comments and other strings
 * skipped.
 */
function templateTexts(source: string): string[] {
  const texts: string[] = [];
  let i = 0;
  const stack: Array<'code' | 'template'> = ['code'];
  const braces: number[] = [];
  let current = '';
  while (i < source.length) {
    const c = source[i] as string;
    const next = source[i + 1];
    const mode = stack[stack.length - 1];
    if (mode === 'template') {
      if (c === '\\') {
        current += source.slice(i, i + 2);
        i += 2;
      } else if (c === '`') {
        texts.push(current);
        current = '';
        stack.pop();
        i++;
      } else if (c === '$' && next === '{') {
        current += ' ';
        stack.push('code');
        braces.push(0);
        i += 2;
      } else {
        current += c;
        i++;
      }
      continue;
    }
    if (c === '/' && next === '/') {
      i = source.indexOf('\n', i);
      if (i < 0) break;
    } else if (c === '/' && next === '*') {
      i = source.indexOf('*/', i + 2) + 2;
      if (i < 2) break;
    } else if (c === "'" || c === '"') {
      i++;
      while (i < source.length && source[i] !== c) i += source[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '`') {
      stack.push('template');
      i++;
    } else if (c === '{' && braces.length) {
      braces[braces.length - 1]!++;
      i++;
    } else if (c === '}' && braces.length) {
      if (braces[braces.length - 1] === 0) {
        braces.pop();
        stack.pop();
      } else braces[braces.length - 1]!--;
      i++;
    } else i++;
  }
  return texts;
}

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const SKIP = new Set(['node_modules', '.git', 'drizzle', 'dist', '.data', '.turbo', 'test-results']);
const STATE_MODULE = path.join(REPO, 'packages/db/src/states.ts');
const THIS_FILE = fileURLToPath(import.meta.url);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|tsx)$/.test(name) ? [full] : [];
  });
}

const STATUS_LITERAL = new RegExp(`'(${[...new Set([...ORDER_STATUSES, ...ATTEMPT_STATUSES])].join('|')})'`);
const LOOKS_LIKE_SQL = /\b(select|update|insert|delete|where|returning)\b/i;

describe('status literals in SQL', () => {
  it('the scanner finds a literal inside SQL and ignores the TypeScript interpolated into it', () => {
    const texts = templateTexts(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template, on purpose
      "const a = sql`update orders set status = 'paid'`; const b = sql`select ${status('paid')}`; // `'paid'`",
    );
    expect(texts.filter((t) => LOOKS_LIKE_SQL.test(t) && STATUS_LITERAL.test(t))).toEqual([
      "update orders set status = 'paid'",
    ]);
  });

  it('appear nowhere outside the state-machine module', () => {
    const offenders: string[] = [];
    const files = sourceFiles(REPO).filter((f) => f !== STATE_MODULE && f !== THIS_FILE);
    expect(files.length).toBeGreaterThan(50);
    for (const file of files) {
      for (const text of templateTexts(readFileSync(file, 'utf8'))) {
        if (LOOKS_LIKE_SQL.test(text) && STATUS_LITERAL.test(text)) {
          offenders.push(`${path.relative(REPO, file)}: ${text.trim().replace(/\s+/g, ' ').slice(0, 120)}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
