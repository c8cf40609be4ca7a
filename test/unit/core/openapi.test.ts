import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { compileConfig } from '../../../src/config/compile.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { OPERATIONS, openApiDocument } from '../../../src/http/openapi.js';
import { listRoutes, toOpenApiPath } from '../../../src/http/route-list.js';
import { openServerStore } from '../../../src/store/clickhouse-server.js';

/**
 * The OpenAPI document against the routes the daemon's express app really registers: every
 * route is documented and every documented operation exists. The daemon is constructed, not
 * started, so no service is needed (the server store connects on first use, which never comes).
 */
describe('OpenAPI document', () => {
  const config = compileConfig({}, {});
  const store = openServerStore({ ...config.clickhouse, url: 'http://127.0.0.1:1' });
  const daemon = new Daemon(config, pino({ level: 'silent' }), store);
  const routes = listRoutes(daemon.app).map((r) => `${r.method} ${toOpenApiPath(r.path)}`);
  const documented = OPERATIONS.map((op) => `${op.method.toUpperCase()} ${op.path}`);

  it('documents every route the app serves', () => {
    expect(routes.filter((r) => !documented.includes(r))).toEqual([]);
  });

  it('documents no route the app does not serve', () => {
    expect(documented.filter((d) => !routes.includes(d))).toEqual([]);
  });

  it('is a well-formed OpenAPI 3 document with bearer auth on every state change', () => {
    const doc = openApiDocument('test') as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown; responses: object }>>;
    };
    expect(doc.openapi).toMatch(/^3\./);
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        expect(op.responses, `${method} ${path}`).toHaveProperty('default');
        if (method === 'post')
          expect(op.security, `${method} ${path} must require the token`).toEqual([{ bearer: [] }]);
      }
    }
  });
});
