/**
 * WebRaft between browser tabs (or any contexts of one origin) over
 * BroadcastChannel. Browser-safe; Node >= 18 has a global BroadcastChannel too.
 *
 * Every node reads its own inbox channel `<prefix><address>`; the instance for
 * peer X posts `{from, payload}` to X's inbox. postMessage structured-clones
 * the payload, so nothing is shared between sender and receiver.
 */
import { NodeInstance, RaftInterface, type RaftOptions } from 'webraft';

const channelName = (prefix: string, address: string) => `${prefix}${address}`;

export class BroadcastChannelNodeInstance extends NodeInstance {
  private readonly channel: BroadcastChannel;

  constructor(address: string, raft: BroadcastChannelRaft) {
    super(address, raft);
    this.channel = new BroadcastChannel(channelName(raft.prefix, address));
  }

  override write(payload: object): void {
    this.channel.postMessage({ from: this.raft.address, payload });
  }

  override end(): void {
    super.end();
    this.channel.close();
  }
}

export class BroadcastChannelRaft extends RaftInterface {
  private readonly inbox: BroadcastChannel;

  constructor(
    address: string,
    options: RaftOptions = {},
    readonly prefix = 'webraft:',
  ) {
    super(address, options);
    this.inbox = new BroadcastChannel(channelName(prefix, address));
    this.inbox.onmessage = (event: MessageEvent) => {
      const { from, payload } = (event.data ?? {}) as { from?: unknown; payload?: unknown };
      // The channel cannot tell who posted: `from` is the sender's claim, and
      // the library rejects a message whose own `from` field disagrees.
      if (typeof from === 'string') this.gotData(from, payload);
    };
  }

  createInstance(address: string): NodeInstance {
    return new BroadcastChannelNodeInstance(address, this);
  }

  override end(): void {
    super.end();
    this.inbox.close();
  }
}
