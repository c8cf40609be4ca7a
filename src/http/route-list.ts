import type { Express } from 'express';

export interface ListedRoute {
  readonly method: string;
  /** Express path syntax, e.g. `/v1/models/:model/health`. */
  readonly path: string;
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every method + path the app answers, read from express' router (nested routers included). */
export function listRoutes(app: Express): ListedRoute[] {
  const routes: ListedRoute[] = [];
  const visit = (stack: Layer[]): void => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          for (const [method, enabled] of Object.entries(layer.route.methods)) {
            if (enabled && method !== '_all') routes.push({ method: method.toUpperCase(), path });
          }
        }
      } else if (layer.handle?.stack) {
        visit(layer.handle.stack);
      }
    }
  };
  // express 5 exposes the root router as `app.router`.
  const root = (app as unknown as { router: { stack: Layer[] } }).router;
  visit(root.stack);
  const seen = new Set<string>();
  return routes.filter((r) => {
    const key = `${r.method} ${r.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `/v1/models/:model` → `/v1/models/{model}` (OpenAPI path template). */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
