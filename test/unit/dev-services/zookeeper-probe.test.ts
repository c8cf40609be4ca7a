import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { zookeeperAnswers } from '../../../src/dev-services/zookeeper.js';

/** A TCP server that answers every four-letter command with `reply` and closes, as ZooKeeper does. */
async function fakeZookeeper(
  reply: string,
): Promise<{ port: number; commands: string[]; close: () => Promise<void> }> {
  const commands: string[] = [];
  const server = net.createServer((socket) => {
    socket.once('data', (chunk: Buffer) => {
      commands.push(chunk.toString('utf8'));
      socket.end(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  return { port, commands, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const servers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of servers.splice(0)) await close();
});

describe('the ZooKeeper probe', () => {
  it('counts ZooKeeper as up only once it serves clients, not while it loads its data', async () => {
    const loading = await fakeZookeeper('This ZooKeeper instance is not currently serving requests\n');
    const serving = await fakeZookeeper(
      'Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nMode: standalone\nNode count: 5\n',
    );
    servers.push(loading.close, serving.close);
    expect(await zookeeperAnswers(loading.port)).toBe(false);
    expect(await zookeeperAnswers(serving.port)).toBe(true);
    expect(serving.commands).toEqual(['srvr']);
  });

  it('says no when nothing listens', async () => {
    const gone = await fakeZookeeper('');
    await gone.close();
    expect(await zookeeperAnswers(gone.port, 500)).toBe(false);
  });
});
