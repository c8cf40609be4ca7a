/**
 * The Kafka adapter of retune's event port: lifecycle events go to the `driftguard.events` topic,
 * keyed by model so one model's events stay in order on one partition.
 */
import type { Kafka, Producer } from 'kafkajs';
import type { EventPublisher, RetuneEvent } from '../../retune/orchestrator/events.js';
import { brokerError } from './client.js';

export class KafkaEventPublisher implements EventPublisher {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string = 'driftguard.events',
  ) {}

  private connect(): Promise<Producer> {
    if (this.producer !== undefined) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const producer = this.kafka.producer({ allowAutoTopicCreation: true, idempotent: false });
      try {
        await producer.connect();
      } catch (error) {
        this.connecting = undefined;
        throw brokerError('connect events producer', error);
      }
      this.producer = producer;
      return producer;
    })();
    return this.connecting;
  }

  async publish(event: RetuneEvent): Promise<void> {
    const producer = await this.connect();
    try {
      await producer.send({
        topic: this.topic,
        acks: -1,
        messages: [{ key: event.model, value: JSON.stringify(event), headers: { type: event.type } }],
      });
    } catch (error) {
      throw brokerError(`publish ${event.type} event`, error);
    }
  }

  /** Idempotent. */
  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    await producer?.disconnect();
  }
}
