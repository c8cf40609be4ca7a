/**
 * Just enough of the Kafka wire protocol to ask a broker for its metadata (Metadata v0), so that
 * readiness is "it speaks Kafka", not merely "the port accepts connections".
 */

export interface BrokerMetadata {
  nodeId: number;
  host: string;
  port: number;
}

const metadataApiKey = 3;

/** A size-prefixed Metadata v0 request for all topics. */
export function encodeMetadataRequest(correlationId: number, clientId: string): Buffer {
  const client = Buffer.from(clientId, 'utf8');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + client.length + 4);
  let offset = 0;
  offset = body.writeInt16BE(metadataApiKey, offset);
  offset = body.writeInt16BE(0, offset);
  offset = body.writeInt32BE(correlationId, offset);
  offset = body.writeInt16BE(client.length, offset);
  offset += client.copy(body, offset);
  body.writeInt32BE(0, offset); // empty topic array: all topics
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** The total frame length (size prefix included) once `buffer` holds a whole response, else undefined. */
export function completeFrameLength(buffer: Buffer): number | undefined {
  if (buffer.length < 4) return undefined;
  const total = 4 + buffer.readInt32BE(0);
  return buffer.length >= total ? total : undefined;
}

/** Parses the correlation id and broker list of a size-prefixed Metadata v0 response. */
export function decodeMetadataResponse(frame: Buffer): { correlationId: number; brokers: BrokerMetadata[] } {
  let offset = 4;
  const need = (bytes: number): void => {
    if (offset + bytes > frame.length) throw new Error(`truncated Metadata response at byte ${offset}`);
  };
  need(8);
  const correlationId = frame.readInt32BE(offset);
  const brokerCount = frame.readInt32BE(offset + 4);
  offset += 8;
  const brokers: BrokerMetadata[] = [];
  for (let i = 0; i < brokerCount; i++) {
    need(6);
    const nodeId = frame.readInt32BE(offset);
    const hostLength = frame.readInt16BE(offset + 4);
    offset += 6;
    need(hostLength + 4);
    const host = frame.toString('utf8', offset, offset + hostLength);
    offset += hostLength;
    const port = frame.readInt32BE(offset);
    offset += 4;
    brokers.push({ nodeId, host, port });
  }
  return { correlationId, brokers };
}

const mockClusterPattern = /Mock cluster enabled: .*?replaced with ([^\s,:]+):(\d+)/;

/**
 * The bootstrap address from librdkafka's log line
 * `Mock cluster enabled: original bootstrap.servers and security.protocol ignored and replaced with 127.0.0.1:44315`.
 */
export function parseMockClusterAddress(log: string): { host: string; port: number } | undefined {
  const match = mockClusterPattern.exec(log);
  if (match === null) return undefined;
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) return undefined;
  return { host: match[1] ?? '127.0.0.1', port };
}
