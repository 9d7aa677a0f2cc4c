/**
 * What a start-up opened, closed in reverse order. Every cleanup runs even if one fails; the first
 * failure is reported.
 */
export class Resources {
  private readonly cleanups: Array<() => Promise<void>> = [];

  add(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  async closeAll(): Promise<void> {
    let first: unknown;
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      await cleanup().catch((err: unknown) => {
        first ??= err;
      });
    }
    if (first) throw first;
  }
}
