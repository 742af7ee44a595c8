/**
 * webraft: the main entry. Browser-safe: nothing here imports a Node-only module.
 */
export { RaftInterface } from './api/raft-interface.js';
export type { AppliedEntry, RaftOptions, RaftStatus, SnapshotImage } from './api/raft-interface.js';
export { NodeInstance } from './api/node-instance.js';
export type { Clock, TimerHandle } from './api/clock.js';
export { RaftError } from './core/errors.js';
export type { RoleState } from './core/ready.js';
export type { Storage, StoredState, StorageUpdate } from './storage/storage.js';
export { MemoryStorage } from './storage/memory-storage.js';
export { IndexedDBStorage } from './storage/indexeddb-storage.js';
export { WireError, isWireError, DEFAULT_WIRE_LIMITS } from './wire/index.js';
export type { WireErrorCode, WireLimits, MessagePayload } from './wire/index.js';
export type { Configuration, HardState, JsonValue, LogEntry, Snapshot, ClientSession } from './core/types.js';
