/**
 * Per-partition commit point for at-least-once delivery. Offsets are processed in order; a
 * processed record is committable unless it is held (waiting for a pairing partner). The
 * commit point is the lowest held offset, or one past the last processed offset.
 * Offsets are bigints because Kafka offsets are 64-bit.
 */
export class OffsetTracker {
  private nextOffset: bigint | undefined;
  private readonly held = new Set<bigint>();

  /** Marks `offset` processed; `held` keeps it from being committed until `release`. */
  processed(offset: string, held = false): void {
    const value = BigInt(offset);
    if (this.nextOffset === undefined || value + 1n > this.nextOffset) this.nextOffset = value + 1n;
    if (held) this.held.add(value);
  }

  release(offset: string): void {
    this.held.delete(BigInt(offset));
  }

  heldCount(): number {
    return this.held.size;
  }

  /** The offset to commit (Kafka semantics: the next record to read), or undefined if nothing processed. */
  committable(): string | undefined {
    if (this.nextOffset === undefined) return undefined;
    let lowest = this.nextOffset;
    for (const offset of this.held) if (offset < lowest) lowest = offset;
    return lowest.toString();
  }
}

/** Trackers for all partitions this consumer owns, keyed `topic/partition`. */
export class OffsetTrackers {
  private readonly trackers = new Map<string, OffsetTracker>();

  for(topic: string, partition: number): OffsetTracker {
    const key = `${topic}/${partition}`;
    let tracker = this.trackers.get(key);
    if (tracker === undefined) {
      tracker = new OffsetTracker();
      this.trackers.set(key, tracker);
    }
    return tracker;
  }

  drop(topic: string, partition: number): void {
    this.trackers.delete(`${topic}/${partition}`);
  }
}
