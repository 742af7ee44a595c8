/**
 * Test helpers for driving a RaftCore by hand (test code only).
 */
import type { RaftCore } from '../../src/core/raft.js';
import type { Message, MessageBody } from '../../src/core/types.js';

/** Takes every Ready, "persists" it at once, applies what committed, and returns the messages it asked to send. */
export function flush(core: RaftCore): Message[] {
  const out: Message[] = [];
  while (core.hasReady()) {
    const ready = core.ready();
    core.advance(ready);
    out.push(...ready.messages);
    if (ready.committedEntries.length > 0) core.appliedTo(ready.committedEntries[ready.committedEntries.length - 1].index);
  }
  return out;
}

/** A message envelope. */
export function msg(from: string, to: string, term: number, body: MessageBody): Message {
  return { from, to, term, body };
}
