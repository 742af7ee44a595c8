/**
 * Resource attacks on the TCP transport: memory before the handshake,
 * connection floods, idle and slowloris connections, oversized frames. Each
 * runs against a cluster with every limit at its default except, where the
 * test waits for one, a short handshake or idle timeout. Assertions are on
 * outcomes (which connections closed, with which code, what was buffered),
 * never on speed.
 */
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_HELLO_BYTES, TCP_DEFAULTS, type TcpTransportOptions } from 'webraft/node';
import {
  captureClientHello,
  certificatesFor,
  closed,
  collectGarbage,
  commitEverywhere,
  firstHandshakeFrame,
  freeAddresses,
  helloFrame,
  mtlsFor,
  rawConnect,
  sleep,
  startCluster,
  waitFor,
  type TestCluster,
} from './tcp-harness.js';

let addresses: string[];
let certs: Awaited<ReturnType<typeof certificatesFor>>;
beforeAll(async () => {
  addresses = await freeAddresses(3);
  certs = await certificatesFor(addresses);
});
afterAll(() => certs.dispose());

let cluster: TestCluster | null = null;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await cluster?.close();
  cluster = null;
});

const mtls = (options: Partial<TcpTransportOptions> = {}) => startCluster(addresses, (a) => mtlsFor(certs, a), options);
const plaintext = (options: Partial<TcpTransportOptions> = {}) => startCluster(addresses, () => ({ mode: 'insecure-plaintext' }), options);

async function attacker(address: string): Promise<Socket> {
  const socket = await rawConnect(address);
  socket.on('error', () => {});
  sockets.push(socket);
  return socket;
}

/** A varint length header declaring `n` bytes. */
function header(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** heapUsed + arrayBuffers after a full GC, in bytes. */
function retainedBytes(): number {
  collectGarbage();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

describe('memory before the handshake stays bounded', () => {
  it('16 connections declaring 64 MiB frames and sending 2 MiB each: each closed at its header, nothing retained (plaintext hello layer)', async () => {
    cluster = await plaintext();
    const target = cluster.servers[0];
    const before = retainedBytes();
    let maxBuffered = 0;
    const watcher = setInterval(() => (maxBuffered = Math.max(maxBuffered, target.bufferedBytes)), 1);
    const attacks = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const socket = await attacker(cluster!.addresses[0]);
        const done = closed(socket);
        socket.write(header(64 * 1024 * 1024));
        for (let i = 0; i < 32 && !socket.destroyed; i++) socket.write(Buffer.alloc(64 * 1024, 0x61));
        return done;
      }),
    );
    expect(attacks).toHaveLength(16);
    clearInterval(watcher);
    expect(target.stats.refused.LIMIT_EXCEEDED).toBe(16);
    expect(target.bufferedBytes).toBe(0);
    expect(maxBuffered).toBeLessThanOrEqual(16 * (MAX_HELLO_BYTES + 2));
    sockets.splice(0).forEach((s) => s.destroy());
    await sleep(50);
    // 32 MiB were sent; what stays after GC is the cluster's normal churn (a margin of 8 MiB).
    expect(retainedBytes() - before).toBeLessThan(8 * 1024 * 1024);
    await commitEverywhere(cluster, 'after the memory attack');
  });

  it('bytes without a complete hello beyond MAX_HELLO_BYTES are refused (LIMIT_EXCEEDED), and so are bytes sent after a hello before its answer', async () => {
    cluster = await plaintext();
    const target = cluster.addresses[0];
    const flood = await attacker(target);
    const floodClosed = closed(flood);
    flood.write(header(MAX_HELLO_BYTES + 1));
    await floodClosed;
    const pipelined = await attacker(target);
    const pipelinedClosed = closed(pipelined);
    pipelined.write(Buffer.concat([helloFrame({ cluster: 'test-cluster', from: '127.0.0.1:1', to: target }), Buffer.from([5, 1, 2, 3, 4, 5])]));
    await pipelinedClosed;
    expect(cluster.servers[0].stats.refused).toMatchObject({ LIMIT_EXCEEDED: 1, PROTOCOL_VIOLATION: 1 });
    expect(cluster.servers[0].stats.accepted).toBe(2);
  });

  it('against mutual TLS, 16 connections pouring 1 MiB of non-TLS bytes each are closed and leave nothing behind', async () => {
    cluster = await mtls();
    const before = retainedBytes();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        const socket = await attacker(cluster!.addresses[1]);
        const done = closed(socket);
        for (let i = 0; i < 16 && !socket.destroyed; i++) socket.write(Buffer.alloc(64 * 1024, 0x16));
        return done;
      }),
    );
    await waitFor(() => cluster!.servers[1].connectionCount === 2);
    sockets.splice(0).forEach((s) => s.destroy());
    await sleep(50);
    expect(retainedBytes() - before).toBeLessThan(8 * 1024 * 1024);
    await commitEverywhere(cluster, 'after the TLS flood');
  });
});

