export { RetuneError, type RetuneErrorCode } from './errors.js';
export {
  ModelRegistry,
  championStack,
  type AliasChange,
  type AliasChangeOptions,
  type CurrentAliases,
  type ModelRegistryDeps,
} from './model-registry.js';
export { MemoryRegistryStorage } from './memory-registry-storage.js';
