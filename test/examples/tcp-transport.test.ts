import { connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftInterface, type NodeInstance, type RaftOptions, type WireLimits } from 'webraft';
import { encode, encodeFrame } from 'webraft/binary';
import { TcpNodeInstance, TcpRaftServer } from 'webraft/node';

const sent: object[] = [];
class RecordingInstance extends TcpNodeInstance {
  override write(payload: object): void {
    sent.push(JSON.parse(JSON.stringify(payload)));
    super.write(payload);
  }
}
class TcpRaft extends RaftInterface {
  constructor(
    address: string,
    options: RaftOptions,
    readonly transportLimits?: Partial<WireLimits>,
  ) {
    super(address, options);
  }
  createInstance(address: string): NodeInstance {
    // Called once the node has loaded its storage, after the constructor.
    return new RecordingInstance(address, this, { wireLimits: this.transportLimits });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
  }
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function cluster(wireLimits?: Partial<WireLimits>) {
  const addresses = await Promise.all([0, 1, 2].map(async () => `127.0.0.1:${await freePort()}`));
  const applied = new Map<string, unknown[]>();
  const nodes = addresses.map((address) => {
    const raft = new TcpRaft(address, { peers: addresses, wireLimits }, wireLimits);
    applied.set(address, []);
    raft.listen('apply', (entry) => void applied.get(address)?.push(entry.command));
    return raft;
  });
  const servers = nodes.map((raft) => new TcpRaftServer(raft, { wireLimits }));
  await Promise.all(servers.map((s) => s.listen()));
  cleanup.push(async () => {
    for (const n of nodes) n.end();
    await Promise.all(servers.map((s) => s.close()));
  });
  await waitFor(() => nodes.some((n) => n.isLeader));
  return { addresses, nodes, servers, applied };
}

describe('TCP transport (webraft/node)', () => {
  it('replicates over TCP with binary frames, proposals from any node', async () => {
    const { nodes, applied } = await cluster();
    for (const [i, node] of nodes.entries()) await node.propose({ n: i });
    await waitFor(() => [...applied.values()].every((l) => l.length === 3));
    expect(new Set([...applied.values()].map((l) => JSON.stringify(l))).size).toBe(1);
  });

  it('rejects a message whose from differs from the hello', async () => {
    const { nodes } = await cluster();
    const target = nodes[0];
    const invalid: [string, Error][] = [];
    target.listen('invalid message', (from, error) => void invalid.push([from, error]));
    const template = sent.find((p) => (p as { to?: string }).to === target.address) as Record<string, unknown>;
    expect(template).toBeDefined();
    const socket = connect(Number(target.address.split(':')[1]), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(encodeFrame(new TextEncoder().encode('webraft-hello/1 127.0.0.1:1')));
    socket.write(encodeFrame(encode({ ...template, from: nodes[1].address })));
    await waitFor(() => invalid.length > 0);
    expect(invalid[0][0]).toBe('127.0.0.1:1');
    expect(invalid[0][1].message).toMatch(/127\.0\.0\.1:1|sender|from/i);
    socket.destroy();
  });

  it('a dropped connection is redialed, not a membership change', async () => {
    const { nodes, servers, applied } = await cluster();
    const leaves: string[] = [];
    for (const n of nodes) n.listen('leave', (a) => void leaves.push(a));
    // Take node 2's listener down for a while, then bring it back on the same port.
    await servers[2].close();
    await new Promise((r) => setTimeout(r, 600));
    servers[2] = new TcpRaftServer(nodes[2]);
    await servers[2].listen();
    await nodes[2].propose('after reconnect');
    await waitFor(() => [...applied.values()].every((l) => l.includes('after reconnect')));
    expect(leaves).toEqual([]);
    for (const n of nodes) expect(n.status().voters).toHaveLength(3);
  });

  it('with wireLimits above the defaults (given to the transport too), a 2 MiB string replicates', async () => {
    const { nodes, applied } = await cluster({ maxStringLength: 4 * 1024 * 1024, maxPayloadBytes: 64 * 1024 * 1024 });
    const big = 'y'.repeat(2 * 1024 * 1024);
    await nodes[1].propose({ big });
    await waitFor(() => [...applied.values()].every((l) => l.some((c) => (c as { big?: string }).big === big)), 10000);
  });
});
