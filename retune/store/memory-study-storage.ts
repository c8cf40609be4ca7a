import { MemoryRegistryStorage } from '../registry/memory-registry-storage.js';
import type { StudyQuery, StudyRecord, StudyStorage, TrialRow } from './types.js';

/** Both ports in memory, latest row wins: for unit tests of the orchestrator. */
export class MemoryRetuneStorage extends MemoryRegistryStorage implements StudyStorage {
  readonly studyRows: StudyRecord[] = [];
  readonly trialRows: TrialRow[] = [];

  saveStudy(study: StudyRecord): Promise<void> {
    this.studyRows.push(study);
    return Promise.resolve();
  }
  saveTrial(trial: TrialRow): Promise<void> {
    this.trialRows.push(trial);
    return Promise.resolve();
  }
  saveTrials(trials: readonly TrialRow[]): Promise<void> {
    this.trialRows.push(...trials);
    return Promise.resolve();
  }
  getStudy(studyId: string): Promise<StudyRecord | undefined> {
    return Promise.resolve(this.studyRows.filter((s) => s.studyId === studyId).at(-1));
  }
  listStudies(query: StudyQuery = {}): Promise<StudyRecord[]> {
    const latest = new Map<string, StudyRecord>();
    for (const row of this.studyRows) latest.set(row.studyId, row);
    const offset = query.offset ?? 0;
    return Promise.resolve(
      [...latest.values()]
        .filter(
          (s) =>
            (query.model === undefined || s.model === query.model) &&
            (query.state === undefined || s.state === query.state),
        )
        .sort((a, b) => b.createdAtMs - a.createdAtMs)
        .slice(offset, offset + (query.limit ?? 50)),
    );
  }
  listTrials(studyId: string): Promise<TrialRow[]> {
    const latest = new Map<number, TrialRow>();
    for (const row of this.trialRows) if (row.studyId === studyId) latest.set(row.trial, row);
    return Promise.resolve([...latest.values()].sort((a, b) => a.trial - b.trial));
  }
  lastStudyCreatedAt(model: string): Promise<number | undefined> {
    const times = this.studyRows.filter((s) => s.model === model).map((s) => s.createdAtMs);
    return Promise.resolve(times.length === 0 ? undefined : Math.max(...times));
  }
}
