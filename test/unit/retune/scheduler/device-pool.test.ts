import { describe, expect, it } from 'vitest';
import {
  createDevicePool,
  detectGpus,
  DevicePool,
  parseGpuIndexList,
} from '../../../../retune/scheduler/index.js';

describe('DevicePool', () => {
  it('hands each GPU to one trial at a time, then queues FIFO', async () => {
    const pool = new DevicePool({ devices: ['0', '1'] });
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect([a.device, b.device]).toEqual(['0', '1']);
    const order: string[] = [];
    const c = pool.acquire().then((l) => (order.push(`c:${l.device}`), l));
    const d = pool.acquire().then((l) => (order.push(`d:${l.device}`), l));
    expect(pool.waiting).toBe(2);
    b.release();
    b.release(); // idempotent: does not free a second slot
    const cl = await c;
    expect(order).toEqual(['c:1']);
    expect(pool.waiting).toBe(1);
    a.release();
    await d;
    expect(order).toEqual(['c:1', 'd:0']);
    cl.release();
    expect(pool.available).toBe(1);
  });

  it('removes a waiting trial whose signal aborts, and rejects an already-aborted one', async () => {
    const pool = new DevicePool({ devices: ['0'] });
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    const next = pool.acquire();
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    expect(pool.waiting).toBe(1);
    held.release();
    expect((await next).device).toBe('0');
    await expect(pool.acquire(AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });

  it('runs CPU-only hosts with device-less slots', async () => {
    const pool = new DevicePool({ devices: [], cpuConcurrency: 3 });
    expect(pool.kind).toBe('cpu');
    expect(pool.capacity).toBe(3);
    const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(leases.map((l) => l.device)).toEqual([undefined, undefined, undefined]);
    expect(pool.available).toBe(0);
  });

  it('shares a GPU between trialsPerDevice trials, spreading over devices first', async () => {
    const pool = new DevicePool({ devices: ['0', '1'], trialsPerDevice: 2 });
    const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(leases.map((l) => l.device)).toEqual(['0', '1', '0', '1']);
  });

  it('run() releases the slot when the task throws', async () => {
    const pool = new DevicePool({ devices: ['3'] });
    await expect(pool.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(pool.available).toBe(1);
    expect(await pool.run((device) => Promise.resolve(device))).toBe('3');
  });

  it('refuses bad options with the value', () => {
    expect(() => new DevicePool({ devices: ['0', '0'] })).toThrow(/distinct/);
    expect(() => new DevicePool({ devices: [], cpuConcurrency: 0 })).toThrow(/cpuConcurrency/);
  });
});

describe('GPU detection', () => {
  it('parses nvidia-smi index lines', () => {
    expect(parseGpuIndexList('0\n1\r\n 2 \n\n')).toEqual({ devices: ['0', '1', '2'] });
    expect(parseGpuIndexList('').devices).toEqual([]);
  });

  it('createDevicePool uses config devices, else the probe', async () => {
    const probe = (): Promise<{ devices: string[] }> => Promise.resolve({ devices: ['0', '1'] });
    expect((await createDevicePool({ devices: ['5'] }, probe)).pool.capacity).toBe(1);
    const auto = await createDevicePool({}, probe);
    expect(auto.source).toBe('nvidia-smi');
    expect(auto.pool.capacity).toBe(2);
    const none = await createDevicePool({ cpuConcurrency: 2 }, () =>
      Promise.resolve({ devices: [], reason: 'nvidia-smi not found' }),
    );
    expect(none.source).toBe('none');
    expect(none.pool.kind).toBe('cpu');
    expect(none.pool.capacity).toBe(2);
  });

  it('a host without nvidia-smi has no GPUs', async () => {
    const result = await detectGpus({ command: 'driftguard-no-such-nvidia-smi' });
    expect(result.devices).toEqual([]);
    expect(result.reason).toMatch(/not found/);
  });
});
