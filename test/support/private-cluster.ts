import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  clusterNodes,
  findBinary,
  findZookeeper,
  writeClusterNodeFiles,
  zookeeperAnswers,
  type ClusterNodeSpec,
} from '../../src/dev-services/index.js';
import { clickhouseVersion } from '../../src/dev-services/clickhouse.js';
import { findFreePorts } from '../../src/dev-services/ports.js';
import { renderZookeeperConfig } from '../../src/dev-services/zookeeper.js';
import { waitFor } from './wait.js';

/**
 * A ClickHouse cluster of a test's own (ZooKeeper + 2 shards × 2 replicas, the same configs as
 * `dev-services up --cluster`), so a test can kill a replica or stop ZooKeeper — real faults —
 * without disturbing the shared cluster other test files use. Ports stay the same across
 * restarts, as a restarted production server's would.
 */
export class PrivateCluster {
  readonly name = 'driftguard';
  private readonly children = new Map<string, ChildProcess>();

  private constructor(
    private readonly dir: string,
    readonly nodes: readonly ClusterNodeSpec[],
    readonly zookeeperPort: number,
  ) {}

  static async create(): Promise<PrivateCluster> {
    const dir = await mkdtemp(path.join(tmpdir(), 'driftguard-cluster-'));
    const [zookeeperPort = 0, ...ports] = await findFreePorts(13);
    const nodes = clusterNodes(2, 2, ports);
    const cluster = new PrivateCluster(dir, nodes, zookeeperPort);
    await mkdir(path.join(dir, 'zookeeper', 'data'), { recursive: true });
    await writeFile(
      path.join(dir, 'zookeeper', 'zoo.cfg'),
      renderZookeeperConfig({ dataDir: path.join(dir, 'zookeeper', 'data'), clientPort: zookeeperPort }),
    );
    for (const node of nodes)
      await writeClusterNodeFiles(path.join(dir, node.name), nodes, node, zookeeperPort);
    await cluster.startZookeeper();
    await Promise.all(nodes.map((_, index) => cluster.startNode(index)));
    return cluster;
  }

  /** The node a daemon talks to (shard 1, replica 1). */
  get url(): string {
    return this.nodeUrl(0);
  }

  nodeUrl(index: number): string {
    return `http://127.0.0.1:${this.nodes[index]?.httpPort ?? 0}`;
  }

  async startZookeeper(): Promise<void> {
    const jar = findZookeeper();
    const java = findBinary('java');
    if (jar === undefined || java === undefined)
      throw new Error('ZooKeeper is not installed: run `npx driftguard dev-services up --cluster` as root');
    const logging = '/usr/share/java/slf4j-simple.jar';
    this.spawn('zookeeper', java, [
      '-Xmx128m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-cp',
      existsSync(logging) ? `${jar}:${logging}` : jar,
      'org.apache.zookeeper.server.ZooKeeperServerMain',
      path.join(this.dir, 'zookeeper', 'zoo.cfg'),
    ]);
    await waitFor(() => zookeeperAnswers(this.zookeeperPort), {
      timeoutMs: 60_000,
      intervalMs: 200,
      description: 'private ZooKeeper to answer',
    });
  }

  /** Stops ZooKeeper (SIGTERM, as an operator or an orchestrator would). */
  stopZookeeper(): Promise<void> {
    return this.stop('zookeeper', 'SIGTERM');
  }

  async startNode(index: number): Promise<void> {
    const node = this.nodes[index];
    const binary = findBinary('clickhouse-server');
    if (node === undefined || binary === undefined)
      throw new Error(`no node ${index} or no clickhouse-server`);
    this.spawn(node.name, binary, [`--config-file=${path.join(this.dir, node.name, 'config.xml')}`]);
    const child = this.children.get(node.name);
    const errorLog = path.join(this.dir, node.name, 'logs', 'clickhouse-server.err.log');
    // A node restarted after SIGKILL on a loaded machine (the whole suite beside it) has been
    // seen to take over a minute to load its replicated tables; a timeout names what it logged.
    await waitFor(
      async () => {
        if (child !== undefined && (child.exitCode !== null || child.signalCode !== null))
          throw new NodeExited(
            `${node.name} exited (${String(child.exitCode ?? child.signalCode)}): ${tail(errorLog)}`,
          );
        return clickhouseVersion(node.httpPort);
      },
      {
        timeoutMs: 150_000,
        intervalMs: 200,
        isFinal: (error) => error instanceof NodeExited,
        get description() {
          return `${node.name} to answer (its error log ends: ${tail(errorLog)})`;
        },
      },
    );
  }

  /** Kills a node outright, as a crash would. */
  killNode(index: number): Promise<void> {
    return this.stop(this.nodes[index]?.name ?? '', 'SIGKILL');
  }

  /**
   * Leaves on a stopped node's disk what a kill mid-insert can leave: level-0 parts written
   * locally that ZooKeeper never heard of. Each part of `table` is copied twice under block
   * numbers no insert uses, so these "just-written" unexpected parts hold 2/3 of the node's rows:
   * more than 18.16's default share of suspicious rows (0.5) at which a replica refuses to start.
   * Returns the names of the parts it added. Only whole parts are copied: a kill can also leave
   * `tmp_fetch_…`/`tmp_insert_…` directories, which the node deletes when it starts.
   */
  async addUncommittedParts(index: number, database: string, table: string): Promise<string[]> {
    const dir = this.tableDir(index, database, table);
    const parts = (await readdir(dir)).flatMap((name) => {
      const match = /^(.+)_\d+_\d+_\d+$/.exec(name);
      const partition = match?.[1];
      return partition === undefined || /^(tmp|delete_tmp)_/.test(name) ? [] : [{ name, partition }];
    });
    const added: string[] = [];
    for (const part of [...parts, ...parts]) {
      const block = 900_001 + added.length;
      const name = `${part.partition}_${block}_${block}_0`;
      await cp(path.join(dir, part.name), path.join(dir, name), { recursive: true });
      added.push(name);
    }
    return added;
  }

  /** Names of the parts a node moved to `detached/` for `table`. */
  async detachedParts(index: number, database: string, table: string): Promise<string[]> {
    return readdir(path.join(this.tableDir(index, database, table), 'detached')).catch(() => []);
  }

  /** Where a node keeps a table's parts. */
  private tableDir(index: number, database: string, table: string): string {
    const node = this.nodes[index];
    if (node === undefined) throw new Error(`no node ${index}`);
    return path.join(this.dir, node.name, 'data', 'data', database, table);
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.children.keys()].map((name) => this.stop(name, 'SIGKILL')));
    await rm(this.dir, { recursive: true, force: true });
  }

  private spawn(name: string, command: string, args: string[]): void {
    const child = spawn(command, args, { cwd: this.dir, stdio: 'ignore' });
    this.children.set(name, child);
  }

  private async stop(name: string, signal: NodeJS.Signals): Promise<void> {
    const child = this.children.get(name);
    this.children.delete(name);
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

/** A node's server process ended while it was awaited: it will not answer. */
class NodeExited extends Error {}

/**
 * What a node's error log says last: its last exception's message (a stack's frames alone name
 * no cause) and the log's final lines.
 */
function tail(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').split('\n');
    const cause = lines.filter((line) => /Exception|<Error>|<Fatal>/.test(line)).slice(-2);
    return [...cause, '…', ...lines.slice(-4)].join(' / ').slice(-3000);
  } catch {
    return '(no log)';
  }
}
