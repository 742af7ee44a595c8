/**
 * Test helpers for driving a RaftCore by hand (test code only).
 */
import { RaftCore, type CoreOptions } from '../../src/core/raft.js';
import type { ProposalFailure, RequestResult } from '../../src/core/ready.js';
import type { HardState, LogEntry, Message, MessageBody } from '../../src/core/types.js';

/** Election and heartbeat timeouts of {@link startedCore} (ms). */
export const TEST_TIMEOUT = 300;

/**
 * A core with no stored state started with `peers`: client id `<id>#test`, no
 * randomness (timeouts exactly TEST_TIMEOUT), heartbeats every 50 ms; `options` override.
 */
export function startedCore(id: string, peers: string[], options: Partial<CoreOptions> = {}): RaftCore {
  const core = new RaftCore({
    id,
    clientId: `${id}#test`,
    timing: { heartbeatFrequency: () => 50, heartbeatTimeout: () => TEST_TIMEOUT, electionTimeout: () => TEST_TIMEOUT },
    random: () => 0,
    ...options,
  });
  core.start({ hardState: null, snapshot: null, entries: [] }, peers, 0);
  return core;
}

/** What {@link drain} collected from a core's Readies. */
export interface Drained {
  messages: Message[];
  committed: LogEntry[];
  /** The last hard state the core asked to save, if any. */
  hardState: HardState | undefined;
  readResults: RequestResult[];
  membershipResults: RequestResult[];
  proposalFailures: ProposalFailure[];
}

/** Takes every Ready, "persists" it at once, applies what committed; returns what the Readies carried. */
export function drain(core: RaftCore): Drained {
  const drained: Drained = { messages: [], committed: [], hardState: undefined, readResults: [], membershipResults: [], proposalFailures: [] };
  while (core.hasReady()) {
    const ready = core.ready();
    core.advance(ready);
    drained.messages.push(...ready.messagesBeforeSave, ...ready.messages);
    drained.committed.push(...ready.committedEntries);
    drained.readResults.push(...ready.readResults);
    drained.membershipResults.push(...ready.membershipResults);
    drained.proposalFailures.push(...ready.proposalFailures);
    if (ready.hardState) drained.hardState = ready.hardState;
    if (ready.committedEntries.length > 0) core.appliedTo(ready.committedEntries[ready.committedEntries.length - 1].index);
  }
  return drained;
}

/** Takes every Ready, "persists" it at once, applies what committed, and returns the messages it asked to send. */
export function flush(core: RaftCore): Message[] {
  return drain(core).messages;
}

/**
 * Drains every core and delivers the messages at `now` until none is sent
 * (at most 100 rounds); `deliver` may hold some back, `observe` sees what each
 * core's Readies carried. Returns every message sent.
 */
export function deliverUntilQuiet(
  cores: Map<string, RaftCore>,
  now: number,
  deliver: (message: Message) => boolean = () => true,
  observe: (id: string, drained: Drained) => void = () => {},
): Message[] {
  const sent: Message[] = [];
  for (let round = 0; round < 100; round++) {
    const messages: Message[] = [];
    for (const [id, core] of cores) {
      const drained = drain(core);
      observe(id, drained);
      messages.push(...drained.messages);
    }
    if (messages.length === 0) break;
    sent.push(...messages);
    for (const m of messages) if (deliver(m)) cores.get(m.to)?.step(m, now);
  }
  return sent;
}

/** A message envelope. */
export function msg(from: string, to: string, term: number, body: MessageBody): Message {
  return { from, to, term, body };
}
