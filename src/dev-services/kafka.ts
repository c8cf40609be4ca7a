import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { DriftguardError } from '../../kernel/errors.js';
import { serviceDir } from './layout.js';
import {
  completeFrameLength,
  decodeMetadataResponse,
  encodeMetadataRequest,
  parseMockClusterAddress,
  type BrokerMetadata,
} from './kafka-protocol.js';
import { isErrno, spawnDetached } from './process.js';
import { waitForReady, type ServiceDriver, type ServiceRecord, type StartContext } from './service.js';

/** The topic the hosting kcat consumer reads; it only keeps the process (and the cluster) alive. */
export const mockHostTopic = 'driftguard-mock-cluster-host';

/**
 * librdkafka's mock cluster, hosted by a kcat consumer: any librdkafka client given
 * `test.mock.num.brokers` starts an in-process Kafka-protocol broker on a random port and logs
 * it. A consumer without `-e` runs until killed, with stdin closed, so no shell is needed.
 */
export const kafkaDriver: ServiceDriver = {
  name: 'kafka',
  async start(context: StartContext): Promise<ServiceRecord> {
    const dir = serviceDir(context.layout, 'kafka');
    const logFile = path.join(dir, 'kcat.log');
    const command = context.binaries.kcat;
    const args = ['-C', '-b', '127.0.0.1:1', '-X', 'test.mock.num.brokers=1', '-t', mockHostTopic];
    const pid = await spawnDetached(command, args, { logFile, cwd: dir });
    let port: number | undefined;
    await waitForReady({
      name: 'kafka',
      pid,
      command,
      logFiles: [logFile],
      timeoutMs: context.readyTimeoutMs,
      check: async () => {
        port ??= parseMockClusterAddress(await readLog(logFile))?.port;
        return port !== undefined && (await kafkaAnswers(port));
      },
    });
    if (port === undefined)
      throw new DriftguardError('INTERNAL', 'kafka became ready without a port', { retriable: false });
    return {
      name: 'kafka',
      pid,
      command,
      ports: { broker: port },
      logFile,
      startedAt: new Date().toISOString(),
    };
  },
  async probe(record: ServiceRecord): Promise<boolean> {
    const port = record.ports['broker'];
    return port !== undefined && (await kafkaAnswers(port));
  },
};

async function readLog(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return '';
    throw error;
  }
}

/** Whether a Kafka broker on 127.0.0.1:`port` answers a Metadata request and lists itself. */
export async function kafkaAnswers(port: number, timeoutMs = 2_000): Promise<boolean> {
  try {
    const brokers = await fetchBrokerMetadata('127.0.0.1', port, timeoutMs);
    return brokers.some((broker) => broker.port === port);
  } catch {
    // Refused, reset, timed out or not Kafka: not answering (yet).
    return false;
  }
}

export function fetchBrokerMetadata(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<BrokerMetadata[]> {
  const correlationId = Math.floor(Math.random() * 0x7fffffff);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () =>
      fail(new Error(`no Metadata response from ${host}:${port} within ${timeoutMs} ms`)),
    );
    socket.once('error', fail);
    socket.once('connect', () =>
      socket.write(encodeMetadataRequest(correlationId, 'driftguard-dev-services')),
    );
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const length = completeFrameLength(received);
      if (length === undefined) return;
      socket.destroy();
      try {
        const response = decodeMetadataResponse(received.subarray(0, length));
        if (response.correlationId !== correlationId)
          throw new Error(`correlation id ${response.correlationId} is not ${correlationId}`);
        resolve(response.brokers);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.once('end', () => fail(new Error(`${host}:${port} closed the connection before answering`)));
  });
}
