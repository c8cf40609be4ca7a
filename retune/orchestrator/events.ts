/**
 * Where lifecycle events go besides the alert sinks (the daemon publishes them to the
 * `driftguard.events` Kafka topic: src/kafka/event-publisher.ts).
 */

export interface RetuneEvent {
  readonly type: 'promotion' | 'rollback' | 'retune.completed';
  readonly model: string;
  readonly [field: string]: unknown;
}

/** The port the Retuner publishes through. */
export interface EventPublisher {
  publish(event: RetuneEvent): Promise<void>;
  close?(): Promise<void>;
}
