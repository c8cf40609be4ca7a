import { execFile } from 'node:child_process';

export interface DetectGpusOptions {
  /** The binary to ask. @default 'nvidia-smi' */
  readonly command?: string;
  /** @default 10_000 */
  readonly timeoutMs?: number;
}

export interface GpuDetection {
  readonly devices: readonly string[];
  /** Why no devices were found, when none were (for the boot log). */
  readonly reason?: string;
}

/**
 * Lists GPU indices with `nvidia-smi --query-gpu=index --format=csv,noheader`, spawned without
 * a shell. A host without the binary, or where it fails, has no GPUs: trials run on CPU slots.
 */
export function detectGpus(options: DetectGpusOptions = {}): Promise<GpuDetection> {
  const command = options.command ?? 'nvidia-smi';
  return new Promise((resolve) => {
    execFile(
      command,
      ['--query-gpu=index', '--format=csv,noheader'],
      { timeout: options.timeoutMs ?? 10_000, shell: false, windowsHide: true },
      (error, stdout) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          resolve({
            devices: [],
            reason:
              code === 'ENOENT'
                ? `${command} not found`
                : `${command} failed: ${error.message.split('\n')[0]}`,
          });
          return;
        }
        resolve(parseGpuIndexList(stdout));
      },
    );
  });
}

/** Parses `nvidia-smi --query-gpu=index --format=csv,noheader` output: one index per line. */
export function parseGpuIndexList(stdout: string): GpuDetection {
  const devices = stdout
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => /^\d+$/.test(line));
  return devices.length > 0 ? { devices } : { devices, reason: 'nvidia-smi listed no GPUs' };
}
