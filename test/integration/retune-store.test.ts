import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClickHouseRetuneStore,
  MemoryRetuneStorage,
  RETUNE_MIGRATIONS,
  type RegistryStorage,
  type StudyRecord,
  type StudyStorage,
  type TrialRow,
} from '../../retune/store/index.js';
import type { Store } from '../../kernel/store.js';
import { ENGINES, migratedDatabase, type TestBackend } from '../support/index.js';

/**
 * One contract, three adapters: the in-memory fake the unit tests use, and the ClickHouse SQL
 * adapter on every storage backend (the 18.16 server, the current engine embedded, and the 18.16
 * cluster behind Distributed tables).
 */
type Storage = StudyStorage & RegistryStorage;

const stores: Partial<Record<TestBackend, Store>> = {};
const drops: Array<() => Promise<void>> = [];
beforeAll(async () => {
  for (const engine of ENGINES) {
    const { store, drop } = await migratedDatabase('retune_store', RETUNE_MIGRATIONS, engine);
    stores[engine] = store;
    drops.push(drop);
  }
});
afterAll(async () => {
  for (const drop of drops) await drop();
});

function sqlAdapter(engine: TestBackend): Storage {
  const store = stores[engine];
  if (store === undefined) throw new Error(`no ${engine} store`);
  return new ClickHouseRetuneStore(store);
}

const T0 = 1_700_000_000_000;

function study(id: string, model: string, over: Partial<StudyRecord> = {}): StudyRecord {
  return {
    studyId: id,
    model,
    createdAtMs: T0,
    updatedAtMs: T0,
    state: 'running',
    trigger: 'api',
    direction: 'minimize',
    objective: 'val_loss',
    sampler: 'tpe',
    pruner: 'median',
    seed: 4_000_000_000,
    maxTrials: 10,
    snapshot: '{"trials":[]}',
    bestTrial: -1,
    bestValue: null,
    error: '',
    dataset: '',
    window: '',
    ...over,
  };
}

function trial(studyId: string, n: number, over: Partial<TrialRow> = {}): TrialRow {
  return {
    studyId,
    model: 'm',
    trial: n,
    state: 'running',
    params: { lr: 0.1, kind: 'a' },
    value: null,
    intermediate: [],
    startedAtMs: T0,
    finishedAtMs: 0,
    device: '',
    updatedAtMs: T0,
    failReason: '',
    artifactPath: '',
    ...over,
  };
}

const adapters: Array<[string, () => Storage]> = [
  ['memory', () => new MemoryRetuneStorage()],
  ['clickhouse server', () => sqlAdapter('server')],
  ['clickhouse embedded', () => sqlAdapter('embedded')],
  ['clickhouse cluster', () => sqlAdapter('cluster')],
];

