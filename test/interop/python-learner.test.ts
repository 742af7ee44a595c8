/**
 * The TCP protocol as a spec (docs/tcp-protocol.md), proved by another
 * language: a learner written in Python (scripts/interop/python_learner.py,
 * /usr/bin/python3 with google.protobuf, mutual TLS) joins a live 3-node
 * TypeScript cluster over TCP. It must take an InstallSnapshot (the cluster
 * has compacted its log before it joins) and AppendEntries, answer both well
 * enough that the leader catches it up, and end with the TypeScript nodes'
 * log: the same snapshot state and the same entries.
 *
 * The library adds a learner only through join() today, which promotes it to
 * voter once caught up; the Python node never grants a vote, so the three
 * TypeScript voters still decide every election.
 *
 * Without protoc, python3-protobuf or openssl the suite is skipped with a
 * warning; under CI=true the availability test fails instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage, RaftInterface, type NodeInstance, type RaftOptions } from 'webraft';
import { TcpNodeInstance, TcpRaftServer, TcpTransport } from 'webraft/node';
import { opensslAvailable } from '../../examples/kv-demo/certificates.js';
import { pythonStatus } from '../../scripts/interop/peers.js';
import { startPythonLearner, type LearnerDump, type PythonLearner } from '../../scripts/interop/python-learner.js';
import { certificatesFor, freeAddresses, mtlsFor, sleep, waitFor } from '../adversarial/tcp-harness.js';

const tools = pythonStatus();
const openssl = await opensslAvailable();
const reason = !tools.ok ? tools.reason : !openssl ? 'missing openssl (to make the test certificates)' : '';
if (reason) console.warn(`[interop] Python learner over TCP skipped: ${reason}`);

it('protoc, python3-protobuf and openssl are available for the Python learner (required under CI)', () => {
  if (process.env.CI === 'true') expect(reason, `CI=true: ${reason}`).toBe('');
});

/** A node whose state machine is the list of applied commands (so a snapshot is checkable). */
class ListRaft extends RaftInterface {
  applied: unknown[] = [];
  readonly memory: MemoryStorage;

  constructor(
    address: string,
    options: RaftOptions & { storage: MemoryStorage },
    readonly transport: TcpTransport,
  ) {
    super(address, options);
    this.memory = options.storage;
    this.listen('apply', (entry) => void this.applied.push(entry.command));
    this.listen('refresh', (snapshot) => void (this.applied = [...(snapshot.data as unknown[])]));
  }
  createInstance(address: string): NodeInstance {
    return new TcpNodeInstance(address, this, this.transport);
  }
  override createSnapshot(): unknown[] {
    return [...this.applied];
  }
}

describe.skipIf(reason !== '')('a Python learner over TCP (mutual TLS)', () => {
  let certs: Awaited<ReturnType<typeof certificatesFor>>;
  let nodes: ListRaft[] = [];
  let servers: TcpRaftServer[] = [];
  let learner: PythonLearner | null = null;
  let pythonAddress: string;
  const errors: string[] = [];

  beforeAll(async () => {
    const addresses = await freeAddresses(4);
    pythonAddress = addresses.pop() as string;
    certs = await certificatesFor([...addresses, pythonAddress]);
    nodes = addresses.map((address) => {
      const transport = new TcpTransport({ clusterId: 'interop', security: mtlsFor(certs, address), onError: (e) => void errors.push(`${address} ${e.code}: ${e.message}`) });
      return new ListRaft(address, { peers: addresses, snapshotThreshold: 25, storage: new MemoryStorage() }, transport);
    });
    servers = nodes.map((n) => new TcpRaftServer(n, n.transport));
    await Promise.all(servers.map((s) => s.listen()));
  });

  afterAll(async () => {
    await learner?.stop();
    for (const n of nodes) n.end();
    await Promise.all(servers.map((s) => s.close()));
    certs?.dispose();
  });

  it('joins, installs the snapshot, follows AppendEntries and holds the same log as the TypeScript nodes', async () => {
    await waitFor(() => nodes.some((n) => n.isLeader), 10_000, 'a leader');
    const leader = nodes.find((n) => n.isLeader) as ListRaft;
    for (let i = 0; i < 60; i++) await leader.propose({ n: i, text: `before-${i}` });
    await waitFor(() => leader.status().firstIndex > 1, 10_000, 'a compacted log on the leader');

    const own = certs.nodes.get(pythonAddress)!;
    learner = await startPythonLearner({ address: pythonAddress, clusterId: 'interop', ca: certs.ca, cert: own.cert, key: own.key });
    const during = Array.from({ length: 10 }, (_, i) => leader.propose({ n: 60 + i, text: `during-${i}` }));
    await leader.join(pythonAddress);
    await Promise.all(during);
    for (let i = 0; i < 20; i++) await leader.propose({ n: 70 + i, text: `after-${i}`, nested: { list: [i, null, true], unicode: 'ü∑' } });

    const target = leader.status().commitIndex;
    let dump: LearnerDump = await learner.dump();
    for (const deadline = Date.now() + 15_000; dump.commitIndex < target; dump = await learner.dump()) {
      if (Date.now() > deadline) {
        throw new Error(`the learner's commit index is ${dump.commitIndex}, not ${target}; stats ${JSON.stringify(dump.stats)}; stderr:\n${learner.stderr()}`);
      }
      await sleep(50);
    }

    // It took the snapshot and AppendEntries, and the leader accepted its answers (join() resolves only once it is caught up).
    expect(dump.stats.snapshotsInstalled).toBeGreaterThanOrEqual(1);
    expect(dump.stats.appendEntries).toBeGreaterThan(0);
    expect(leader.status().voters).toContain(pythonAddress);
    expect(dump.snapshot?.configuration.voters.length).toBeGreaterThanOrEqual(3);

    // The state: snapshot data plus the commands of the entries after it, up to the commit index,
    // is exactly what the TypeScript nodes applied up to there.
    const materialized = [...(dump.snapshot?.data as unknown[])];
    for (const entry of dump.entries) {
      if (Number(entry.index) > dump.commitIndex) break;
      if (entry.type === 'ENTRY_TYPE_COMMAND') materialized.push(entry.command);
    }
    for (const node of nodes) expect(node.applied.slice(0, materialized.length)).toEqual(materialized);
    expect(materialized).toHaveLength(90);

    // The entries: equal, field by field, to what each TypeScript node has stored for the same indexes.
    for (const node of nodes) {
      const stored = await node.memory.load();
      const byIndex = new Map(stored.entries.map((e) => [e.index, e]));
      let compared = 0;
      for (const entry of dump.entries) {
        const ts = byIndex.get(Number(entry.index));
        if (!ts) continue;
        compared++;
        expect({ index: Number(entry.index), term: Number(entry.term), type: entry.type, command: entry.command, clientId: entry.clientId ?? '', sequence: Number(entry.sequence ?? 0) }).toEqual({
          index: ts.index,
          term: ts.term,
          type: `ENTRY_TYPE_${ts.type.toUpperCase()}`,
          command: ts.command,
          clientId: ts.clientId ?? '',
          sequence: ts.sequence ?? 0,
        });
      }
      expect(compared, `entries compared with ${node.address}`).toBeGreaterThan(10);
      // The learner's snapshot is at an index the node has compacted or still holds with the same term.
      const term = byIndex.get(dump.snapshotIndex)?.term ?? (stored.snapshot && stored.snapshot.index >= dump.snapshotIndex ? dump.snapshotTerm : undefined);
      expect(term).toBe(dump.snapshotTerm);
    }
    expect(errors).toEqual([]);
  });
});
