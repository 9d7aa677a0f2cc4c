import { fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { awaitInterruptedRuns } from './fuzz-support';

describe('awaitInterruptedRuns', () => {
  const tracked = awaitInterruptedRuns();
  let runs = 0;
  let ended = false;

  it('fast-check returns at its time limit while the run it cut off goes on', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        tracked(async () => {
          // The first run passes at once (a property cut off before any run passes fails); the
          // second is a call slower than the limit.
          if (++runs === 1) return;
          await new Promise((resolve) => setTimeout(resolve, 300));
          ended = true;
        }),
      ),
      { numRuns: 5, interruptAfterTimeLimit: 50 },
    );
    expect(runs).toBe(2);
    expect(ended).toBe(false);
  });

  it('and that run has ended before the next test starts', () => {
    expect(ended).toBe(true);
  });
});
