import { Kafka, logLevel as KafkaLogLevel, type LogEntry, type logCreator } from 'kafkajs';
import { DriftguardError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';

/** kafkajs logs through our structured logger, one child per kafkajs namespace. */
function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, ...fields } = log;
      const child = logger.child({ kafka: namespace });
      if (level === KafkaLogLevel.ERROR) child.error(fields, message);
      else if (level === KafkaLogLevel.WARN) child.warn(fields, message);
      else if (level === KafkaLogLevel.INFO) child.debug(fields, message);
      else child.trace(fields, message);
    };
}

export function createKafka(
  options: { clientId: string; brokers: readonly string[] },
  logger: Logger,
): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: KafkaLogLevel.INFO,
    logCreator: pinoLogCreator(logger),
    // kafkajs' own retrier handles connection blips; our consumer loop handles longer outages.
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10_000 },
  });
}

/** kafkajs errors carry `retriable`; keep that decision instead of guessing from text. */
export function brokerError(operation: string, error: unknown): DriftguardError {
  if (error instanceof DriftguardError) return error;
  const retriable =
    typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
  const name = error instanceof Error ? error.name : 'Error';
  // A connection failure is transient whatever kafkajs flagged: the broker may come back.
  const connection =
    name === 'KafkaJSConnectionError' ||
    name === 'KafkaJSNumberOfRetriesExceeded' ||
    name === 'KafkaJSRequestTimeoutError';
  return new DriftguardError(
    'BROKER_UNAVAILABLE',
    `Kafka ${operation} failed: ${error instanceof Error ? error.message : String(error)}`,
    {
      retriable: retriable || connection,
      cause: error,
    },
  );
}
