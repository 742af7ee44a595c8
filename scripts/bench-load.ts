/**
 * What the cluster benchmarks share (npm run bench:cluster and
 * bench:instructions): the node class with the benchmark's timing, the
 * 256-byte commands, and waiting for a leader.
 */
import { MemoryRaft } from '../src/testing/memory-network.js';

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

export async function waitForLeader<N extends MemoryRaft>(nodes: N[]): Promise<N> {
  for (;;) {
    const leader = nodes.find((n) => n.isLeader);
    if (leader) return leader;
    await new Promise((r) => setTimeout(r, 10));
  }
}
