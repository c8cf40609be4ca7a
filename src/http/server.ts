import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/** An HTTP server with a listen that resolves to the bound address and an idempotent close. */
export class HttpServer {
  private readonly server: Server;
  private closing: Promise<void> | undefined;

  constructor(app: Express) {
    this.server = createServer(app);
    // Long polls do not exist here; a slow client must not hold a socket forever.
    this.server.requestTimeout = 60_000;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
    return this.closing;
  }

  forceClose(): void {
    this.server.closeAllConnections();
  }
}
