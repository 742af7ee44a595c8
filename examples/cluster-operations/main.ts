/**
 * Membership changes, snapshots, linearizable reads and leadership transfer on
 * a small in-process cluster. Run: npx tsx examples/cluster-operations/main.ts
 *
 * The transport is the simplest possible: every node is in one Map and a
 * payload is delivered with setImmediate after a JSON round trip.
 */
import { NodeInstance, RaftInterface } from 'webraft';

const nodes = new Map<string, Counter>();

class LocalInstance extends NodeInstance {
  override write(payload: object): void {
    const text = JSON.stringify(payload);
    const from = this.raft.address;
    setImmediate(() => nodes.get(this.address)?.gotData(from, JSON.parse(text)));
  }
}

/** A replicated counter: `apply` adds, snapshots carry the total. */
class Counter extends RaftInterface {
  total = 0;
  constructor(address: string, peers: string[]) {
    super(address, { peers, snapshotThreshold: 20 }); // compact every 20 applied entries
    this.listen('apply', (entry) => {
      this.total += (entry.command as { add: number }).add;
    });
    this.listen('refresh', (snapshot) => {
      this.total = snapshot.data as number; // InstallSnapshot, or a restart from a snapshot
    });
    nodes.set(address, this);
  }
  createInstance(address: string): NodeInstance {
    return new LocalInstance(address, this);
  }
  override createSnapshot(): number {
    return this.total;
  }
  override get heartbeatTimeout(): number {
    return 100;
  }
  override get electionTimeout(): number {
    return 100;
  }
  override get heartbeatFrequency(): number {
    return 20;
  }
}

async function leader(): Promise<Counter> {
  for (;;) {
    const found = [...nodes.values()].find((n) => n.isLeader && !n.ended);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
}

const peers = ['a', 'b', 'c'];
for (const id of peers) new Counter(id, peers);
console.log('leader:', (await leader()).address);

// Proposals from any node; each resolves once applied on that node.
for (let i = 1; i <= 50; i++) await nodes.get(peers[i % 3])!.propose({ add: i });
console.log('total on c, which proposed last:', nodes.get('c')!.total); // 1275

// Snapshots compacted the log: firstIndex moved past the applied entries.
console.log('b status:', JSON.stringify(nodes.get('b')!.status()));

// A linearizable read on a follower: readBarrier, then read local state.
await nodes.get('c')!.readBarrier();
console.log('read on c after readBarrier:', nodes.get('c')!.total);

// A new node starts with peers [] and waits; an existing member adds it.
const d = new Counter('d', []);
await nodes.get('a')!.join('d'); // learner first, caught up (here through InstallSnapshot), then voter
await d.readBarrier();
console.log('d joined; voters:', (await leader()).status().voters.join(','), '| total on d:', d.total);

// Hand leadership to d, then remove the old leader's neighbour 'a'.
const before = await leader();
await before.transferLeadership('d');
console.log('leadership transferred:', before.address, '->', (await leader()).address);
await d.leave('a');
nodes.get('a')!.end();
console.log('a left; voters:', (await leader()).status().voters.join(','));

await d.propose({ add: 1 });
console.log('total on d after one more proposal:', d.total); // 1276
for (const node of nodes.values()) node.end();
