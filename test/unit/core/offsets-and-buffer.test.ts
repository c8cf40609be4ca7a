import { describe, expect, it } from 'vitest';
import { GroupCommitBuffer } from '../../../src/ingest/group-commit-buffer.js';
import { OffsetTracker } from '../../../src/ingest/offset-tracker.js';

describe('OffsetTracker', () => {
  it('commits one past the last processed offset', () => {
    const tracker = new OffsetTracker();
    expect(tracker.committable()).toBeUndefined();
    tracker.processed('5');
    tracker.processed('6');
    expect(tracker.committable()).toBe('7');
  });

  it('pins the commit point at the lowest held offset until it is released', () => {
    const tracker = new OffsetTracker();
    tracker.processed('10', true);
    tracker.processed('11');
    tracker.processed('12', true);
    expect(tracker.committable()).toBe('10');
    tracker.release('10');
    expect(tracker.committable()).toBe('12');
    tracker.release('12');
    expect(tracker.committable()).toBe('13');
  });

  it('handles offsets beyond 2^53', () => {
    const tracker = new OffsetTracker();
    tracker.processed('9007199254740993');
    expect(tracker.committable()).toBe('9007199254740994');
  });
});

describe('GroupCommitBuffer', () => {
  function recordingBuffer(maxRows = 100, maxBytes = 1_000_000, flushIntervalMs = 10_000) {
    const stored: string[][] = [];
    const buffer = new GroupCommitBuffer<string[]>({
      maxRows,
      maxBytes,
      flushIntervalMs,
      store: async (chunks) => {
        stored.push(chunks.flat());
      },
    });
    return { buffer, stored };
  }

  it('stores the rows of all concurrent callers in one flush once everyone has added', async () => {
    const { buffer, stored } = recordingBuffer();
    buffer.enter();
    buffer.enter();
    const first = buffer.add(['a', 'b'], 2, 2);
    expect(stored).toEqual([]);
    const second = buffer.add(['c'], 1, 1);
    await Promise.all([first, second]);
    expect(stored).toEqual([['a', 'b', 'c']]);
  });

  it('flushes at the row cap without waiting for other callers', async () => {
    const { buffer, stored } = recordingBuffer(3);
    buffer.enter();
    buffer.enter();
    await buffer.add(['a', 'b', 'c'], 3, 3);
    expect(stored).toEqual([['a', 'b', 'c']]);
    buffer.leave();
  });

  it('flushes after the interval when a caller is slow', async () => {
    const { buffer, stored } = recordingBuffer(100, 1_000_000, 20);
    buffer.enter();
    buffer.enter();
    await buffer.add(['a'], 1, 1);
    expect(stored).toEqual([['a']]);
  });

  it('rejects the waiters when the store gives up, and keeps working afterwards', async () => {
    let fail = true;
    const buffer = new GroupCommitBuffer<string[]>({
      maxRows: 10,
      maxBytes: 100,
      flushIntervalMs: 1_000,
      store: async () => {
        if (fail) throw new Error('store down');
      },
    });
    buffer.enter();
    await expect(buffer.add(['a'], 1, 1)).rejects.toThrow('store down');
    fail = false;
    buffer.enter();
    await expect(buffer.add(['b'], 1, 1)).resolves.toBeUndefined();
  });
});
