/** Where retune trials run: GPU pinning and CPU concurrency. */
import { DevicePool } from './device-pool.js';
import { detectGpus, type DetectGpusOptions, type GpuDetection } from './detect-gpus.js';

export { DevicePool, type DeviceLease, type DevicePoolOptions } from './device-pool.js';
export { detectGpus, parseGpuIndexList, type DetectGpusOptions, type GpuDetection } from './detect-gpus.js';

/** The `retune.scheduler` config section. */
export interface SchedulerOptions {
  /** GPU ids, or `'auto'` to ask nvidia-smi; `[]` forces CPU. @default 'auto' */
  readonly devices?: 'auto' | readonly string[];
  /** Trials per GPU at once. @default 1 */
  readonly trialsPerDevice?: number;
  /** Concurrent trials on a host without GPUs. @default 1 */
  readonly cpuConcurrency?: number;
  /** Options of the nvidia-smi probe (`devices: auto`). */
  readonly detect?: DetectGpusOptions;
}

export interface CreatedDevicePool {
  readonly pool: DevicePool;
  /** How the device list was found, for the boot log. */
  readonly source: 'config' | 'nvidia-smi' | 'none';
  readonly detection?: GpuDetection;
}

/** Builds the pool from config, probing nvidia-smi when `devices` is `'auto'` (the default). */
export async function createDevicePool(
  options: SchedulerOptions = {},
  detect: (o?: DetectGpusOptions) => Promise<GpuDetection> = detectGpus,
): Promise<CreatedDevicePool> {
  const base = { trialsPerDevice: options.trialsPerDevice, cpuConcurrency: options.cpuConcurrency };
  if (options.devices !== undefined && options.devices !== 'auto')
    return { pool: new DevicePool({ ...base, devices: options.devices }), source: 'config' };
  const detection = await detect(options.detect);
  return {
    pool: new DevicePool({ ...base, devices: detection.devices }),
    source: detection.devices.length > 0 ? 'nvidia-smi' : 'none',
    detection,
  };
}
