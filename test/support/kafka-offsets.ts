import { createLogger } from '../../kernel/logger.js';
import { createKafka } from '../../src/kafka/client.js';
import { servicesEnv } from './services.js';

/** A consumer group's committed offsets on `topic`, summed over its partitions (each starts at 0). */
export async function committedTotal(groupId: string, topic: string): Promise<number> {
  const admin = createKafka(
    { clientId: 'test-admin', brokers: [servicesEnv().kafkaBrokers] },
    createLogger('silent'),
  ).admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}
