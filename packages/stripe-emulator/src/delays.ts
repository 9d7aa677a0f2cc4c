import type { ServerResponse } from 'node:http';

/**
 * Abortable waits: `close()` cancels every pending one (they resolve `false`) so in-flight slow or
 * hanging requests never hold the process, and a request cut short by close never executes.
 */
export class Delays {
  private pending = new Set<() => void>();
  private closed = false;

  wait(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return this.track((done) => {
      const timer = setTimeout(() => done(true), ms);
      return () => clearTimeout(timer);
    });
  }

  /** Resolves `true` once the client has gone away (the response's connection closed). */
  untilClientGone(res: ServerResponse): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (res.destroyed || res.closed) return Promise.resolve(true);
    return this.track((done) => {
      const onClose = () => done(true);
      res.once('close', onClose);
      return () => res.off('close', onClose);
    });
  }

  abortAll(): void {
    this.closed = true;
    for (const abort of [...this.pending]) abort();
  }

  private track(start: (done: (completed: boolean) => void) => () => void): Promise<boolean> {
    return new Promise((resolve) => {
      let cleanup: () => void = () => {};
      const finish = (completed: boolean) => {
        if (!this.pending.delete(abort)) return;
        cleanup();
        resolve(completed);
      };
      const abort = () => finish(false);
      this.pending.add(abort);
      cleanup = start(finish);
    });
  }
}
