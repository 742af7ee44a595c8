/**
 * The seed README's example shape: a JS-style subclass with a custom
 * constructor calling super(address, raft), write() doing JSON.stringify and
 * the receiving side calling gotData(JSON.parse(...)), on both the instance
 * and the raft (raft.gotData(from, payload)).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NodeInstance, RaftInterface } from 'webraft';
import { decode, encode } from 'webraft/binary';
import { waitFor } from './helpers.js';

/** A fake socket hub: text frames between addresses, delivered with setImmediate. */
class Hub {
  sockets = new Map<string, Map<string, FakeSocket>>();
  connect(from: string, to: string): FakeSocket {
    const s = new FakeSocket(this, from, to);
    let m = this.sockets.get(from);
    if (!m) this.sockets.set(from, (m = new Map()));
    m.set(to, s);
    return s;
  }
}
class FakeSocket {
  handlers: ((text: string) => void)[] = [];
  closed = false;
  constructor(
    private hub: Hub,
    private from: string,
    private to: string,
  ) {}
  on(event: 'message', h: (text: string) => void) {
    if (event === 'message') this.handlers.push(h);
  }
  write(text: string) {
    if (this.closed) return;
    setImmediate(() => {
      // The peer's socket for the reverse direction receives it.
      const peer = this.hub.sockets.get(this.to)?.get(this.from);
      if (peer && !peer.closed) for (const h of peer.handlers) h(text);
      else rafts.get(this.to)?.deliverFromUnknown(this.from, text);
    });
  }
  close() {
    this.closed = true;
  }
}

const rafts = new Map<string, FooRaft>();
let hub = new Hub();

class FooRaftNode extends NodeInstance {
  socket: FakeSocket;
  writes = 0;
  constructor(address: string, raft: RaftInterface) {
    // custom constructor: super() with all parameters
    super(address, raft);
    this.socket = hub.connect(raft.address, address);
    this.socket.on('message', (payload) => this.gotData(JSON.parse(payload)));
  }
  override write(payload: object) {
    this.writes++;
    this.socket.write(JSON.stringify(payload));
  }
  override end() {
    super.end();
    this.socket.close();
  }
}

class FooRaft extends RaftInterface {
  instancesMade: string[] = [];
  constructor(address: string, options?: ConstructorParameters<typeof RaftInterface>[1]) {
    super(address, options);
    rafts.set(address, this);
  }
  createInstance(address: string): NodeInstance {
    this.instancesMade.push(address);
    return new FooRaftNode(address, this);
  }
  /** Data from a peer we have no instance for yet: the raft.gotData(from, payload) form. */
  deliverFromUnknown(from: string, text: string) {
    this.gotData(from, JSON.parse(text));
  }
  override get heartbeatFrequency() {
    return 10;
  }
  override get heartbeatTimeout() {
    return 50;
  }
  override get electionTimeout() {
    return 50;
  }
}

afterEach(() => {
  for (const r of rafts.values()) r.end();
  rafts.clear();
  hub = new Hub();
});

describe('seed example shape', () => {
  it('a JS-style subclass pair replicates over a text transport', async () => {
    const peers = ['a', 'b', 'c'];
    const nodes = peers.map((id) => new FooRaft(id, { peers }));
    const seen = new Map<string, unknown[]>();
    for (const n of nodes) {
      const list: unknown[] = [];
      seen.set(n.address, list);
      n.listen('apply', (entry, _index, cb) => {
        list.push(entry.command);
        cb();
      });
    }
    await waitFor(() => nodes.some((n) => n.isLeader), 5000, 'leader');
    const follower = nodes.find((n) => !n.isLeader) as FooRaft;
    await follower.propose({ hello: 'world' });
    await nodes[0].propose([1, 2, 3]);
    await waitFor(() => [...seen.values()].every((l) => l.length === 2));
    const orders = [...seen.values()].map((l) => JSON.stringify(l));
    expect(new Set(orders).size).toBe(1);
    expect(seen.get('a')).toContainEqual({ hello: 'world' });
  });

  it('raft.gotData(from, payload) alone carries all traffic', async () => {
    // A transport that never uses instance.gotData: everything goes to raft.gotData.
    class Direct extends NodeInstance {
      override write(payload: object) {
        const text = JSON.stringify(payload);
        const from = this.raft.address;
        setImmediate(() => rafts.get(this.address)?.gotData(from, JSON.parse(text)));
      }
    }
    class DirectRaft extends FooRaft {
      override createInstance(address: string): NodeInstance {
        this.instancesMade.push(address);
        return new Direct(address, this);
      }
    }
    const peers = ['x', 'y', 'z'];
    const nodes = peers.map((id) => new DirectRaft(id, { peers }));
    await waitFor(() => nodes.some((n) => n.isLeader), 5000, 'leader');
    const r = await nodes.find((n) => !n.isLeader)!.propose('cmd');
    expect(r.index).toBeGreaterThan(0);
    expect(r.term).toBeGreaterThan(0);
  });
  it('a binary transport (webraft/binary encode/decode) carries the cluster, snapshots included', async () => {
    const recorded: object[] = [];
    class Binary extends NodeInstance {
      override write(payload: object) {
        recorded.push(payload);
        const bytes = encode(payload as never);
        expect(decode(bytes)).toStrictEqual(payload); // decode(encode(p)) deep-equals p
        const from = this.raft.address;
        setImmediate(() => rafts.get(this.address)?.gotData(from, decode(bytes)));
      }
    }
    class BinaryRaft extends FooRaft {
      override createInstance(address: string): NodeInstance {
        return new Binary(address, this);
      }
      override createSnapshot() {
        return [...this.log];
      }
      log: unknown[] = [];
    }
    const peers = ['p', 'q', 'r'];
    const nodes = peers.map((id) => new BinaryRaft(id, { peers, snapshotThreshold: 4 }));
    for (const n of nodes) {
      n.listen('apply', (e) => void n.log.push(e.command));
      n.listen('refresh', (snap: { data: unknown }, cb: () => void) => {
        n.log = [...(snap.data as unknown[])];
        cb();
      });
    }
    await waitFor(() => nodes.some((n) => n.isLeader) && nodes.every((n) => n.leaderID !== null), 5000, 'leader');
    for (let i = 0; i < 12; i++) await nodes[i % 3].propose({ i, big: 2 ** 53 - 1, s: 'é\u{1F600}' });
    await waitFor(() => nodes.every((n) => n.log.length === 12));
    for (const n of nodes) expect(n.log).toEqual(nodes[0].log);
    expect(recorded.length).toBeGreaterThan(10);
  });
});
