import { PassThrough } from 'node:stream';

/** A pino destination that keeps every JSON line written to it, for tests that read a server's logs. */
export function captureLogs() {
  const stream = new PassThrough();
  stream.setEncoding('utf8');
  const lines: string[] = [];
  let buffered = '';
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  });
  return {
    stream,
    /** Every complete line so far, as written. */
    lines,
    /** Every complete line so far, parsed. */
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
