import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ModelOwnership, partitionOf } from '../../../src/coordination/ownership.js';
import { createLogger } from '../../../kernel/logger.js';

/**
 * ModelOwnership against a scripted stand-in for kafkajs: what it does with group events. The
 * real group protocol is exercised by test/integration/monitor-replicas.test.ts.
 */

type Handler = (event: { payload: Record<string, unknown> }) => void;

class ScriptedConsumer {
  readonly events = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' };
  private readonly handlers = new Map<string, Handler>();
  runs = 0;
  /** The next this-many run() calls fail, as a join refused by the broker would. */
  failingRuns = 0;

  on(event: string, handler: Handler): () => void {
    this.handlers.set(event, handler);
    return () => this.handlers.delete(event);
  }
  connect(): Promise<void> {
    return Promise.resolve();
  }
  subscribe(): Promise<void> {
    return Promise.resolve();
  }
  run(): Promise<void> {
    this.runs++;
    return this.failingRuns-- > 0 ? Promise.reject(new Error('group is rebalancing')) : Promise.resolve();
  }
  disconnect(): Promise<void> {
    return Promise.resolve();
  }
  emit(event: string, payload: Record<string, unknown>): void {
    this.handlers.get(event)?.({ payload });
  }
}

function scriptedKafka(consumer: ScriptedConsumer): Kafka {
  const client = {
    producer: () => ({ connect: async () => {}, send: async () => {}, disconnect: async () => {} }),
    admin: () => ({
      connect: async () => {},
      disconnect: async () => {},
      fetchTopicMetadata: async () => ({ topics: [{ partitions: [{}, {}, {}, {}] }] }),
    }),
    consumer: () => consumer,
  };
  // A stand-in for the few kafkajs methods ModelOwnership calls; the rest of the type is unused.
  return client as unknown as Kafka;
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ModelOwnership', () => {
  it('rejoins the group after a crash kafkajs will not restart, until it is back', async () => {
    const consumer = new ScriptedConsumer();
    const topic = 'coord';
    const ownership = new ModelOwnership(
      scriptedKafka(consumer),
      { topic, groupId: 'g-coordination', sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 },
      createLogger('silent'),
    );
    await ownership.start();
    expect(consumer.runs).toBe(1);
    const model = 'fraud';
    consumer.emit(consumer.events.GROUP_JOIN, {
      memberAssignment: { [topic]: [partitionOf(model, 4)] },
      memberId: 'm1',
    });
    expect(ownership.owns(model)).toBe(true);

    // kafkajs restarts by itself when it says so: nothing to do but stop owning meanwhile.
    consumer.emit(consumer.events.CRASH, { error: new Error('timeout'), restart: true });
    expect(ownership.owns(model)).toBe(false);
    expect(consumer.runs).toBe(1);

    // A crash it gives up on: ModelOwnership rejoins, retrying while the broker refuses.
    consumer.failingRuns = 1;
    consumer.emit(consumer.events.CRASH, { error: new Error('INVALID_REQUEST'), restart: false });
    await until(() => consumer.runs === 3);
    consumer.emit(consumer.events.GROUP_JOIN, {
      memberAssignment: { [topic]: [0, 1, 2, 3] },
      memberId: 'm1',
    });
    expect(ownership.owns(model)).toBe(true);

    // After stop, a crash is not answered with a rejoin.
    await ownership.stop();
    consumer.emit(consumer.events.CRASH, { error: new Error('late'), restart: false });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(consumer.runs).toBe(3);
    expect(ownership.owns(model)).toBe(false);
  });
});
