/** The daemon's states; every transition is logged. */
export type DaemonState = 'created' | 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

/** A cancellable self-rescheduling timer: the next run is scheduled only after this one ends. */
export class RepeatingTask {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly run: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(initialDelayMs = this.intervalMs): void {
    this.schedule(initialDelayMs);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.run()
        .catch(this.onError)
        .finally(() => this.schedule(this.intervalMs));
    }, delayMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
