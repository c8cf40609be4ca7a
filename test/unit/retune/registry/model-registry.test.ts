import { describe, expect, it } from 'vitest';
import { MemoryRegistryStorage, ModelRegistry, RetuneError } from '../../../../retune/registry/index.js';
import type { ModelVersion } from '../../../../retune/store/index.js';

function version(v: string): ModelVersion {
  return {
    model: 'm',
    version: v,
    createdAtMs: 0,
    studyId: 's',
    trial: 0,
    artifactUri: `/x/${v}`,
    params: {},
    metrics: {},
  };
}

async function setup(...versions: string[]) {
  const storage = new MemoryRegistryStorage();
  let t = 1000;
  const registry = new ModelRegistry({ storage, now: () => (t += 1000) });
  for (const v of versions) await registry.registerVersion(version(v));
  return { storage, registry };
}

describe('model registry', () => {
  it('promotes with an audit event and reads the current aliases from the latest events', async () => {
    const { storage, registry } = await setup('v1', 'v2');
    await registry.promote('m', 'v1', { actor: 'retuner', reason: 'first', evidence: { p: 1 } });
    const change = await registry.promote('m', 'v2', { actor: 'api', reason: 'better' });
    expect(change.event).toMatchObject({
      alias: 'champion',
      version: 'v2',
      previousVersion: 'v1',
      action: 'promote',
      actor: 'api',
    });
    expect(await registry.aliases('m')).toEqual({ champion: 'v2', challenger: undefined });
    expect(storage.events).toHaveLength(2);
    expect(storage.events[0]?.evidence).toEqual({ p: 1 });
  });

  it('dry runs validate and write nothing', async () => {
    const { storage, registry } = await setup('v1');
    const change = await registry.promote('m', 'v1', { dryRun: true });
    expect(change.dryRun).toBe(true);
    expect(storage.events).toHaveLength(0);
    await expect(registry.promote('m', 'nope', { dryRun: true })).rejects.toMatchObject({
      code: 'RETUNE_NOT_FOUND',
    });
  });

  it('refuses to promote the current champion again', async () => {
    const { registry } = await setup('v1');
    await registry.promote('m', 'v1');
    await expect(registry.promote('m', 'v1')).rejects.toBeInstanceOf(RetuneError);
  });

  it('rolls back through the champion history, not back and forth', async () => {
    const { registry } = await setup('v1', 'v2', 'v3');
    await registry.promote('m', 'v1');
    await registry.promote('m', 'v2');
    await registry.promote('m', 'v3');
    const first = await registry.rollback('m', { actor: 'ops' });
    expect(first.event).toMatchObject({ action: 'rollback', version: 'v2', previousVersion: 'v3' });
    await registry.rollback('m');
    expect((await registry.aliases('m')).champion).toBe('v1');
    await expect(registry.rollback('m')).rejects.toMatchObject({ code: 'RETUNE_CONFLICT' });
    const explicit = await registry.rollback('m', { to: 'v3' });
    expect(explicit.event.version).toBe('v3');
    expect((await registry.history('m')).map((e) => `${e.action}:${e.version}`)).toEqual([
      'promote:v1',
      'promote:v2',
      'promote:v3',
      'rollback:v2',
      'rollback:v1',
      'rollback:v3',
    ]);
  });

  it('refuses a rollback without a champion, and a dry-run rollback changes nothing', async () => {
    const { registry } = await setup('v1', 'v2');
    await expect(registry.rollback('m')).rejects.toMatchObject({ code: 'RETUNE_CONFLICT' });
    await registry.promote('m', 'v1');
    await registry.promote('m', 'v2');
    const dry = await registry.rollback('m', { dryRun: true });
    expect(dry.event.version).toBe('v1');
    expect((await registry.aliases('m')).champion).toBe('v2');
  });

  it('serialises concurrent promotions so each sees the previous one', async () => {
    const { registry } = await setup('v1', 'v2');
    const [a, b] = await Promise.all([registry.promote('m', 'v1'), registry.promote('m', 'v2')]);
    expect(a.event.previousVersion).toBe('');
    expect(b.event.previousVersion).toBe('v1');
  });
});
