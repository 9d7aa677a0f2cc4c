import { describe, expect, it } from 'vitest';
import { settleWhenBack } from '../src/idempotency';

const unavailable = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

/** A clock and a scheduler the test drives: each scheduled run happens when the test says. */
function fakeTime() {
  let t = 0;
  const queue: { at: number; run: () => void }[] = [];
  return {
    now: () => t,
    schedule: (run: () => void, ms: number) => queue.push({ at: t + ms, run }),
    async next(): Promise<number | undefined> {
      queue.sort((a, b) => a.at - b.at);
      const due = queue.shift();
      if (!due) return undefined;
      t = due.at;
      due.run();
      await new Promise((resolve) => setImmediate(resolve));
      return t;
    },
  };
}

describe('settleWhenBack (an idempotency key left held by a database outage)', () => {
  it('repeats the settle, backing off, until the database is back; then stops', async () => {
    const time = fakeTime();
    let calls = 0;
    const once = async () => {
      calls++;
      if (calls < 4) throw unavailable();
      return true;
    };
    settleWhenBack(once, { withinMs: 120_000, now: time.now, schedule: time.schedule });
    const at: number[] = [];
    for (let t = await time.next(); t !== undefined; t = await time.next()) at.push(t);
    expect(calls).toBe(4);
    expect(at).toEqual([250, 750, 1_750, 3_750]);
  });

  it('gives up at the lease (the key is anyone’s then) and on an error that is not an outage', async () => {
    const time = fakeTime();
    let calls = 0;
    settleWhenBack(
      async () => {
        calls++;
        throw unavailable();
      },
      { withinMs: 10_000, now: time.now, schedule: time.schedule },
    );
    while ((await time.next()) !== undefined) {}
    expect(time.now()).toBeLessThanOrEqual(10_000);
    expect(calls).toBe(5); // 250, 750, 1 750, 3 750, 7 750
    const other = fakeTime();
    let bugs = 0;
    settleWhenBack(
      async () => {
        bugs++;
        throw new Error('a bug');
      },
      { withinMs: 120_000, now: other.now, schedule: other.schedule },
    );
    while ((await other.next()) !== undefined) {}
    expect(bugs).toBe(1);
  });

  it('still tries at the very millisecond the lease ends, and not after', async () => {
    const time = fakeTime();
    let calls = 0;
    settleWhenBack(
      async () => {
        calls++;
        throw unavailable();
      },
      { withinMs: 3_750, now: time.now, schedule: time.schedule },
    );
    const at: number[] = [];
    for (let t = await time.next(); t !== undefined; t = await time.next()) at.push(t);
    expect(at).toEqual([250, 750, 1_750, 3_750]);
    expect(calls).toBe(4);
  });
});