describe.each(adapters)('retune storage contract (%s)', (name, make) => {
  const p = `${name.replace(/ /g, '_')}_`;

  it('reads the latest study row even when rows share a second', async () => {
    const s = make();
    const id = `${p}s1`;
    await s.saveStudy(study(id, `${p}m`));
    await s.saveStudy(study(id, `${p}m`, { bestTrial: 2, bestValue: 0.5 }));
    await s.saveStudy(study(id, `${p}m`, { state: 'completed', bestTrial: 3, bestValue: 0.25 }));
    expect(await s.getStudy(id)).toEqual(
      study(id, `${p}m`, { state: 'completed', bestTrial: 3, bestValue: 0.25 }),
    );
    expect(await s.getStudy(`${p}none`)).toBeUndefined();
  });

  it('keeps a waiting study and its data window', async () => {
    const s = make();
    const id = `${p}w1`;
    const window = JSON.stringify({ policy: 'drift-onset', onsetMs: T0, neededRows: 1000, labelledRows: 12 });
    await s.saveStudy(study(id, `${p}wm`, { state: 'waiting', window }));
    expect(await s.getStudy(id)).toEqual(study(id, `${p}wm`, { state: 'waiting', window }));
    expect((await s.listStudies({ model: `${p}wm`, state: 'waiting' })).map((x) => x.window)).toEqual([
      window,
    ]);
  });

  it('lists studies by model and by their latest state, newest first, with paging', async () => {
    const s = make();
    const model = `${p}list`;
    await s.saveStudy(study(`${p}a`, model, { createdAtMs: T0 }));
    await s.saveStudy(study(`${p}b`, model, { createdAtMs: T0 + 5000 }));
    await s.saveStudy(study(`${p}b`, model, { createdAtMs: T0 + 5000, state: 'failed', error: 'x' }));
    await s.saveStudy(study(`${p}c`, `${p}other`, { createdAtMs: T0 + 9000 }));
    expect((await s.listStudies({ model })).map((x) => x.studyId)).toEqual([`${p}b`, `${p}a`]);
    expect((await s.listStudies({ model, state: 'running' })).map((x) => x.studyId)).toEqual([`${p}a`]);
    expect((await s.listStudies({ model, limit: 1, offset: 1 })).map((x) => x.studyId)).toEqual([`${p}a`]);
    expect(await s.lastStudyCreatedAt(model)).toBe(T0 + 5000);
    expect(await s.lastStudyCreatedAt(`${p}never`)).toBeUndefined();
  });

  it('keeps the latest row per trial with params, intermediate values and artifact', async () => {
    const s = make();
    const id = `${p}trials`;
    await s.saveTrial(trial(id, 0));
    await s.saveTrial(trial(id, 1));
    await s.saveTrial(trial(id, 0, { intermediate: [[1, 0.5]] }));
    const completed: Partial<TrialRow> = {
      state: 'complete',
      value: 0.25,
      intermediate: [
        [1, 0.5],
        [2, 0.25],
      ],
      finishedAtMs: T0 + 2000,
      artifactPath: '/a/model.json',
      device: '1',
    };
    await s.saveTrial(trial(id, 0, completed));
    await s.saveTrial(trial(id, 1, { state: 'failed', failReason: 'OOM' }));
    const rows = await s.listTrials(id);
    expect(rows).toEqual([trial(id, 0, completed), trial(id, 1, { state: 'failed', failReason: 'OOM' })]);
  });

  it('stores versions, alias history in order, and decisions with missing statistics', async () => {
    const s = make();
    const model = `${p}reg`;
    const v = {
      model,
      version: 'v1',
      createdAtMs: T0,
      studyId: 's',
      trial: 3,
      artifactUri: '/m/v1',
      params: { lr: 0.1 },
      metrics: { acc: 0.9 },
    };
    await s.saveVersion(v);
    // A version carries what scoring it needs (its encoding, columns and classes).
    const scoring = {
      format: 'driftguard.retune.scoring',
      version: 1,
      task: 'classification',
      classes: ['a', 'b'],
    };
    await s.saveVersion({ ...v, version: 'v2', createdAtMs: T0 + 1000, scoring });
    expect(await s.getVersion(model, 'v1')).toEqual(v);
    expect((await s.getVersion(model, 'v2'))?.scoring).toEqual(scoring);
    expect((await s.listVersions(model)).map((x) => x.version)).toEqual(['v1', 'v2']);
    const event = {
      model,
      alias: 'champion' as const,
      version: 'v1',
      previousVersion: '',
      atMs: T0,
      actor: 'a',
      action: 'promote' as const,
      reason: 'r',
      evidence: { p: 0.01 },
    };
    await s.appendAliasEvent(event);
    await s.appendAliasEvent({ ...event, version: 'v2', previousVersion: 'v1' });
    await s.appendAliasEvent({ ...event, version: 'v1', previousVersion: 'v2', action: 'rollback' });
    expect((await s.aliasHistory(model)).map((e) => `${e.action}:${e.version}`)).toEqual([
      'promote:v1',
      'promote:v2',
      'rollback:v1',
    ]);
    expect(await s.aliasHistory(model, 'challenger')).toEqual([]);
    expect((await s.aliasHistory(model))[0]).toEqual(event);
    const decision = {
      model,
      studyId: 's',
      decidedAtMs: T0,
      challengerVersion: 'v2',
      championVersion: 'v1',
      promoted: false,
      metric: 'mse',
      championValue: 1.5,
      challengerValue: 1.25,
      improvement: 0.25,
      pValue: null,
      ciLow: -0.1,
      ciHigh: 0.6,
      test: 'paired_t',
      reason: 'rejected: ...',
      evidence: { testIndex: 3, alphaSpent: 0.0034 },
    };
    await s.saveDecision(decision);
    expect(await s.listDecisions(model)).toEqual([decision]);
  });
});
