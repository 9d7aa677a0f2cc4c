import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import {
  ATTEMPT_STATUSES,
  ATTEMPT_TRANSITIONS,
  AUTHORIZATION_REOPEN,
  AUTHORIZATION_SETTLE,
  AUTHORIZED_STATUSES,
  attemptStatus,
  CANCEL,
  CAPTURE_START,
  CAPTURE_TRANSITIONS,
  CLAIM,
  canTransition,
  captureStatus,
  IN_FLIGHT_ATTEMPT_STATUSES,
  IN_FLIGHT_ORDER_STATUSES,
  MOVES,
  ORDER_STATUSES,
  ORDER_TRANSITIONS,
  orderStatus,
  REFUND_REVERSAL,
  REFUND_SETTLE,
  REFUND_TRANSITIONS,
  REFUNDABLE_STATUSES,
  REFUNDED_STATUS,
  refundStatus,
  SETTLE,
  status,
  statusIn,
  VOID_START,
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
    // Every state a move enters is either in flight (left above), final (paid, canceled), or left
    // by a move (payable again, authorized).
    for (const move of MOVES) {
      const to = move.order.to;
      const final = to === 'paid' || to === 'canceled';
      expect(IN_FLIGHT_ORDER_STATUSES.includes(to) || left.order.has(to) || final, to).toBe(true);
    }
    expect(SETTLE.succeeded.order.from).toContain('requires_action');
    expect(SETTLE.failed.attempt.from).toContain('requires_action');
  });

  it('leave no authorization open that no statement can settle, and allow its moves', () => {
    const orderMoves = [CAPTURE_START, VOID_START, AUTHORIZATION_REOPEN];
    for (const move of orderMoves) {
      for (const from of move.from) {
        expect(canTransition(ORDER_TRANSITIONS, from, move.to), `order ${from} -> ${move.to}`).toBe(true);
      }
    }
    const leftByOrderMoves = new Set([
      ...orderMoves.flatMap((m) => m.from),
      ...MOVES.flatMap((m) => m.order.from),
    ]);
    for (const s of AUTHORIZED_STATUSES) expect(leftByOrderMoves.has(s), `order ${s}`).toBe(true);
    // A capture or a void ends the hold either way; a lapse makes the order payable again.
    expect(AUTHORIZATION_SETTLE.captured.order.from).toEqual(
      expect.arrayContaining([...AUTHORIZED_STATUSES]),
    );
    expect(AUTHORIZATION_SETTLE.lapsed.order.to).toBe(CLAIM.order.from[1]);
    expect(MOVES.flatMap((m) => m.attempt.from)).toContain('authorized');
    expect(SETTLE.authorized.attempt.from).toContain('requires_action');
    expect(Object.keys(CAPTURE_TRANSITIONS).sort()).toEqual([...captureStatus.enumValues].sort());
  });

  it('allow the moves of cancel and refunds, and a refunded amount moves a paid order only among its own', () => {
    expect(Object.keys(REFUND_TRANSITIONS).sort()).toEqual([...refundStatus.enumValues].sort());
    for (const from of CANCEL.from)
      expect(canTransition(ORDER_TRANSITIONS, from, CANCEL.to), from).toBe(true);
    for (const move of [...Object.values(REFUND_SETTLE), REFUND_REVERSAL]) {
      for (const from of move.from) {
        expect(canTransition(REFUND_TRANSITIONS, from, move.to), `refund ${from} -> ${move.to}`).toBe(true);
      }
    }
    // A reservation moves a refundable order to any status the refunded amount picks; a release
    // moves a partly or fully refunded one back down.
    const targets = Object.values(REFUNDED_STATUS);
    for (const from of REFUNDABLE_STATUSES) {
      for (const to of targets.filter((t) => t !== 'paid')) {
        expect(canTransition(ORDER_TRANSITIONS, from, to), `${from} -> ${to}`).toBe(true);
      }
    }
    for (const from of ['partially_refunded', 'refunded'] as const) {
      for (const to of targets.filter((t) => t !== from && t !== 'refunded')) {
        expect(canTransition(ORDER_TRANSITIONS, from, to), `${from} -> ${to}`).toBe(true);
      }
    }
    // Canceled is final: nothing claims or refunds it.
    expect(ORDER_TRANSITIONS.canceled).toEqual([]);
    expect(CLAIM.order.from).not.toContain('canceled');
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
 * Every string in a TypeScript source as the compiler reads it: string literals and the literal
 * parts of template strings (the `${...}` TypeScript in between is not text), whatever comments,
 * regular expressions or nesting surround them.
 */
function stringTexts(source: ts.SourceFile): string[] {
  const texts: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) texts.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return texts;
}

/** `.set({ status: 'paid' })`: a status written by a query builder without the state machine. */
function builderStatusWrites(source: ts.SourceFile): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'set'
    ) {
      for (const arg of node.arguments) {
        if (!ts.isObjectLiteralExpression(arg)) continue;
        for (const prop of arg.properties) {
          if (
            ts.isPropertyAssignment(prop) &&
            prop.name.getText(source) === 'status' &&
            ts.isStringLiteral(prop.initializer)
          ) {
            found.push(`.set({ status: '${prop.initializer.text}' })`);
          }
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
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
    return /\.(ts|tsx|js|mjs|cjs|sql)$/.test(name) ? [full] : [];
  });
}
const parse = (file: string, text: string) =>
  ts.createSourceFile(
    file,
    text,
    ts.ScriptTarget.Latest,
    true,
    file.endsWith('x') ? ts.ScriptKind.TSX : undefined,
  );

