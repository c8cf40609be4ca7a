/**
 * The one writer of a study's rows. Every change produces the rows to write at once; the writer
 * drains them in order, batching what piled up meanwhile (only the newest row per study and per
 * trial: an older one would be superseded anyway), so a trainer reporting every few milliseconds
 * does not become thousands of tiny ClickHouse inserts.
 */
import type { Logger } from '../../kernel/logger.js';
import { retry } from '../../kernel/retry.js';
import type { StudyRecord, StudyStorage, TrialRow } from '../store/types.js';

export class StudyWriter {
  private pendingStudy: StudyRecord | undefined;
  private readonly pendingTrials = new Map<number, TrialRow>();
  private draining: Promise<void> | undefined;
  /** The first write that failed after its retries, if any. */
  writeError: unknown;

  constructor(
    private readonly storage: StudyStorage,
    private readonly logger: Logger,
  ) {}

  study(row: StudyRecord): void {
    this.pendingStudy = row;
    this.schedule();
  }

  trial(row: TrialRow): void {
    this.pendingTrials.set(row.trial, row);
    this.schedule();
  }

  /** Resolves when everything changed so far is stored (or failed to be). */
  async flush(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  private schedule(): void {
    if (this.draining !== undefined) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.pendingStudy !== undefined || this.pendingTrials.size > 0) this.schedule();
    });
  }

  private async drain(): Promise<void> {
    while (this.pendingStudy !== undefined || this.pendingTrials.size > 0) {
      const trials = [...this.pendingTrials.values()];
      this.pendingTrials.clear();
      const study = this.pendingStudy;
      this.pendingStudy = undefined;
      try {
        // The study row carries the engine snapshot that a resume restores from, so it is written
        // first: a trial row is never durable before the snapshot that knows its outcome, and a
        // daemon killed between the two inserts never repeats a trial it had completed.
        if (study !== undefined)
          await retry(() => this.storage.saveStudy(study), { maxAttempts: 8, maxDelayMs: 5_000 });
        if (trials.length > 0)
          await retry(() => this.storage.saveTrials(trials), { maxAttempts: 8, maxDelayMs: 5_000 });
      } catch (error) {
        this.writeError ??= error;
        this.logger.error({ err: error }, 'could not persist the study');
      }
    }
  }
}
