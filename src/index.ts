/**
 * webraft: the main entry. Browser-safe: nothing here imports a Node-only module.
 */
export type { Storage, StoredState, StorageUpdate } from './storage/storage.js';
export { MemoryStorage } from './storage/memory-storage.js';
export { IndexedDBStorage } from './storage/indexeddb-storage.js';
export type { Configuration, HardState, JsonValue, LogEntry, Snapshot } from './core/types.js';
