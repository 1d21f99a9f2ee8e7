import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { HecAnswer } from './retry-policy.js';

/**
 * The wire: POSTs to the collector with the token, the request channel (a GUID per client, so acks
 * are tracked per channel) and a request timeout. A timeout or a broken connection rejects; any HTTP
 * answer resolves, whatever its status — judging it is the retry policy's job.
 */
export class HecTransport {
  readonly channel = randomUUID();
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly base: URL;

  constructor(
    url: string,
    private readonly token: string,
    private readonly timeoutMs: number,
    insecureSkipVerify = false,
  ) {
    this.base = new URL(url);
    this.agent =
      this.base.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: !insecureSkipVerify })
        : new HttpAgent({ keepAlive: true, maxSockets: 16 });
  }

  post(path: string, body: Buffer, gzip: boolean): Promise<HecAnswer> {
    const url = new URL(path, this.base);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            authorization: `Splunk ${this.token}`,
            'content-type': 'application/json',
            'content-length': body.length,
            'x-splunk-request-channel': this.channel,
            ...(gzip ? { 'content-encoding': 'gzip' } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
