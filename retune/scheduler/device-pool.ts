/**
 * A pool of trial slots: one per GPU (each trial pinned to its own device through
 * `CUDA_VISIBLE_DEVICES`), or `cpuConcurrency` device-less slots on a CPU-only host. Trials
 * that find every slot busy wait in FIFO order; a waiting trial whose signal aborts leaves the
 * queue. Pure: no timers, no I/O.
 */

export interface DevicePoolOptions {
  /** GPU ids (as `nvidia-smi` numbers them). Empty = CPU-only host. */
  readonly devices: readonly string[];
  /** Trials sharing one GPU at a time. @default 1 */
  readonly trialsPerDevice?: number;
  /** Concurrent trials when `devices` is empty. @default 1 */
  readonly cpuConcurrency?: number;
}

export interface DeviceLease {
  /** The GPU id the trial is pinned to; undefined on a CPU slot. */
  readonly device: string | undefined;
  /** Returns the slot; idempotent. */
  release(): void;
}

interface Waiter {
  readonly resolve: (lease: DeviceLease) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

export class DevicePool {
  /** Free slots, in the order they are handed out (devices in config order first). */
  private readonly free: Array<string | undefined> = [];
  private readonly waiters: Waiter[] = [];
  private readonly slotCount: number;
  readonly kind: 'gpu' | 'cpu';

  constructor(options: DevicePoolOptions) {
    const perDevice = options.trialsPerDevice ?? 1;
    const cpu = options.cpuConcurrency ?? 1;
    if (!Number.isInteger(perDevice) || perDevice < 1)
      throw new RangeError(`trialsPerDevice must be an integer >= 1, got ${perDevice}`);
    if (!Number.isInteger(cpu) || cpu < 1)
      throw new RangeError(`cpuConcurrency must be an integer >= 1, got ${cpu}`);
    const unique = new Set(options.devices);
    if (unique.size !== options.devices.length)
      throw new RangeError(`devices must be distinct, got ${JSON.stringify(options.devices)}`);
    if (options.devices.length > 0) {
      this.kind = 'gpu';
      for (let round = 0; round < perDevice; round++) for (const d of options.devices) this.free.push(d);
    } else {
      this.kind = 'cpu';
      for (let i = 0; i < cpu; i++) this.free.push(undefined);
    }
    this.slotCount = this.free.length;
  }

  /** Slots in total: the most trials that run at once. */
  get capacity(): number {
    return this.slotCount;
  }

  get available(): number {
    return this.free.length;
  }

  get busy(): number {
    return this.slotCount - this.free.length;
  }

  /** Trials waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** A lease at once when a slot is free, else when one is released (FIFO). */
  acquire(signal?: AbortSignal): Promise<DeviceLease> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.free.length > 0 && this.waiters.length === 0)
      return Promise.resolve(this.lease(this.free.shift()));
    return new Promise<DeviceLease>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(signal?.reason as Error);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Runs `task` on a leased slot and releases it however the task ends. */
  async run<T>(task: (device: string | undefined) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const lease = await this.acquire(signal);
    try {
      return await task(lease.device);
    } finally {
      lease.release();
    }
  }

  private lease(device: string | undefined): DeviceLease {
    let released = false;
    return {
      device,
      release: () => {
        if (released) return;
        released = true;
        this.handBack(device);
      },
    };
  }

  private handBack(device: string | undefined): void {
    const next = this.waiters.shift();
    if (next === undefined) {
      this.free.push(device);
      return;
    }
    next.signal?.removeEventListener('abort', next.onAbort);
    next.resolve(this.lease(device));
  }
}