describe('connection caps', () => {
  it(`more than maxHandshakes (${TCP_DEFAULTS.maxHandshakes}) unauthenticated connections: the extra ones are closed at once, peers keep replicating`, async () => {
    cluster = await mtls();
    const target = cluster.addresses[1];
    const held = await Promise.all(Array.from({ length: TCP_DEFAULTS.maxHandshakes }, () => attacker(target)));
    await waitFor(() => cluster!.servers[1].handshakeCount === TCP_DEFAULTS.maxHandshakes);
    const extra = await Promise.all(Array.from({ length: 5 }, () => attacker(target)));
    await Promise.all(extra.map(closed));
    expect(cluster.servers[1].stats.refused.TOO_MANY_HANDSHAKES).toBe(5);
    expect(held.every((s) => !s.destroyed)).toBe(true);
    // The established peer connections are not handshakes: the cluster still commits through the attacked node.
    await commitEverywhere(cluster, 'while 16 handshakes hang');
  });

  it(`more than maxConnections (${TCP_DEFAULTS.maxConnections}) connections: the extra ones are closed at once`, async () => {
    cluster = await plaintext();
    const target = cluster.addresses[0];
    const server = cluster.servers[0];
    await waitFor(() => server.connectionCount === 2); // the two peers
    // Authenticated (hello accepted) connections claiming distinct addresses, a few handshakes at a time.
    for (let i = 0; server.connectionCount < TCP_DEFAULTS.maxConnections; i++) {
      const socket = await attacker(target);
      const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
      socket.write(helloFrame({ cluster: 'test-cluster', from: `127.0.0.1:${30000 + i}`, to: target }));
      await answered;
    }
    const extra = await attacker(target);
    await closed(extra);
    expect(server.stats.refused.TOO_MANY_CONNECTIONS).toBe(1);
    expect(server.connectionCount).toBe(TCP_DEFAULTS.maxConnections);
  });
});

