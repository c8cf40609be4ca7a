import type { Producer } from 'kafkajs';
import { seededRandom } from '../../kernel/seeded-random.js';
import { etaEvent, fraudEvent } from './traffic.js';

export interface TrafficTopics {
  readonly predictions: string;
  readonly outcomes: string;
}

/**
 * Sends demo traffic in the background until stopped: `rate` predictions per second per model,
 * each model's outcome `labelDelayMs` later (labels arrive late in real life). `drift()` switches
 * the fraud model's traffic to the drifted distribution.
 */
export class TrafficLoop {
  readonly counts = { predictions: 0, outcomes: 0, invalid: 0 };
  private drifted = false;
  private stopped = false;
  private running: Promise<void> | undefined;
  private readonly pending: Array<{ dueMs: number; value: string }> = [];
  private readonly random = seededRandom(7);
  private i = 0;

  constructor(
    private readonly producer: Producer,
    private readonly topics: TrafficTopics,
    private readonly rate: number,
    private readonly labelDelayMs: number,
  ) {}

  start(): void {
    this.running = this.loop();
  }

  drift(): void {
    this.drifted = true;
  }

  /** A few malformed records, as real producers send: they are dead-lettered with a reason. */
  async sendInvalid(): Promise<void> {
    const invalid = [
      '{"model":"fraud"',
      JSON.stringify({ model: 'fraud', id: 'bad-1', features: { hour: [1] } }),
      JSON.stringify({ id: 'no-model' }),
    ];
    await this.producer.send({
      topic: this.topics.predictions,
      messages: invalid.map((value) => ({ value })),
    });
    this.counts.invalid += invalid.length;
  }

  /** Stops sending and flushes outcomes still waiting for their delay. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    const rest = this.pending.splice(0);
    if (rest.length > 0) {
      await this.producer.send({
        topic: this.topics.outcomes,
        messages: rest.map((o) => ({ value: o.value })),
      });
      this.counts.outcomes += rest.length;
    }
  }

  private async loop(): Promise<void> {
    const tickMs = 250;
    while (!this.stopped) {
      const now = Date.now();
      const events = [];
      for (let k = 0; k < (this.rate * tickMs) / 1000; k++, this.i++) {
        events.push(fraudEvent(this.random, this.i, now, this.drifted), etaEvent(this.random, this.i, now));
      }
      await this.producer.send({
        topic: this.topics.predictions,
        messages: events.map((e) => ({ value: JSON.stringify(e.prediction) })),
      });
      this.counts.predictions += events.length;
      for (const e of events)
        this.pending.push({ dueMs: now + this.labelDelayMs, value: JSON.stringify(e.outcome) });
      const due = this.pending.findIndex((o) => o.dueMs > Date.now());
      const ready = this.pending.splice(0, due === -1 ? this.pending.length : due);
      if (ready.length > 0) {
        await this.producer.send({
          topic: this.topics.outcomes,
          messages: ready.map((o) => ({ value: o.value })),
        });
        this.counts.outcomes += ready.length;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, tickMs - (Date.now() - now))));
    }
  }
}
