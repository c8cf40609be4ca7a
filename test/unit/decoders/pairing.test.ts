import { describe, expect, it } from 'vitest';
import { createDecoder, createDecoderRuntime } from '../../../src/decoders/index.js';
import { ceHeaders, MAX_BYTES, OIP_REQUEST, OIP_RESPONSE, record, T0 } from './fixtures.js';

const request = (id: string, fields: { partition?: number; offset?: string } = {}) =>
  record({ value: OIP_REQUEST, headers: ceHeaders(id, 'request'), ...fields });
const response = (id: string, fields: { partition?: number; offset?: string } = {}) =>
  record({ value: OIP_RESPONSE, headers: ceHeaders(id, 'response'), ...fields });

describe('pairing buffer: offsets, expiry and bounds', () => {
  it('expires an unanswered request after pairTimeoutMs as `unpaired` and counts it', () => {
    const runtime = createDecoderRuntime({ pairTimeoutMs: 1_000 });
    const decoder = createDecoder('prediction', {}, MAX_BYTES, runtime);
    const lonely = request('lonely', { offset: '7' });
    expect(decoder.decode(lonely, T0).held).toBe(true);
    expect(decoder.expire?.(T0 + 999)).toEqual([]);
    const expired = decoder.expire?.(T0 + 1_000) ?? [];
    expect(expired).toHaveLength(1);
    expect(expired[0]?.record).toBe(lonely);
    expect(expired[0]?.rejection.code).toBe('unpaired');
    expect(expired[0]?.rejection.message).toContain('"lonely" got no response within 1000 ms');
    expect(runtime.unpairedTotal()).toBe(1);
    expect(decoder.heldCount?.()).toBe(0);
    // A response arriving after the expiry finds nothing and waits in turn.
    expect(decoder.decode(response('lonely'), T0 + 1_001).held).toBe(true);
  });

  it('expires the oldest first when more than maxHeld are waiting', () => {
    const runtime = createDecoderRuntime({ maxHeld: 2 });
    const decoder = createDecoder('prediction', {}, MAX_BYTES, runtime);
    const first = request('a');
    decoder.decode(first, T0);
    decoder.decode(request('b'), T0 + 1);
    decoder.decode(request('c'), T0 + 2);
    expect(runtime.heldCount()).toBe(2);
    const expired = decoder.expire?.(T0 + 3) ?? [];
    expect(expired.map((e) => e.record)).toEqual([first]);
    expect(expired[0]?.rejection.message).toContain('decoders.maxHeld');
    expect(runtime.unpairedTotal()).toBe(1);
    // 'b' and 'c' still pair.
    expect(decoder.decode(response('b'), T0 + 4).predictions).toHaveLength(1);
  });

  it('releases exactly the held partner record, on whichever partition it was', () => {
    const decoder = createDecoder('prediction', {}, MAX_BYTES);
    decoder.decode(request('p', { partition: 3, offset: '100' }), T0);
    decoder.decode(request('q', { partition: 3, offset: '101' }), T0);
    const out = decoder.decode(response('q', { partition: 1, offset: '5' }), T0);
    expect(out.held).toBeUndefined();
    expect(out.released).toEqual([{ topic: 'predictions', partition: 3, offset: '101' }]);
    expect(decoder.heldCount?.()).toBe(1);
  });

  it('lets a redelivered duplicate replace the held copy and releases the older offset', () => {
    const decoder = createDecoder('prediction', {}, MAX_BYTES);
    decoder.decode(request('dup', { offset: '1' }), T0);
    const again = decoder.decode(request('dup', { offset: '2' }), T0 + 1);
    expect(again).toMatchObject({ held: true, released: [{ offset: '1' }] });
    expect(decoder.heldCount?.()).toBe(1);
    expect(decoder.decode(response('dup', { offset: '3' }), T0 + 2).released).toEqual([
      { topic: 'predictions', partition: 0, offset: '2' },
    ]);
  });

  it('forgets held halves of revoked partitions without counting them as unpaired', () => {
    const runtime = createDecoderRuntime({ pairTimeoutMs: 1_000 });
    const decoder = createDecoder('prediction', {}, MAX_BYTES, runtime);
    decoder.decode(request('keep', { partition: 0 }), T0);
    decoder.decode(request('gone', { partition: 1 }), T0);
    decoder.decode(request('gone-too', { partition: 1 }), T0 - 5_000);
    decoder.dropPartitions?.([{ topic: 'predictions', partition: 1 }]);
    expect(decoder.heldCount?.()).toBe(1);
    // Nothing of partition 1 comes back from expire either.
    expect((decoder.expire?.(T0 + 1_000) ?? []).map((e) => e.record.partition)).toEqual([0]);
    expect(runtime.unpairedTotal()).toBe(1);
  });

  it('hands an expired half to the decoder that held it, so each topic dead-letters its own records', () => {
    const runtime = createDecoderRuntime({ pairTimeoutMs: 100 });
    const a = createDecoder('prediction', {}, MAX_BYTES, runtime);
    const b = createDecoder('prediction', {}, MAX_BYTES, runtime);
    a.decode(request('from-a'), T0);
    b.decode(request('from-b'), T0);
    expect(a.heldCount?.()).toBe(1);
    expect(runtime.heldCount()).toBe(2);
    expect((a.expire?.(T0 + 100) ?? []).map((e) => e.rejection.message)).toEqual([
      expect.stringContaining('from-a') as string,
    ]);
    expect((b.expire?.(T0 + 100) ?? []).map((e) => e.rejection.message)).toEqual([
      expect.stringContaining('from-b') as string,
    ]);
  });
});
