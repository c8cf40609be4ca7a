import type { Rejection } from '../events/types.js';
import { refOf, type InputRecord, type RecordRef } from '../ingest/record.js';
import type { InferenceHalf } from './to-predictions.js';

/**
 * Holds one side of an inference exchange until the other arrives (in either order), with a
 * bounded wait and a bounded count. Shared by every topic's decoder and the HTTP endpoint so that
 * a request and its response pair even when they come in on different topics (Seldon's
 * `.inputs` / `.outputs`) or different transports.
 *
 * Time is whatever the caller passes as `nowMs` (record arrival time), so tests inject a clock and
 * nothing here owns a timer.
 */

type RequestHalf = Extract<InferenceHalf, { side: 'request' }>;
type ResponseHalf = Extract<InferenceHalf, { side: 'response' }>;

export interface ExpiredHalf {
  readonly half: InferenceHalf;
  /** The Kafka record that carried the half; absent for halves posted over HTTP. */
  readonly record: InputRecord;
  readonly rejection: Rejection;
}

export type OfferResult =
  | {
      readonly kind: 'held';
      /** A same-side half with the same key that this one replaced (a redelivery): committable now. */
      readonly released: readonly RecordRef[];
    }
  | {
      readonly kind: 'paired';
      readonly request: RequestHalf;
      readonly response: ResponseHalf;
      /** The held partner's record, committable once this pair's output is stored. */
      readonly released: readonly RecordRef[];
    };

/** Why a half left the buffer without a partner. */
export type UnpairedCause = 'timeout' | 'overflow';

interface Held {
  readonly half: InferenceHalf;
  readonly record: InputRecord | undefined;
  readonly owner: string;
  readonly heldAtMs: number;
}

export class Pairer {
  /** Insertion order is arrival order, so the oldest entries are always first. */
  private readonly held = new Map<string, Held>();
  private readonly outboxes = new Map<string, ExpiredHalf[]>();
  private readonly heldByOwner = new Map<string, number>();
  private unpaired = 0;

  constructor(
    readonly pairTimeoutMs: number,
    readonly maxHeld: number,
    /** Called once per unpaired half, e.g. to increment a Prometheus counter labelled by cause. */
    private readonly onUnpaired?: (half: InferenceHalf, cause: UnpairedCause) => void,
  ) {}

  /**
   * Offer a half. `owner` names the decoder that will dead-letter it if it expires (its
   * `expire()` drains that owner's outbox); `record` is undefined for HTTP.
   */
  offer(half: InferenceHalf, owner: string, record: InputRecord | undefined, nowMs: number): OfferResult {
    const waiting = this.held.get(half.pairKey);
    if (waiting !== undefined && waiting.half.side !== half.side) {
      this.remove(half.pairKey, waiting);
      const released = waiting.record === undefined ? [] : [refOf(waiting.record)];
      return half.side === 'request'
        ? { kind: 'paired', request: half, response: waiting.half as ResponseHalf, released }
        : { kind: 'paired', request: waiting.half as RequestHalf, response: half, released };
    }
    // A same-side duplicate (producer retry, redelivery): the newer copy wins and the older
    // record's offset is released rather than pinned forever.
    const released: RecordRef[] = [];
    if (waiting !== undefined) {
      this.remove(half.pairKey, waiting);
      if (waiting.record !== undefined) released.push(refOf(waiting.record));
    }
    this.held.set(half.pairKey, { half, record, owner, heldAtMs: nowMs });
    this.heldByOwner.set(owner, (this.heldByOwner.get(owner) ?? 0) + 1);
    this.evictOverflow();
    return { kind: 'held', released };
  }

  /** Move halves whose wait ran out to their owners' outboxes. */
  expireDue(nowMs: number): void {
    for (const [key, entry] of this.held) {
      if (entry.heldAtMs + this.pairTimeoutMs > nowMs) break;
      this.remove(key, entry);
      this.toOutbox(
        entry,
        'timeout',
        `${entry.half.side} ${JSON.stringify(entry.half.eventId)} got no ${entry.half.side === 'request' ? 'response' : 'request'} within ${this.pairTimeoutMs} ms (decoders.pairTimeoutMs); check that the serving system logs both and that both reach driftguard`,
      );
    }
  }

  /** Drain what expired for one owner. */
  takeExpired(owner: string): ExpiredHalf[] {
    const box = this.outboxes.get(owner);
    if (box === undefined || box.length === 0) return [];
    this.outboxes.set(owner, []);
    return box;
  }

  /** Forget halves (held or expired-but-undrained) from partitions this consumer no longer owns. */
  dropPartitions(refs: ReadonlyArray<{ topic: string; partition: number }>): void {
    const lost = new Set(refs.map((r) => `${r.topic}\u0000${r.partition}`));
    const isLost = (record: InputRecord | undefined): boolean =>
      record !== undefined && lost.has(`${record.topic}\u0000${record.partition}`);
    for (const [key, entry] of this.held) if (isLost(entry.record)) this.remove(key, entry);
    for (const [owner, box] of this.outboxes)
      this.outboxes.set(
        owner,
        box.filter((e) => !isLost(e.record)),
      );
  }

  /** Halves held now: all of them, or those one owner (decoder) is responsible for. */
  heldCount(owner?: string): number {
    return owner === undefined ? this.held.size : (this.heldByOwner.get(owner) ?? 0);
  }

  /** Halves that expired or were evicted without a partner, since start (a monotonic counter). */
  unpairedTotal(): number {
    return this.unpaired;
  }

  private evictOverflow(): void {
    for (const [key, entry] of this.held) {
      if (this.held.size <= this.maxHeld) break;
      this.remove(key, entry);
      this.toOutbox(
        entry,
        'overflow',
        `${entry.half.side} ${JSON.stringify(entry.half.eventId)} was evicted unpaired: more than ${this.maxHeld} halves were waiting (decoders.maxHeld)`,
      );
    }
  }

  private remove(key: string, entry: Held): void {
    this.held.delete(key);
    this.heldByOwner.set(entry.owner, (this.heldByOwner.get(entry.owner) ?? 1) - 1);
  }

  private toOutbox(entry: Held, cause: UnpairedCause, message: string): void {
    this.unpaired += 1;
    this.onUnpaired?.(entry.half, cause);
    // HTTP halves have no record to dead-letter: counting them is all that can be done.
    if (entry.record === undefined) return;
    const box = this.outboxes.get(entry.owner) ?? [];
    box.push({ half: entry.half, record: entry.record, rejection: { code: 'unpaired', path: '$', message } });
    this.outboxes.set(entry.owner, box);
  }
}
