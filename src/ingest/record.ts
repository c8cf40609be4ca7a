/** One Kafka record (or one HTTP-submitted line) as the ingest pipeline sees it. */
export interface InputRecord {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offset as decimal text (kafkajs' representation; offsets can exceed 2^53). */
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Record headers, values as received (kafkajs gives Buffers). */
  readonly headers: Readonly<Record<string, Buffer | string | undefined>>;
  /** Kafka record timestamp (epoch ms): the fallback event time. */
  readonly timestampMs: number;
}

/** Identifies a record for offset bookkeeping. */
export interface RecordRef {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export function refOf(record: InputRecord): RecordRef {
  return { topic: record.topic, partition: record.partition, offset: record.offset };
}

export function headerText(value: Buffer | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}