describe('idle and slowloris connections are closed', () => {
  const short = { handshakeTimeoutMs: 300, idleTimeoutMs: 300 };

  it('a connection that never completes TLS is closed (HANDSHAKE_TIMEOUT), and so is one dribbling a ClientHello a byte at a time', async () => {
    cluster = await mtls(short);
    const target = cluster.addresses[2];
    const silent = await attacker(target);
    const dribbler = await attacker(target);
    const clientHello = await captureClientHello();
    let sent = 0;
    const dribble = setInterval(() => !dribbler.destroyed && sent < clientHello.length && dribbler.write(clientHello.subarray(sent, ++sent)), 20);
    await Promise.all([closed(silent), closed(dribbler)]);
    clearInterval(dribble);
    expect(sent).toBeLessThan(clientHello.length);
    expect(cluster.servers[2].stats.refused.HANDSHAKE_TIMEOUT).toBe(2);
  });

  it('a plaintext hello dribbled slowly is closed at the handshake deadline', async () => {
    cluster = await plaintext(short);
    const target = cluster.addresses[0];
    const socket = await attacker(target);
    const bytes = helloFrame({ cluster: 'test-cluster', from: '127.0.0.1:1', to: target });
    let sent = 0;
    const dribble = setInterval(() => !socket.destroyed && sent < bytes.length && socket.write(bytes.subarray(sent, ++sent)), 20);
    await closed(socket);
    clearInterval(dribble);
    expect(sent).toBeLessThan(bytes.length);
    expect(cluster.servers[0].stats.refused.HANDSHAKE_TIMEOUT).toBe(1);
  });

  it('an accepted connection that goes quiet is closed (idle), one that stalls inside a frame is closed and reported (IDLE_TIMEOUT)', async () => {
    cluster = await plaintext(short);
    const target = cluster.addresses[0];
    const server = cluster.servers[0];
    const hello = async (from: string) => {
      const socket = await attacker(target);
      const answer = new Promise<Buffer>((resolve) => socket.once('data', resolve));
      socket.write(helloFrame({ cluster: 'test-cluster', from, to: target }));
      expect(firstHandshakeFrame(await answer)).toMatchObject({ ok: true });
      return socket;
    };
    const quiet = await hello('127.0.0.1:40001');
    const slowloris = await hello('127.0.0.1:40002');
    slowloris.write(header(1000));
    const dribble = setInterval(() => !slowloris.destroyed && slowloris.write(Buffer.from([0])), 20);
    await Promise.all([closed(quiet), closed(slowloris)]);
    clearInterval(dribble);
    expect(server.stats.idleClosed).toBeGreaterThanOrEqual(2);
    const reported = cluster.errors.get(target)!.filter((e) => e.code === 'IDLE_TIMEOUT');
    expect(reported.map((e) => e.peer)).toEqual(['127.0.0.1:40002']);
  });

  it('300 idle connections: at most maxHandshakes are handshaking at a time and every one is closed', async () => {
    cluster = await mtls(short);
    const target = cluster.addresses[1];
    const server = cluster.servers[1];
    let most = 0;
    const watcher = setInterval(() => (most = Math.max(most, server.handshakeCount)), 1);
    const flood = await Promise.all(Array.from({ length: 300 }, () => attacker(target)));
    await Promise.all(flood.map(closed));
    clearInterval(watcher);
    const refused = server.stats.refused;
    // Every flood connection was closed for one of these two reasons (the peers' own redials, which the short
    // idle timeout causes, may add a few more).
    expect((refused.TOO_MANY_HANDSHAKES ?? 0) + (refused.HANDSHAKE_TIMEOUT ?? 0)).toBeGreaterThanOrEqual(300);
    expect(refused.HANDSHAKE_TIMEOUT ?? 0).toBeGreaterThanOrEqual(1);
    expect(most).toBeLessThanOrEqual(TCP_DEFAULTS.maxHandshakes);
    await commitEverywhere(cluster, 'after 300 idle connections');
  });
});

describe('frames after the handshake', () => {
  it('a frame declaring more than maxFrameBytes is refused on its header (LIMIT_EXCEEDED), before anything of it is buffered', async () => {
    cluster = await plaintext({ maxFrameBytes: 1024 * 1024 });
    const target = cluster.addresses[0];
    const server = cluster.servers[0];
    const socket = await attacker(target);
    const answer = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write(helloFrame({ cluster: 'test-cluster', from: '127.0.0.1:40003', to: target }));
    await answer;
    const done = closed(socket);
    socket.write(header(1024 * 1024 + 1));
    socket.write(Buffer.alloc(1000));
    await done;
    expect(server.bufferedBytes).toBe(0);
    expect(cluster.errors.get(target)!.some((e) => e.code === 'LIMIT_EXCEEDED' && e.peer === '127.0.0.1:40003')).toBe(true);
  });
});

describe('accept failures', () => {
  it('an error from the listening socket after listen (EMFILE when descriptors run out) is reported as ACCEPT_FAILED, the node keeps serving', async () => {
    cluster = await mtls();
    const server = cluster.servers[0] as unknown as { netServer: import('node:net').Server };
    expect(() => server.netServer.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }))).not.toThrow();
    expect(cluster.errors.get(cluster.addresses[0])!.map((e) => e.code)).toContain('ACCEPT_FAILED');
    await commitEverywhere(cluster, 'after an accept failure');
  });
});
