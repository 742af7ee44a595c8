import type { RaftInterface } from './raft-interface.js';
import { RaftError } from '../core/errors.js';

/**
 * One peer as seen from a node: the user's transport to it. Subclass it,
 * implement `write(payload)`, and pass whatever arrives from the peer to
 * `gotData(payload)`. The raft creates instances through
 * `RaftInterface.createInstance()` and ends them with `end()`.
 */
export class NodeInstance {
  /** The peer's address. */
  readonly address: string;
  /** The raft node that owns this instance. */
  readonly raft: RaftInterface;
  private endedFlag = false;

  constructor(address: string, raft: RaftInterface) {
    this.address = address;
    this.raft = raft;
  }

  /**
   * Sends one payload to the peer: a fresh plain object, the proto3 JSON form
   * of a `webraft.v1.Message`, that survives `JSON.parse(JSON.stringify(payload))`.
   * Serialize it however you like (JSON text, or `webraft/binary`).
   */
  write(payload: object): void {
    void payload;
    throw new RaftError('NOT_IMPLEMENTED', `${this.constructor.name} must implement write(payload)`);
  }

  /** Hands data received from the peer to the raft. Never throws. */
  gotData(payload: unknown): void {
    this.raft.gotData(this.address, payload);
  }

  /**
   * How long (ms) a request sent through this peer (a proposal, read or
   * transfer forwarded to it as the leader) waits before giving up. The
   * default is the raft's own `messageTimeout`, so overriding that getter on
   * the `RaftInterface` subclass sets it for every peer, and overriding this
   * one sets it for this peer only.
   */
  get messageTimeout(): number {
    return this.raft.messageTimeout;
  }

  /** Called when the peer leaves or the raft ends. Override to close the connection (call super.end()). */
  end(): void {
    this.endedFlag = true;
  }

  /** True once `end()` was called. */
  get ended(): boolean {
    return this.endedFlag;
  }
}
