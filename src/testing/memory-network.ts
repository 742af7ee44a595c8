import { NodeInstance } from '../api/node-instance.js';
import { RaftInterface, type RaftOptions } from '../api/raft-interface.js';

/** How a MemoryNetwork delivers a payload. */
export type Delivery = 'sync' | 'microtask' | 'immediate';

/**
 * An in-process network for tests and benchmarks: each payload is JSON
 * round-tripped (as a real transport would) and delivered synchronously, in a
 * microtask or with setImmediate. Links can be cut to model partitions.
 */
export class MemoryNetwork {
  readonly nodes = new Map<string, RaftInterface>();
  private readonly cut = new Set<string>();
  /** Payloads delivered so far. */
  delivered = 0;

  constructor(readonly delivery: Delivery = 'immediate') {}

  /** Stops delivery from `a` to `b` and from `b` to `a`. */
  partition(a: string, b: string): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }

  /** Cuts every link of `address`. */
  isolate(address: string): void {
    for (const other of this.nodes.keys()) if (other !== address) this.partition(address, other);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Delivers `text` from `from` to `to` unless the link is cut or `to` is absent. */
  deliver(from: string, to: string, text: string): void {
    const run = () => {
      if (this.cut.has(`${from}>${to}`)) return;
      const node = this.nodes.get(to);
      if (!node || node.ended) return;
      this.delivered++;
      node.gotData(from, JSON.parse(text));
    };
    if (this.delivery === 'sync') run();
    else if (this.delivery === 'microtask') queueMicrotask(run);
    else setImmediate(run);
  }
}

/** A NodeInstance that sends through a MemoryNetwork. */
export class MemoryNodeInstance extends NodeInstance {
  constructor(
    address: string,
    raft: RaftInterface,
    private readonly network: MemoryNetwork,
  ) {
    super(address, raft);
  }

  override write(payload: object): void {
    this.network.deliver(this.raft.address, this.address, JSON.stringify(payload));
  }
}

/** A RaftInterface on a MemoryNetwork; registers itself on construction. */
export class MemoryRaft extends RaftInterface {
  constructor(
    address: string,
    readonly network: MemoryNetwork,
    options: RaftOptions = {},
  ) {
    super(address, options);
    network.nodes.set(address, this);
  }

  createInstance(address: string): NodeInstance {
    return new MemoryNodeInstance(address, this, this.network);
  }
}
