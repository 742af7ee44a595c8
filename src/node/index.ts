/** webraft/node: Node-only parts (durable storage, TCP transport). */
export { FileStorage } from './file-storage.js';
export type { FileStorageOptions, FileStorageStats, StorageLogger } from './file-storage.js';
export { StorageError, isStorageError } from './storage-error.js';
export type { StorageErrorCode } from './storage-error.js';
export {
  TcpTransport,
  TcpNodeInstance,
  TcpRaftServer,
  TcpTransportError,
  isTcpTransportError,
  parseTcpAddress,
  identityUri,
  pskKeyId,
  TCP_DEFAULTS,
  MAX_HELLO_BYTES,
  MAX_ADDRESS_LENGTH,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
} from './tcp/index.js';
export type {
  TcpTransportOptions,
  TcpSecurity,
  MutualTlsSecurity,
  PskSecurity,
  InsecurePlaintextSecurity,
  Pem,
  TcpListenOptions,
  TcpServerStats,
  TcpErrorCode,
  TcpAddress,
} from './tcp/index.js';
