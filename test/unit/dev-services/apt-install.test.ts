import { describe, expect, it } from 'vitest';
import { ensureBinaries, type BinaryName, type PackageHost } from '../../../src/dev-services/apt-install.js';
import { DriftguardError } from '../../../kernel/errors.js';
import { createLogger } from '../../../kernel/logger.js';

const logger = createLogger('silent');

/** A host where `present` binaries exist in /usr/bin and apt-get "installs" every package it is asked for. */
function fakeHost(present: BinaryName[], isRoot: boolean): PackageHost & { commands: string[][] } {
  const installed = new Set<string>(present);
  const commands: string[][] = [];
  return {
    commands,
    isRoot,
    findBinary: (binary) => (installed.has(binary) ? `/usr/bin/${binary}` : undefined),
    run: (command) => {
      commands.push(command);
      if (command[1] === 'install')
        for (const name of command.slice(2)) if (!name.startsWith('-')) installed.add(name);
      return Promise.resolve();
    },
  };
}

describe('ensureBinaries', () => {
  it('runs no apt-get when everything is there, and returns absolute paths', async () => {
    const host = fakeHost(['clickhouse-server', 'clickhouse-client', 'kcat', 'prometheus'], false);
    expect(await ensureBinaries({ install: true, logger, host })).toEqual({
      'clickhouse-server': '/usr/bin/clickhouse-server',
      'clickhouse-client': '/usr/bin/clickhouse-client',
      kcat: '/usr/bin/kcat',
      prometheus: '/usr/bin/prometheus',
      // Not required without the cluster: the name stands in for a path that is never used.
      zookeeper: 'zookeeper',
    });
    expect(host.commands).toEqual([]);
  });

  it('installs ZooKeeper (with the Java it depends on) only when the cluster is asked for', async () => {
    const host = fakeHost(['clickhouse-server', 'clickhouse-client', 'kcat', 'prometheus'], true);
    await ensureBinaries({ install: true, logger, host });
    expect(host.commands).toEqual([]);
    const binaries = await ensureBinaries({ install: true, logger, host, cluster: true });
    expect(host.commands).toEqual([
      ['apt-get', 'update'],
      ['apt-get', 'install', '-y', 'zookeeper'],
    ]);
    expect(binaries.zookeeper).toBe('/usr/bin/zookeeper');
  });

  it('without root, names ZooKeeper among what the cluster misses', async () => {
    const host = fakeHost(['clickhouse-server', 'clickhouse-client', 'kcat', 'prometheus'], false);
    await expect(ensureBinaries({ install: true, logger, host, cluster: true })).rejects.toThrow(
      'Missing zookeeper (not running as root, so they cannot be installed here). Install them with: sudo apt-get update && sudo apt-get install -y zookeeper',
    );
  });

  it('installs what is missing as root: one update, then the installs', async () => {
    const host = fakeHost(['clickhouse-server', 'clickhouse-client'], true);
    await ensureBinaries({ install: true, logger, host });
    expect(host.commands).toEqual([
      ['apt-get', 'update'],
      ['apt-get', 'install', '-y', 'kcat'],
      ['apt-get', 'install', '-y', '--no-install-recommends', 'prometheus'],
    ]);
  });

  it('fails without root, naming what is missing and the commands to run', async () => {
    const host = fakeHost(['clickhouse-server', 'clickhouse-client', 'prometheus'], false);
    const failure = ensureBinaries({ install: true, logger, host });
    await expect(failure).rejects.toBeInstanceOf(DriftguardError);
    await expect(failure).rejects.toThrow('Missing kcat (not running as root');
    await expect(failure).rejects.toThrow('sudo apt-get update && sudo apt-get install -y kcat');
    expect(host.commands).toEqual([]);
  });

  it('fails when installing is turned off, even as root', async () => {
    const host = fakeHost([], true);
    await expect(ensureBinaries({ install: false, logger, host })).rejects.toThrow(
      /--no-install\)\. Install them with: apt-get update && apt-get install -y clickhouse-server/,
    );
  });

  it('fails when apt-get did not provide the binary', async () => {
    const host = fakeHost(['clickhouse-server', 'clickhouse-client', 'prometheus'], true);
    host.run = () => Promise.resolve();
    await expect(ensureBinaries({ install: true, logger, host })).rejects.toThrow(
      /apt-get finished but kcat is still not found/,
    );
  });
});
