/**
 * Test helper: fast-check arbitraries for valid core messages (in the
 * canonical shape fromPayload returns: optional LogEntry fields only when
 * non-default) and for hostile payloads.
 */
import fc from 'fast-check';
import type { Configuration, JsonValue, LogEntry, Message, MessageBody } from '../../src/core/types.js';

export const MAX = Number.MAX_SAFE_INTEGER;

/** fc.record with ordinary (Object.prototype) objects, as the codecs return. */
const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true });

/** Seed and run count used by every property of the wire and binary suites. */
export const FUZZ = { seed: 20240611, numRuns: 300 } as const;

export const uint = (): fc.Arbitrary<number> => fc.oneof(fc.constantFrom(0, 1, 127, 128, 2 ** 32, MAX), fc.maxSafeNat());
const text = (): fc.Arbitrary<string> => fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ maxLength: 12 }));
export const address = (): fc.Arbitrary<string> => text().filter((s) => s !== '');

/** JSON values without -0 (which JSON cannot carry); keys may be `__proto__`. */
export const jsonValue = (): fc.Arbitrary<JsonValue> =>
  fc
    .oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constant(JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}') as JsonValue),
    )
    .map((value) => JSON.parse(JSON.stringify(value)) as JsonValue);

export const configuration = (): fc.Arbitrary<Configuration> =>
  record({ voters: fc.array(address(), { maxLength: 4 }), learners: fc.array(address(), { maxLength: 3 }) });

const entryExtras = record({ clientId: text(), sequence: uint(), firstOutstandingSequence: uint() });

/** A valid entry at `index` of `term`: a command, no-op or configuration, with or without session fields. */
export function entryArb(index: number, term: number): fc.Arbitrary<LogEntry> {
  return fc
    .tuple(fc.constantFrom('command', 'noop', 'configuration'), jsonValue(), configuration(), entryExtras)
    .map(([type, command, config, extras]) => {
      const entry: LogEntry = { index, term, type };
      if (type === 'command') entry.command = command;
      if (type === 'configuration') entry.configuration = config;
      if (extras.clientId !== '') entry.clientId = extras.clientId;
      if (extras.sequence !== 0) entry.sequence = extras.sequence;
      if (extras.firstOutstandingSequence !== 0) entry.firstOutstandingSequence = extras.firstOutstandingSequence;
      return entry;
    });
}

function appendEntries(term: number): fc.Arbitrary<MessageBody> {
  return fc
    .record({
      prevLogIndex: fc.oneof(fc.constantFrom(0, MAX - 10), fc.nat({ max: MAX - 10 })),
      prevLogTerm: fc.integer({ min: 0, max: term }),
      leaderCommit: uint(),
      readRound: uint(),
      count: fc.nat({ max: 4 }),
    })
    .chain(({ prevLogIndex, prevLogTerm, leaderCommit, readRound, count }) =>
      fc
        .array(fc.integer({ min: prevLogTerm, max: term }), { minLength: count, maxLength: count })
        .map((terms) => terms.sort((a, b) => a - b))
        .chain((terms) => fc.tuple(...terms.map((t, i) => entryArb(prevLogIndex + 1 + i, t))))
        .map(
          (entries): MessageBody => ({
            type: 'AppendEntriesRequest',
            prevLogIndex,
            prevLogTerm,
            entries,
            leaderCommit,
            readRound,
          }),
        ),
    );
}

function body(term: number): fc.Arbitrary<MessageBody> {
  return fc.oneof(
    record({ type: fc.constant('RequestVoteRequest' as const), lastLogIndex: uint(), lastLogTerm: uint(), preVote: fc.boolean(), leadershipTransfer: fc.boolean() }),
    record({ type: fc.constant('RequestVoteResponse' as const), voteGranted: fc.boolean(), preVote: fc.boolean() }),
    appendEntries(term),
    record({
      type: fc.constant('AppendEntriesResponse' as const), success: fc.boolean(), matchIndex: uint(), conflictIndex: uint(),
      conflictTerm: uint(), readRound: uint(), lastLogIndex: uint(), rejectedIndex: uint(),
    }),
    record({
      type: fc.constant('InstallSnapshotRequest' as const), lastIncludedIndex: uint(), lastIncludedTerm: uint(), offset: uint(),
      data: fc.uint8Array({ maxLength: 40 }), done: fc.boolean(), configuration: configuration(),
    }),
    record({ type: fc.constant('InstallSnapshotResponse' as const), lastIncludedIndex: uint(), nextOffset: uint(), done: fc.boolean() }),
    fc.constant({ type: 'TimeoutNowRequest' as const }),
    record({ type: fc.constant('ProposeRequest' as const), clientId: text(), sequence: uint(), firstOutstandingSequence: uint(), command: jsonValue() }),
    record({
      type: fc.constant('ProposeResponse' as const), clientId: text(), sequence: uint(), index: uint(), logTerm: uint(),
      errorCode: text(), leaderHint: text(),
    }),
    record({ type: fc.constant('ReadIndexRequest' as const), requestId: uint() }),
    record({ type: fc.constant('ReadIndexResponse' as const), requestId: uint(), readIndex: uint(), errorCode: text() }),
    record({ type: fc.constant('MembershipChangeRequest' as const), requestId: uint(), changeType: fc.constantFrom('addVoter' as const, 'remove' as const), address: address() }),
    record({ type: fc.constant('MembershipChangeResponse' as const), requestId: uint(), errorCode: text(), index: uint() }),
  );
}

/** Any valid core Message. */
export const message = (): fc.Arbitrary<Message> =>
  fc
    .record({ from: address(), to: address(), term: uint() })
    .chain(({ from, to, term }) => body(term).map((b): Message => ({ from, to, term, body: b })));
