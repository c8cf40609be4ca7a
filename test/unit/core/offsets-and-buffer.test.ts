import { describe, expect, it } from 'vitest';
import { GroupCommitBuffer } from '../../../src/ingest/group-commit-buffer.js';
import { OffsetTracker } from '../../../src/ingest/offset-tracker.js';

describe('OffsetTracker', () => {
  it('commits one past the last stored offset', () => {
    const tracker = new OffsetTracker();
    expect(tracker.committable()).toBeUndefined();
    tracker.stored('5');
    tracker.stored('6');
    expect(tracker.committable()).toBe('7');
  });

  it('never moves back for an older acknowledgement', () => {
    const tracker = new OffsetTracker();
    tracker.stored('20');
    tracker.stored('9');
    expect(tracker.committable()).toBe('21');
  });

  it('pins the commit point at the lowest held offset until it is released', () => {
    const tracker = new OffsetTracker();
    tracker.hold('10');
    tracker.hold('12');
    tracker.stored('12');
    expect(tracker.committable()).toBe('10');
    tracker.release('10');
    expect(tracker.committable()).toBe('12');
    tracker.release('12');
    expect(tracker.committable()).toBe('13');
  });

  it('does not let records held ahead of the stored point move it', () => {
    // A batch decoded while an earlier one is still being stored: its held record is pinned, but
    // the commit point is the earlier batch's end until the later batch is stored.
    const tracker = new OffsetTracker();
    tracker.hold('30');
    expect(tracker.committable()).toBeUndefined();
    tracker.stored('19');
    expect(tracker.committable()).toBe('20');
    tracker.stored('40');
    expect(tracker.committable()).toBe('30');
  });

  it('handles offsets beyond 2^53', () => {
    const tracker = new OffsetTracker();
    tracker.stored('9007199254740993');
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

/** Lets every promise reaction that is already due run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommitBuffer, two deep', () => {
  /** A store whose inserts complete only when the test says so. */
  function gatedBuffer(maxRows = 100, maxBytes = 1_000_000) {
    const inserts: Array<{ rows: string[]; done: () => void }> = [];
    const buffer = new GroupCommitBuffer<string[]>({
      maxRows,
      maxBytes,
      flushIntervalMs: 10_000,
      store: (chunks) =>
        new Promise<void>((resolve) => {
          inserts.push({ rows: chunks.flat(), done: resolve });
        }),
    });
    return { buffer, inserts };
  }

  it('runs one insert at a time and stores what arrived meanwhile as soon as the first is acknowledged', async () => {
    const { buffer, inserts } = gatedBuffer();
    buffer.enter();
    const first = buffer.add(['a'], 1, 1);
    expect(inserts.map((i) => i.rows)).toEqual([['a']]);
    buffer.enter();
    const second = buffer.add(['b'], 1, 1);
    buffer.enter();
    const third = buffer.add(['c'], 1, 1);
    expect(inserts).toHaveLength(1);
    expect(buffer.bufferedRows).toBe(3);
    let secondStored = false;
    void second.then(() => (secondStored = true));
    inserts[0]?.done();
    await first;
    await settle();
    expect(inserts.map((i) => i.rows)).toEqual([['a'], ['b', 'c']]);
    expect(secondStored).toBe(false);
    inserts[1]?.done();
    await Promise.all([second, third]);
    expect(buffer.bufferedRows).toBe(0);
  });

  it('makes callers wait for room while the pending group is full, and lets them in once it is stored', async () => {
    const { buffer, inserts } = gatedBuffer(2);
    buffer.enter();
    void buffer.add(['a', 'b'], 2, 2); // full: stored at once
    buffer.enter();
    void buffer.add(['c', 'd'], 2, 2); // full, but the store is busy: pending
    let room = false;
    buffer.enter();
    const waiting = buffer.whenRoom().then(() => (room = true));
    await settle();
    expect(room).toBe(false);
    inserts[0]?.done();
    await waiting;
    expect(inserts.map((i) => i.rows)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    buffer.leave();
  });

  it('counts the group being stored against maxBytes', async () => {
    const { buffer, inserts } = gatedBuffer(100, 10);
    buffer.enter();
    void buffer.add(['big'], 1, 8); // stored at once; 8 of 10 bytes in flight
    buffer.enter();
    void buffer.add(['small'], 1, 3); // pending: 11 bytes buffered in all
    let room = false;
    buffer.enter();
    const waiting = buffer.whenRoom().then(() => (room = true));
    await settle();
    expect(room).toBe(false);
    inserts[0]?.done();
    await waiting;
    buffer.leave();
  });

  it('drain stores a group that still waits for an entered caller', async () => {
    const stored: string[][] = [];
    const buffer = new GroupCommitBuffer<string[]>({
      maxRows: 100,
      maxBytes: 1_000,
      flushIntervalMs: 10_000,
      store: async (chunks) => void stored.push(chunks.flat()),
    });
    buffer.enter();
    buffer.enter();
    const added = buffer.add(['a'], 1, 1);
    expect(stored).toEqual([]);
    await buffer.drain();
    await added;
    expect(stored).toEqual([['a']]);
  });
});
