/**
 * When a model's drift began, as far as the monitor can tell: the start of the first evaluation
 * window of its current non-ok streak (warning or critical). The retuner anchors a drift-triggered
 * study's data to it, so the challenger learns the world after the drift.
 *
 * In memory, per replica: after a restart or an ownership move the streak starts again at the next
 * unhealthy window, later than the truth (fewer post-drift rows, not pre-drift ones). The first
 * unhealthy window may begin a little before the drift itself: a window-level signal cannot place
 * it more exactly.
 */
export type HealthStatus = 'ok' | 'warning' | 'critical';

export class DriftOnsets {
  private readonly since = new Map<string, number>();

  /** Records one evaluation; the onset of the streak it belongs to, or undefined when healthy. */
  observe(model: string, status: HealthStatus, windowStartMs: number): number | undefined {
    if (status === 'ok') {
      this.since.delete(model);
      return undefined;
    }
    const onset = this.since.get(model) ?? windowStartMs;
    this.since.set(model, onset);
    return onset;
  }

  forget(model: string): void {
    this.since.delete(model);
  }
}
