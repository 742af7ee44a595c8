/**
 * The TCP transport of webraft/node as a user runs it: mutual TLS, TLS-PSK and
 * plaintext clusters on 127.0.0.1, the hello's cluster id and version checks
 * on both sides, certificate and secret rotation, and the byte-bounded send
 * queue. The attacks are in test/adversarial/tcp-*.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encode, encodeFrame } from 'webraft/binary';
import { TcpNodeInstance, TcpRaftServer, TcpTransport, TcpTransportError, type TcpTransportError as TcpError } from 'webraft/node';
import { mtlsSecurity } from '../../examples/kv-demo/security.js';
import {
  certificatesFor,
  collect,
  commitEverywhere,
  firstHandshakeFrame,
  freeAddresses,
  helloFrame,
  mtlsFor,
  randomSecret,
  rawConnect,
  sleep,
  startCluster,
  TcpTestRaft,
  waitFor,
  type TestCluster,
} from '../adversarial/tcp-harness.js';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});
async function cluster(...args: Parameters<typeof startCluster>): Promise<TestCluster> {
  const c = await startCluster(...args);
  cleanup.push(() => c.close());
  return c;
}

const plaintext = () => ({ mode: 'insecure-plaintext' as const });
let addresses: string[];
let spare: string;
let certs: Awaited<ReturnType<typeof certificatesFor>>;
beforeAll(async () => {
  [spare, ...addresses] = await freeAddresses(4);
  certs = await certificatesFor([...addresses, spare]);
});
afterAll(() => certs.dispose());

describe('TCP transport: security modes', () => {
  it('replicates over mutual TLS (certificates naming each address), proposals from any node', async () => {
    const c = await cluster(addresses, (a) => mtlsFor(certs, a));
    for (const [i, node] of c.nodes.entries()) await node.propose({ n: i });
    await waitFor(() => c.nodes.every((n) => n.applied.length === 3));
    expect(new Set(c.nodes.map((n) => JSON.stringify(n.applied))).size).toBe(1);
    expect([...c.errors.values()].flat()).toEqual([]);
    for (const s of c.servers) expect(s.stats.accepted).toBeGreaterThanOrEqual(2);
  });

  it('replicates over TLS-PSK with one cluster secret', async () => {
    const secret = randomSecret();
    const c = await cluster(addresses, () => ({ mode: 'psk', secret }));
    await commitEverywhere(c, 'over psk');
    expect([...c.errors.values()].flat()).toEqual([]);
  });

  it('replicates in insecure-plaintext mode, and warns that it listens without TLS', async () => {
    const c = await cluster(addresses, plaintext);
    await commitEverywhere(c, 'in plaintext');
    for (const [address, errors] of c.errors) expect(errors.map((e) => e.code), address).toEqual(['INSECURE_PLAINTEXT']);
  });

  it('refuses to start without a security mode or cluster id (INVALID_ARGUMENT)', () => {
    expect(() => new TcpTransport({ clusterId: 'x' } as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('security is required') }));
    expect(() => new TcpTransport({ security: plaintext() } as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('clusterId') }));
    expect(() => new TcpTransport({ clusterId: 'x', security: { mode: 'psk', secret: new Uint8Array(8) } })).toThrow(/16 to 64 random bytes/);
    expect(() => new TcpTransport({ clusterId: 'x', security: { mode: 'tls' } as never })).toThrow(/security.mode/);
  });
});

describe('TCP transport: hello', () => {
  it('a cluster id mismatch is refused with CLUSTER_MISMATCH on both sides, and nothing is delivered', async () => {
    const c = await cluster(addresses, (a) => mtlsFor(certs, a));
    const target = c.nodes[0];
    const dialerErrors: TcpError[] = [];
    const stranger = new TcpTransport({ clusterId: 'another-cluster', security: mtlsFor(certs, spare), onError: (e) => void dialerErrors.push(e) });
    const strangerRaft = new TcpTestRaft(spare, { peers: [] }, stranger);
    cleanup.push(() => strangerRaft.end());
    const invalid: string[] = [];
    target.listen('invalid message', (from) => void invalid.push(from));
    const instance = new TcpNodeInstance(target.address, strangerRaft, stranger);
    cleanup.push(() => instance.end());
    instance.write({ from: spare, to: target.address, term: '1', timeoutNowRequest: {} });
    await waitFor(() => dialerErrors.some((e) => e.code === 'CLUSTER_MISMATCH'));
    await waitFor(() => (c.errors.get(target.address) ?? []).some((e) => e.code === 'CLUSTER_MISMATCH'));
    const serverSide = c.errors.get(target.address)!.find((e) => e.code === 'CLUSTER_MISMATCH')!;
    expect(serverSide.message).toContain('another-cluster');
    expect(serverSide.peer).toBe(spare);
    expect(dialerErrors.find((e) => e.code === 'CLUSTER_MISMATCH')!.message).toMatch(/refused our hello.*test-cluster/);
    expect(instance.isConnected).toBe(false);
    expect(instance.dropped).toBeGreaterThanOrEqual(1);
    expect(c.servers[0].stats.refused.CLUSTER_MISMATCH).toBeGreaterThanOrEqual(1);
    expect(invalid).toEqual([]);
    await commitEverywhere(c, 'still fine');
  });

  it('another protocol version (the version 1 text hello, or version 3) is refused with VERSION_MISMATCH and a readable answer', async () => {
    const c = await cluster(addresses, plaintext);
    const target = c.addresses[0];
    for (const hello of [encodeFrame(new TextEncoder().encode(`webraft-hello/1 ${spare}`)), helloFrame({ version: 3, cluster: 'test-cluster', from: spare, to: target })]) {
      const socket = await rawConnect(target);
      const received = collect(socket);
      socket.write(hello);
      const answer = firstHandshakeFrame(await received);
      expect(answer).toMatchObject({ protocol: 'webraft-tcp', version: 2, ok: false, code: 'VERSION_MISMATCH' });
    }
    expect(c.servers[0].stats.refused.VERSION_MISMATCH).toBe(2);
  });

  it('a hello for another node (to) is refused with WRONG_NODE', async () => {
    const c = await cluster(addresses, plaintext);
    const socket = await rawConnect(c.addresses[0]);
    const received = collect(socket);
    socket.write(helloFrame({ cluster: 'test-cluster', from: spare, to: c.addresses[1] }));
    expect(firstHandshakeFrame(await received)).toMatchObject({ ok: false, code: 'WRONG_NODE' });
  });

  it('a message whose from differs from the hello is rejected by the raft (invalid message)', async () => {
    const c = await cluster(addresses, plaintext);
    const target = c.nodes[0];
    const invalid: [string, Error][] = [];
    target.listen('invalid message', (from, error) => void invalid.push([from, error]));
    const socket = await rawConnect(target.address);
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    socket.write(helloFrame({ cluster: 'test-cluster', from: spare, to: target.address }));
    await waitFor(() => received.length > 0);
    expect(firstHandshakeFrame(Buffer.concat(received))).toMatchObject({ ok: true, from: target.address, cluster: 'test-cluster' });
    socket.write(encodeFrame(encode({ from: c.addresses[1], to: target.address, term: '1', timeoutNowRequest: {} })));
    await waitFor(() => invalid.length > 0);
    expect(invalid[0][0]).toBe(spare);
    expect(invalid[0][1].message).toMatch(/sender|from/i);
    socket.destroy();
  });

  it('an invalid peer address is never dialed: reported once as INVALID_ADDRESS, writes dropped, no throw', async () => {
    const errors: TcpError[] = [];
    const transport = new TcpTransport({ clusterId: 'x', security: plaintext(), onError: (e) => void errors.push(e) });
    const raft = new TcpTestRaft(addresses[0], { peers: [] }, transport);
    cleanup.push(() => raft.end());
    for (const bad of ['not-an-address', 'evil host:80', '127.0.0.1:0', '127.0.0.1:99999', `${'a'.repeat(300)}:1`]) {
      const instance = new TcpNodeInstance(bad, raft, transport);
      instance.write({ from: raft.address, to: bad, term: '1', timeoutNowRequest: {} });
      expect(instance.dropped).toBe(1);
      expect(instance.isConnected).toBe(false);
      instance.end();
    }
    expect(errors.map((e) => e.code)).toEqual(Array(5).fill('INVALID_ADDRESS'));
    expect(errors[0]).toBeInstanceOf(TcpTransportError);
  });
});

describe('TCP transport: connections', () => {
  it('a dropped connection is redialed, not a membership change', async () => {
    const c = await cluster(addresses, (a) => mtlsFor(certs, a));
    const leaves: string[] = [];
    for (const n of c.nodes) n.listen('leave', (a) => void leaves.push(a));
    await c.servers[2].close();
    await sleep(600);
    c.servers[2] = new TcpRaftServer(c.nodes[2], c.transports[2]);
    await c.servers[2].listen();
    await c.nodes[2].propose('after reconnect');
    await waitFor(() => c.nodes.every((n) => n.applied.includes('after reconnect')));
    expect(leaves).toEqual([]);
    for (const n of c.nodes) expect(n.status().voters).toHaveLength(3);
  });

  it('idle connections are closed by the server and redialed on the next write', async () => {
    const c = await cluster(addresses, (a) => mtlsFor(certs, a), { idleTimeoutMs: 300 });
    await commitEverywhere(c, 'before idle');
    // Follower-to-follower connections carry nothing while a leader is stable, so they idle out.
    await waitFor(() => c.servers.reduce((sum, s) => sum + s.stats.idleClosed, 0) >= 2, 5000, 'idle connections closed');
    await commitEverywhere(c, 'after idle');
    const leader = c.leader();
    const follower = c.nodes.find((n) => n !== leader)!;
    await follower.propose('from a follower after idle');
    await waitFor(() => c.nodes.every((n) => n.applied.includes('from a follower after idle')));
  });

  it('with wireLimits above the defaults (given to the transport too), a 2 MiB string replicates', async () => {
    const wireLimits = { maxStringLength: 4 * 1024 * 1024, maxPayloadBytes: 64 * 1024 * 1024 };
    const c = await cluster(addresses, (a) => mtlsFor(certs, a), { wireLimits }, { wireLimits });
    const big = 'y'.repeat(2 * 1024 * 1024);
    await c.nodes[1].propose({ big });
    await waitFor(() => c.nodes.every((n) => n.applied.some((x) => (x as { big?: string }).big === big)), 20_000);
  });

  it('the send queue to an unreachable peer stays within maxQueuedBytes, dropping the oldest frames', async () => {
    const transport = new TcpTransport({ clusterId: 'x', security: plaintext(), maxQueuedBytes: 10_000, onError: () => {} });
    const raft = new TcpTestRaft(addresses[0], { peers: [] }, transport);
    cleanup.push(() => raft.end());
    const instance = new TcpNodeInstance(spare, raft, transport); // nobody listens there
    cleanup.push(() => instance.end());
    const payload = (i: number) => ({ from: raft.address, to: spare, term: '1', proposeRequest: { clientId: 'c', sequence: String(i + 1), command: 'z'.repeat(900) } });
    const frameBytes = encodeFrame(payload(0)).length;
    for (let i = 0; i < 100; i++) {
      instance.write(payload(i));
      expect(instance.pendingBytes).toBeLessThanOrEqual(10_000);
    }
    expect(instance.dropped).toBe(100 - Math.floor(10_000 / frameBytes));
    // One frame larger than the bound still goes out when nothing else waits.
    const lone = new TcpNodeInstance(spare, raft, transport);
    cleanup.push(() => lone.end());
    lone.write({ ...payload(0), proposeRequest: { clientId: 'c', sequence: '1', command: 'z'.repeat(20_000) } });
    expect(lone.dropped).toBe(0);
    expect(lone.pendingBytes).toBeGreaterThan(10_000);
  });
});

describe('TCP transport: rotation (setSecurity)', () => {
  it('mTLS: a node moved to a certificate of a new CA keeps working once every node trusts both CAs', async () => {
    const c = await cluster(addresses, (a) => mtlsFor(certs, a));
    await commitEverywhere(c, 'before rotation');
    const newCerts = await certificatesFor(addresses);
    cleanup.push(() => newCerts.dispose());
    // Step 1: every node trusts old and new CA.
    for (const [i, address] of addresses.entries()) {
      const own = certs.nodes.get(address)!;
      c.transports[i].setSecurity(mtlsSecurity([certs.ca, newCerts.ca], own.cert, own.key));
    }
    // Step 2: node 0 switches to its new certificate; its connections are re-made with it.
    const fresh = newCerts.nodes.get(addresses[0])!;
    c.transports[0].setSecurity(mtlsSecurity([certs.ca, newCerts.ca], fresh.cert, fresh.key));
    for (const s of c.servers) await s.close();
    c.servers.splice(0, 3, ...c.nodes.map((n, i) => new TcpRaftServer(n, c.transports[i])));
    await Promise.all(c.servers.map((s) => s.listen()));
    await commitEverywhere(c, 'after rotation');
    expect([...c.errors.values()].flat().filter((e) => e.code !== 'TLS_HANDSHAKE_FAILED')).toEqual([]);
    // Step 3: a node that trusts only the old CA refuses node 0's new certificate.
    c.transports[1].setSecurity(mtlsFor(certs, addresses[1]));
    const before = c.servers[1].stats.refused.TLS_HANDSHAKE_FAILED ?? 0;
    const probe = new TcpNodeInstance(addresses[1], c.nodes[0], c.transports[0]);
    cleanup.push(() => probe.end());
    probe.write({ from: addresses[0], to: addresses[1], term: '1', timeoutNowRequest: {} });
    await waitFor(() => (c.servers[1].stats.refused.TLS_HANDSHAKE_FAILED ?? 0) > before);
  });

  it('PSK: a new secret is rolled out with previousSecrets and no outage', async () => {
    const oldSecret = randomSecret();
    const newSecret = randomSecret();
    const c = await cluster(addresses, () => ({ mode: 'psk', secret: oldSecret }));
    for (const t of c.transports) t.setSecurity({ mode: 'psk', secret: oldSecret, previousSecrets: [newSecret] });
    for (const t of c.transports) t.setSecurity({ mode: 'psk', secret: newSecret, previousSecrets: [oldSecret] });
    await commitEverywhere(c, 'mid rotation');
    for (const t of c.transports) t.setSecurity({ mode: 'psk', secret: newSecret });
    for (const s of c.servers) await s.close();
    c.servers.splice(0, 3, ...c.nodes.map((n, i) => new TcpRaftServer(n, c.transports[i])));
    await Promise.all(c.servers.map((s) => s.listen()));
    await commitEverywhere(c, 'after rotation');
    expect([...c.errors.values()].flat().map((e) => e.code)).toEqual([]);
    expect(() => c.transports[0].setSecurity(mtlsFor(certs, addresses[0]))).toThrow(/cannot change the mode/);
  });
});

describe('TCP transport: a node added later', () => {
  it('a node created with peers: [] joins over mTLS with its own certificate', async () => {
    const c = await cluster(addresses, (a) => mtlsFor(certs, a));
    const transport = new TcpTransport({ clusterId: 'test-cluster', security: mtlsFor(certs, spare), onError: () => {} });
    const joiner = new TcpTestRaft(spare, { peers: [] }, transport);
    const server = new TcpRaftServer(joiner, transport);
    await server.listen();
    cleanup.push(async () => {
      joiner.end();
      await server.close();
    });
    await c.leader().propose('before join');
    await c.leader().join(spare);
    await waitFor(() => joiner.applied.includes('before join'));
    expect(joiner.status().voters).toContain(spare);
  });
});
