import { connect, type Socket } from 'node:net';

/** Raw HTTP/1.1 over a TCP socket, for what fetch hides: dribbled headers, unsent bodies, pipelining, closes. */
export interface RawSocket {
  readonly socket: Socket;
  /** Everything the server has sent so far. */
  received(): string;
  /** Resolves when the server has sent a whole answer (headers and Content-Length bytes) after `from` bytes. */
  response(withinMs: number, from?: number): Promise<RawResponse>;
  /** Resolves with true once the connection is closed, false if it is still open after `withinMs`. */
  closedWithin(withinMs: number): Promise<boolean>;
  readonly closed: boolean;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Offset in received() just past this answer. */
  readonly end: number;
}

export async function openRaw(url: string): Promise<RawSocket> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let data = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
  socket.on('error', () => undefined); // a reset by the server is what some tests wait for; `closed` reports it
  socket.on('close', () => (closed = true));
  const until = <T>(withinMs: number, check: () => T | undefined): Promise<T | undefined> =>
    new Promise((resolve) => {
      const started = Date.now();
      const poll = (): void => {
        const value = check();
        if (value !== undefined || Date.now() - started >= withinMs) resolve(value);
        else setTimeout(poll, 10);
      };
      poll();
    });
  return {
    socket,
    received: () => data,
    get closed() {
      return closed;
    },
    async response(withinMs, from = 0) {
      const parsed = await until(withinMs, () => parseResponse(data, from));
      if (!parsed) throw new Error(`no complete answer within ${withinMs} ms (received: ${JSON.stringify(data.slice(from, from + 300))}, closed: ${closed})`);
      return parsed;
    },
    async closedWithin(withinMs) {
      return (await until(withinMs, () => (closed ? true : undefined))) ?? false;
    },
  };
}

function parseResponse(data: string, from: number): RawResponse | undefined {
  const headEnd = data.indexOf('\r\n\r\n', from);
  if (headEnd < 0) return undefined;
  const [statusLine, ...lines] = data.slice(from, headEnd).split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  const length = Number(headers['content-length'] ?? 0);
  if (data.length < headEnd + 4 + length) return undefined;
  return { status: Number(statusLine!.split(' ')[1]), headers, body: data.slice(headEnd + 4, headEnd + 4 + length), end: headEnd + 4 + length };
}
