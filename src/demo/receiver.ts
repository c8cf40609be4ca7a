import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedAlert {
  readonly receivedAtMs: number;
  readonly deliveryId: string;
  readonly signatureValid: boolean;
  readonly body: {
    status?: string;
    model?: string;
    alerts?: Array<{ rule?: string; severity?: string; summary?: string; status?: string }>;
    kind?: string;
    summary?: string;
  };
}

/**
 * A local webhook receiver standing in for the user's on-call tooling: it verifies the HMAC
 * signature exactly as a real receiver should, and records what arrived.
 */
export class DemoReceiver {
  readonly received: ReceivedAlert[] = [];
  private readonly server: Server;
  onAlert: ((alert: ReceivedAlert) => void) | undefined;

  constructor(private readonly secret: string) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const expected = `sha256=${createHmac('sha256', this.secret).update(raw).digest('hex')}`;
        const presented = String(req.headers['x-driftguard-signature-256'] ?? '');
        const signatureValid =
          presented.length === expected.length &&
          timingSafeEqual(Buffer.from(presented), Buffer.from(expected));
        let body: ReceivedAlert['body'] = {};
        try {
          body = JSON.parse(raw.toString('utf8')) as ReceivedAlert['body'];
        } catch {
          body = {};
        }
        const alert = {
          receivedAtMs: Date.now(),
          deliveryId: String(req.headers['x-driftguard-delivery'] ?? ''),
          signatureValid,
          body,
        };
        this.received.push(alert);
        this.onAlert?.(alert);
        res.writeHead(signatureValid ? 200 : 401).end();
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/driftguard`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
