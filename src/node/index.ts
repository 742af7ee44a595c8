/** webraft/node: Node-only parts (durable storage, TCP helpers). */
export { FileStorage } from './file-storage.js';
export type { FileStorageOptions, FileStorageStats, StorageLogger } from './file-storage.js';
export { StorageError, isStorageError } from './storage-error.js';
export type { StorageErrorCode } from './storage-error.js';
export { TcpNodeInstance, TcpRaftServer, parseTcpAddress, type TcpNodeInstanceOptions, type TcpRaftServerOptions } from './tcp-transport.js';
