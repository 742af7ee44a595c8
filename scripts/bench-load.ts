/**
 * What the cluster benchmarks share (npm run bench:cluster and
 * bench:instructions): the node class with the benchmark's timing, the
 * 256-byte commands, and waiting for a leader.
 */
import type { RaftOptions } from '../src/api/raft-interface.js';
import { MemoryRaft, type MemoryNetwork } from '../src/testing/memory-network.js';

export const COMMAND_BYTES = 256;

/** Filler for command values; a slice of it costs the client (not the library) almost nothing. */
const PADDING = 'x'.repeat(COMMAND_BYTES);
/** JSON size of `{"op":"set","key":"","value":""}`: the command's bytes besides key and value. */
const COMMAND_FRAME_BYTES = JSON.stringify({ op: 'set', key: '', value: '' }).length;

/** A COMMAND_BYTES-byte command (as JSON) setting a distinct key. */
export function command(i: number): { op: string; key: string; value: string } {
  const key = `key-${i}`;
  return { op: 'set', key, value: PADDING.slice(0, Math.max(0, COMMAND_BYTES - COMMAND_FRAME_BYTES - key.length)) };
}

/** A MemoryRaft with the benchmarks' timing: heartbeats every 50 ms, 500 ms timeouts. */
export class BenchTimingRaft extends MemoryRaft {
  override get heartbeatFrequency(): number {
    return 50;
  }
  override get heartbeatTimeout(): number {
    return 500;
  }
  override get electionTimeout(): number {
    return 500;
  }
}

/** Log compaction of the `+apply` settings: hashicorp/raft's default SnapshotThreshold. */
export const SNAPSHOT_THRESHOLD = 8192;

/**
 * A benchmark node; with `stateMachine` it has what a real application has:
 * an `apply` listener (a counter, calling `cb`), `createSnapshot()` and
 * `snapshotThreshold` SNAPSHOT_THRESHOLD, so every command is also handed to
 * the application as its own copy and the log is compacted. Without it there
 * is no `apply` listener (entries count as applied at once).
 */
export class BenchRaft extends BenchTimingRaft {
  /** The state machine: how many commands were applied. */
  applied = 0;

  constructor(address: string, network: MemoryNetwork, options: RaftOptions, stateMachine: boolean) {
    super(address, network, stateMachine ? { ...options, snapshotThreshold: SNAPSHOT_THRESHOLD } : options);
    if (!stateMachine) return;
    this.createSnapshot = () => this.applied;
    this.listen('apply', (_entry: unknown, _index: number, cb: () => void) => {
      this.applied++;
      cb();
    });
    this.listen('refresh', (snapshot: { data: number }, cb: () => void) => {
      this.applied = snapshot.data;
      cb();
    });
  }
}

export async function waitForLeader<N extends MemoryRaft>(nodes: N[]): Promise<N> {
  for (;;) {
    const leader = nodes.find((n) => n.isLeader);
    if (leader) return leader;
    await new Promise((r) => setTimeout(r, 10));
  }
}
