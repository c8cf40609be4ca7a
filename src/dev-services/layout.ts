import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The service names, in start order. */
export const serviceNames = ['clickhouse', 'kafka', 'prometheus'] as const;
export type ServiceName = (typeof serviceNames)[number];

/** Where the local services keep their configs, data, logs and pid records. */
export interface ServicesLayout {
  /** Repository root. */
  rootDir: string;
  /** `<root>/.driftguard/services`: everything the services write. */
  servicesDir: string;
  /** `<root>/.driftguard/services.env`: the connection settings, `KEY=value` lines. */
  envFile: string;
  /** Held while `up`/`down` run so that two test runs never start services twice. */
  lockFile: string;
}

/** The repository root, found from this file's place (`src/dev-services/`), whatever the cwd. */
export const defaultRootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function servicesLayout(rootDir: string = defaultRootDir): ServicesLayout {
  const servicesDir = path.join(rootDir, '.driftguard', 'services');
  return {
    rootDir,
    servicesDir,
    envFile: path.join(rootDir, '.driftguard', 'services.env'),
    lockFile: path.join(servicesDir, '.lock'),
  };
}

/** The folder of one service: its config, data and logs. */
export function serviceDir(layout: ServicesLayout, name: ServiceName): string {
  return path.join(layout.servicesDir, name);
}

/** The pid record of one service (pid, ports, log file), JSON. */
export function serviceRecordFile(layout: ServicesLayout, name: ServiceName): string {
  return path.join(layout.servicesDir, `${name}.pid.json`);
}
