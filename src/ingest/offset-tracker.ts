/**
 * Per-partition commit point for at-least-once delivery. The commit point is the lowest held
 * offset (a record waiting for its pairing partner), or one past the last offset whose batch is
 * stored, whichever is lower.
 *
 * Holding and storing are separate steps because batches are decoded while earlier ones are still
 * being stored: a record is held as soon as it is decoded, but an offset counts as stored only once
 * the store acknowledged its batch, so decoding ahead never moves the commit point.
 * Offsets are bigints because Kafka offsets are 64-bit.
 */
export class OffsetTracker {
  private storedNext: bigint | undefined;
  private readonly held = new Set<bigint>();

  /** Pins `offset` (a decoded record kept in memory) until `release`. */
  hold(offset: string): void {
    this.held.add(BigInt(offset));
  }

  release(offset: string): void {
    this.held.delete(BigInt(offset));
  }

  /**
   * Everything up to and including `offset` is stored, dead-lettered or held. Called once the
   * store acknowledged the batch that ends at `offset`; an older acknowledgement never moves the
   * point back.
   */
  stored(offset: string): void {
    const next = BigInt(offset) + 1n;
    if (this.storedNext === undefined || next > this.storedNext) this.storedNext = next;
  }

  heldCount(): number {
    return this.held.size;
  }

  /** The offset to commit (Kafka semantics: the next record to read), or undefined if nothing is stored. */
  committable(): string | undefined {
    if (this.storedNext === undefined) return undefined;
    let lowest = this.storedNext;
    for (const offset of this.held) if (offset < lowest) lowest = offset;
    return lowest.toString();
  }
}

/**
 * Trackers for all partitions this consumer owns, keyed `topic/partition`. A dropped partition's
 * tracker is replaced, not reused, when the partition comes back: `isCurrent` lets work that was
 * started for the old one tell that its commit point no longer counts.
 */
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

  get(topic: string, partition: number): OffsetTracker | undefined {
    return this.trackers.get(`${topic}/${partition}`);
  }

  isCurrent(topic: string, partition: number, tracker: OffsetTracker): boolean {
    return this.trackers.get(`${topic}/${partition}`) === tracker;
  }

  drop(topic: string, partition: number): void {
    this.trackers.delete(`${topic}/${partition}`);
  }

  clear(): void {
    this.trackers.clear();
  }
}
