import type { AliasEvent, AliasName, DecisionRecord, ModelVersion, RegistryStorage } from '../store/types.js';

/** The registry port in memory: for unit tests and dry runs of tooling. */
export class MemoryRegistryStorage implements RegistryStorage {
  readonly versionRows: ModelVersion[] = [];
  readonly events: AliasEvent[] = [];
  readonly decisions: DecisionRecord[] = [];

  saveVersion(version: ModelVersion): Promise<void> {
    const at = this.versionRows.findIndex((v) => v.model === version.model && v.version === version.version);
    if (at >= 0) this.versionRows[at] = version;
    else this.versionRows.push(version);
    return Promise.resolve();
  }
  getVersion(model: string, version: string): Promise<ModelVersion | undefined> {
    return Promise.resolve(this.versionRows.find((v) => v.model === model && v.version === version));
  }
  listVersions(model: string): Promise<ModelVersion[]> {
    return Promise.resolve(this.versionRows.filter((v) => v.model === model));
  }
  appendAliasEvent(event: AliasEvent): Promise<void> {
    this.events.push(event);
    return Promise.resolve();
  }
  aliasHistory(model: string, alias?: AliasName): Promise<AliasEvent[]> {
    return Promise.resolve(
      this.events.filter((e) => e.model === model && (alias === undefined || e.alias === alias)),
    );
  }
  saveDecision(decision: DecisionRecord): Promise<void> {
    this.decisions.push(decision);
    return Promise.resolve();
  }
  listDecisions(model: string): Promise<DecisionRecord[]> {
    return Promise.resolve(this.decisions.filter((d) => d.model === model));
  }
}
