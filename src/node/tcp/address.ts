/**
 * Raft addresses of the TCP transport: `host:port`, where host is an IPv4
 * address, a bracketed IPv6 address or a DNS name. Anything else is refused
 * before it could be dialed, logged or put into a certificate check.
 */
import { isIP } from 'node:net';
import { TcpTransportError } from './errors.js';

/**
 * Longest address in bytes. It must fit a TLS-PSK identity (at most 256 bytes)
 * with its key id (`<16 hex>@`), and keeps hostile hellos small.
 */
export const MAX_ADDRESS_LENGTH = 200;

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** A parsed address: `host` without brackets, `port` in 1..65535. */
export interface TcpAddress {
  host: string;
  port: number;
}

/**
 * Parses `host:port` (`[v6]:port` for IPv6).
 * @throws TcpTransportError INVALID_ADDRESS when it is anything else.
 */
export function parseTcpAddress(address: string): TcpAddress {
  const parsed = tryParseTcpAddress(address);
  if (!parsed) throw new TcpTransportError('INVALID_ADDRESS', `not a host:port address: ${describe(address)}`);
  return parsed;
}

/** {@link parseTcpAddress} without throwing: null for anything but a valid address. */
export function tryParseTcpAddress(address: unknown): TcpAddress | null {
  if (typeof address !== 'string' || address.length === 0 || address.length > MAX_ADDRESS_LENGTH) return null;
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return null;
  const portText = address.slice(colon + 1);
  if (!/^[1-9][0-9]{0,4}$/.test(portText)) return null;
  const port = Number(portText);
  if (port > 65535) return null;
  let host = address.slice(0, colon);
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) return null;
    host = host.slice(1, -1);
    return isIP(host) === 6 ? { host, port } : null;
  }
  if (isIP(host) === 4 || DNS_NAME.test(host)) return { host, port };
  return null;
}

/** A value quoted for an error message, cut to a readable length. */
export function describe(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}
