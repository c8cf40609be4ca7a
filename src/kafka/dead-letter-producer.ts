import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { DeadLetterMessage, DeadLetterSink } from '../ingest/dead-letter.js';
import { brokerError } from './client.js';

/** Sends dead letters to their topic with acks from all in-sync replicas. */
export class KafkaDeadLetterSink implements DeadLetterSink {
  private readonly producer: Producer;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
  ) {
    // The default (murmur2, Java-compatible) partitioner, chosen explicitly so kafkajs does not warn.
    this.producer = kafka.producer({
      allowAutoTopicCreation: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async send(messages: readonly DeadLetterMessage[]): Promise<void> {
    try {
      await this.connect();
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
      });
    } catch (error) {
      throw brokerError('dead-letter send', error);
    }
  }

  async close(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }
}
