/**
 * A 3-node WebRaft cluster over the real TCP transport on 127.0.0.1 for the
 * transport tests, plus the raw-socket tools an attacker would use.
 * Certificates come from examples/kv-demo/certificates.ts (openssl).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { RaftInterface, type NodeInstance, type RaftOptions } from 'webraft';
import {
  TcpNodeInstance,
  TcpRaftServer,
  TcpTransport,
  type TcpSecurity,
  type TcpTransportError,
  type TcpTransportOptions,
} from 'webraft/node';
import { makeClusterCertificates, type ClusterCertificates } from '../../examples/kv-demo/certificates.js';
import { mtlsSecurity } from '../../examples/kv-demo/security.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function freeAddresses(n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, async () => `127.0.0.1:${await freePort()}`));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check(); await sleep(10)) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
  }
}

/** A raft whose instances are TcpNodeInstances of one transport; records applied commands. */
export class TcpTestRaft extends RaftInterface {
  readonly applied: unknown[] = [];
  readonly created: string[] = [];

  constructor(
    address: string,
    options: RaftOptions,
    readonly transport: TcpTransport,
  ) {
    super(address, options);
    this.listen('apply', (entry) => void this.applied.push(entry.command));
  }

  createInstance(address: string): NodeInstance {
    this.created.push(address);
    return new TcpNodeInstance(address, this, this.transport);
  }
}

/** Certificates for `addresses` plus spare ones, in a temp dir removed by `dispose`. */
export async function certificatesFor(addresses: string[]): Promise<ClusterCertificates & { dir: string; dispose(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'webraft-tcp-certs-'));
  const certs = await makeClusterCertificates(dir, addresses, 2);
  return { ...certs, dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export function mtlsFor(certs: ClusterCertificates, address: string): TcpSecurity {
  const node = certs.nodes.get(address);
  if (!node) throw new Error(`no certificate for ${address}`);
  return mtlsSecurity([certs.ca], node.cert, node.key);
}

export interface TestCluster {
  addresses: string[];
  nodes: TcpTestRaft[];
  servers: TcpRaftServer[];
  transports: TcpTransport[];
  /** Every error the transports reported, by node address. */
  errors: Map<string, TcpTransportError[]>;
  leader(): TcpTestRaft;
  close(): Promise<void>;
}

/**
 * Starts a 3-node cluster (or `addresses.length`). `security(address)` gives
 * each node its mode; `options` adds transport options (limits) to all.
 */
export async function startCluster(
  addresses: string[],
  security: (address: string) => TcpSecurity,
  options: Partial<TcpTransportOptions> = {},
  raftOptions: Partial<RaftOptions> = {},
): Promise<TestCluster> {
  const errors = new Map<string, TcpTransportError[]>();
  const transports = addresses.map((address) => {
    errors.set(address, []);
    return new TcpTransport({ clusterId: 'test-cluster', ...options, security: security(address), onError: (e) => void errors.get(address)?.push(e) });
  });
  const nodes = addresses.map((address, i) => new TcpTestRaft(address, { peers: addresses, ...raftOptions }, transports[i]));
  const servers = nodes.map((raft, i) => new TcpRaftServer(raft, transports[i]));
  await Promise.all(servers.map((s) => s.listen()));
  const cluster: TestCluster = {
    addresses,
    nodes,
    servers,
    transports,
    errors,
    leader() {
      const leader = nodes.find((n) => n.isLeader);
      if (!leader) throw new Error('no leader');
      return leader;
    },
    async close() {
      for (const n of nodes) n.end();
      await Promise.all(servers.map((s) => s.close()));
    },
  };
  await waitFor(() => nodes.some((n) => n.isLeader), 10_000, 'a leader');
  return cluster;
}

/** Proposes through the leader and waits until every node applied it. */
export async function commitEverywhere(cluster: TestCluster, command: unknown): Promise<void> {
  await waitFor(() => cluster.nodes.some((n) => n.isLeader), 10_000, 'a leader');
  await cluster.leader().propose(command);
  const text = JSON.stringify(command);
  await waitFor(() => cluster.nodes.every((n) => n.applied.some((c) => JSON.stringify(c) === text)), 10_000, `${text} applied on every node`);
}

// ------------------------------------------------------------------ attacker tools

export function parse(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

/** A raw TCP connection; resolves once connected. */
export function rawConnect(address: string): Promise<Socket> {
  const { host, port } = parse(address);
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A TLS connection with the given options; resolves on secureConnect or rejects with the TLS error. */
export function tlsAttempt(address: string, options: ConnectionOptions): Promise<TLSSocket> {
  const { host, port } = parse(address);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, minVersion: 'TLSv1.3', ...options }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when the socket is closed by the other side (or destroyed); with the ms it took. */
export function closed(socket: Socket): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(0);
    socket.on('error', () => {});
    socket.resume(); // read (and discard what no one else reads), so the close is seen
    socket.once('close', () => resolve(Date.now() - started));
  });
}

/** Everything the socket receives until it closes. */
export function collect(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return closed(socket).then(() => Buffer.concat(chunks));
}

/** A length-delimited frame of a JSON hello (protocol webraft-tcp/2). */
export function helloFrame(hello: Record<string, unknown>): Buffer {
  const body = Buffer.from(JSON.stringify({ protocol: 'webraft-tcp', version: 2, ...hello }));
  const header = body.length < 128 ? Buffer.from([body.length]) : Buffer.from([(body.length & 0x7f) | 0x80, body.length >> 7]);
  return Buffer.concat([header, body]);
}

/** Reads the JSON of the first handshake frame in `bytes`. */
export function firstHandshakeFrame(bytes: Buffer): Record<string, unknown> | null {
  if (bytes.length === 0) return null;
  const length = bytes[0] < 0x80 ? bytes[0] : (bytes[0] & 0x7f) | (bytes[1] << 7);
  const start = bytes[0] < 0x80 ? 1 : 2;
  return JSON.parse(bytes.subarray(start, start + length).toString('utf8')) as Record<string, unknown>;
}

/** The bytes of a real TLS 1.3 ClientHello (captured from node:tls), to dribble at a server. */
export async function captureClientHello(): Promise<Buffer> {
  const sink = createServer();
  const captured = new Promise<Buffer>((resolve) => sink.once('connection', (s) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); })));
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const client = tlsConnect({ host: '127.0.0.1', port: (sink.address() as { port: number }).port, minVersion: 'TLSv1.3', rejectUnauthorized: false });
  client.on('error', () => {});
  const hello = await captured;
  client.destroy();
  await new Promise((resolve) => sink.close(resolve));
  return hello;
}

/** A fresh random PSK secret. */
export const randomSecret = () => new Uint8Array(randomBytes(32));

let gcFunction: (() => void) | null = null;
/** Runs a full garbage collection (V8's gc, exposed at runtime). */
export function collectGarbage(): void {
  if (!gcFunction) {
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc') as () => void;
  }
  gcFunction();
  gcFunction();
}
