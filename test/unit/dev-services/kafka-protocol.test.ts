import { describe, expect, it } from 'vitest';
import {
  completeFrameLength,
  decodeMetadataResponse,
  encodeMetadataRequest,
  parseMockClusterAddress,
} from '../../../src/dev-services/kafka-protocol.js';

describe('mock cluster log', () => {
  it('finds the bootstrap port in librdkafka 2.0 log output', () => {
    const log = [
      '%5|1795404785.034|MOCK|rdkafka#consumer-1| [thrd:app]: Mock cluster enabled: original bootstrap.servers and security.protocol ignored and replaced with 127.0.0.1:44315',
      '% Reached end of topic warmup [0] at offset 0',
    ].join('\n');
    expect(parseMockClusterAddress(log)).toEqual({ host: '127.0.0.1', port: 44315 });
  });

  it('takes the first broker of a multi-broker cluster', () => {
    expect(
      parseMockClusterAddress('Mock cluster enabled: ... replaced with 127.0.0.1:1001,127.0.0.1:1002'),
    ).toEqual({ host: '127.0.0.1', port: 1001 });
  });

  it('is undefined until the line is there, or when the port is not a port', () => {
    expect(parseMockClusterAddress('')).toBeUndefined();
    expect(
      parseMockClusterAddress('%5|MOCK| Mock cluster enabled: replaced with 127.0.0.1:99999'),
    ).toBeUndefined();
  });
});

describe('Metadata v0', () => {
  it('encodes a size-prefixed request for all topics', () => {
    const request = encodeMetadataRequest(7, 'ab');
    expect(request.readInt32BE(0)).toBe(request.length - 4);
    expect(request.readInt16BE(4)).toBe(3); // api key Metadata
    expect(request.readInt16BE(6)).toBe(0); // version
    expect(request.readInt32BE(8)).toBe(7);
    expect(request.readInt16BE(12)).toBe(2);
    expect(request.toString('utf8', 14, 16)).toBe('ab');
    expect(request.readInt32BE(16)).toBe(0); // no topics listed: all
  });

  it('decodes the correlation id and brokers of a response', () => {
    const host = Buffer.from('127.0.0.1');
    const body = Buffer.alloc(4 + 4 + 4 + 4 + 2 + host.length + 4 + 4);
    let offset = body.writeInt32BE(7, 4);
    offset = body.writeInt32BE(1, offset);
    offset = body.writeInt32BE(1, offset);
    offset = body.writeInt16BE(host.length, offset);
    offset += host.copy(body, offset);
    offset = body.writeInt32BE(44315, offset);
    body.writeInt32BE(0, offset); // no topics
    body.writeInt32BE(body.length - 4, 0);
    expect(completeFrameLength(body.subarray(0, 10))).toBeUndefined();
    expect(completeFrameLength(Buffer.concat([body, Buffer.from([1, 2])]))).toBe(body.length);
    expect(decodeMetadataResponse(body)).toEqual({
      correlationId: 7,
      brokers: [{ nodeId: 1, host: '127.0.0.1', port: 44315 }],
    });
  });

  it('fails on a truncated response instead of reading garbage', () => {
    const frame = Buffer.alloc(12);
    frame.writeInt32BE(8, 0);
    frame.writeInt32BE(1, 4);
    frame.writeInt32BE(3, 8); // three brokers announced, none present
    expect(() => decodeMetadataResponse(frame)).toThrow(/truncated/);
  });
});