const STATUS_LITERAL = new RegExp(`'(${[...new Set([...ORDER_STATUSES, ...ATTEMPT_STATUSES])].join('|')})'`);
const isProductSource = (file: string) => /^(apps|packages)\/[^/]+\/src\//.test(path.relative(REPO, file));

/** The places in one file where a status is spelled out in SQL (or written by a builder) by hand. */
function offendersIn(file: string, text: string): string[] {
  if (file.endsWith('.sql')) return STATUS_LITERAL.test(text) ? ['a status literal in SQL'] : [];
  const source = parse(file, text);
  const inStrings = stringTexts(source)
    .filter((t) => STATUS_LITERAL.test(t))
    .map((t) => t.trim().replace(/\s+/g, ' ').slice(0, 120));
  return [...inStrings, ...(isProductSource(file) ? builderStatusWrites(source) : [])];
}

describe('status literals in SQL', () => {
  it('the scan finds them in any string or template shape and ignores the TypeScript interpolated', () => {
    const sample = [
      "const a = sql`update orders set status = 'paid'`;",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template, on purpose
      "const b = db.select().from(orders).where(sql`${orders.status} = 'failed'`);",
      `const c = sql.raw("status in ('pending')");`,
      "const d = /'/g; const e = sql`x = 'refunded'`;",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the source text of a template, on purpose
      "const f = sql`select ${status('paid')}`; // `'canceled'` in a comment is no SQL",
      "db.update(orders).set({ status: 'processing', version: 2 });",
    ].join('\n');
    expect(offendersIn(path.join(REPO, 'packages/x/src/sample.ts'), sample)).toEqual([
      "update orders set status = 'paid'",
      "= 'failed'",
      "status in ('pending')",
      "x = 'refunded'",
      ".set({ status: 'processing' })",
    ]);
  });

  it('appear nowhere outside the state-machine module', () => {
    // The emulator speaks Stripe's PaymentIntent statuses (`status:'succeeded'` in a search query),
    // not ours, and never touches the database.
    const emulator = path.join(REPO, 'packages/stripe-emulator') + path.sep;
    const files = sourceFiles(REPO).filter(
      (f) => f !== STATE_MODULE && f !== THIS_FILE && !f.startsWith(emulator),
    );
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.flatMap((file) =>
      offendersIn(file, readFileSync(file, 'utf8')).map((o) => `${path.relative(REPO, file)}: ${o}`),
    );
    expect(offenders).toEqual([]);
  });
});
