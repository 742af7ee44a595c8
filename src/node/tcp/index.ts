/** The TCP transport of webraft/node (docs/tcp-protocol.md). */
export { TcpTransport } from './transport.js';
export { TcpNodeInstance } from './node-instance.js';
export { TcpRaftServer, type TcpListenOptions, type TcpServerStats } from './server.js';
export { TcpTransportError, isTcpTransportError, type TcpErrorCode } from './errors.js';
export { parseTcpAddress, MAX_ADDRESS_LENGTH, type TcpAddress } from './address.js';
export { TCP_DEFAULTS, MAX_HELLO_BYTES } from './options.js';
export type { TcpTransportOptions, TcpSecurity, MutualTlsSecurity, PskSecurity, InsecurePlaintextSecurity, Pem } from './options.js';
export { PROTOCOL_NAME, PROTOCOL_VERSION } from './hello.js';
export { identityUri, pskKeyId } from './security.js';
