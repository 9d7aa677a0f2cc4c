import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A test-only HTTP proxy in front of a server that loses answers: it forwards each request, waits
 * for the server's whole answer, and then, when `drop` says so, closes the caller's connection
 * instead of passing the answer on. The server did the work; the caller cannot know. This is the
 * timeout-after-success a retrying caller must survive.
 */
export interface DropProxy {
  url: string;
  /** Requests forwarded, and answers dropped, so far. */
  forwarded: number;
  dropped: number;
  close(): Promise<void>;
}

export async function startDropProxy(
  upstream: string,
  drop: (request: { n: number; method: string; path: string }) => boolean,
): Promise<DropProxy> {
  const state = { forwarded: 0, dropped: 0 };
  const server = createServer(async (req, res) => {
    const n = ++state.forwarded;
    const body = await readBody(req);
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== 'host',
      ),
    );
    let answer: Response;
    try {
      answer = await fetch(`${upstream}${req.url}`, {
        method: req.method ?? 'GET',
        headers,
        ...(body.length > 0 ? { body } : {}),
      });
    } catch {
      res.socket?.destroy();
      return;
    }
    const text = Buffer.from(await answer.arrayBuffer());
    if (drop({ n, method: req.method ?? 'GET', path: req.url ?? '' })) {
      state.dropped++;
      res.socket?.destroy();
      return;
    }
    const passOn = [...answer.headers].filter(
      ([k]) => !['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k),
    );
    res.writeHead(answer.status, Object.fromEntries(passOn));
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get forwarded() {
      return state.forwarded;
    },
    get dropped() {
      return state.dropped;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
