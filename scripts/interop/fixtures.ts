/**
 * Core-message fixtures for the golden wire vectors (test/vectors). Every body
 * type of `webraft.v1.Message` appears at least once, plus edge cases. Each
 * fixture is a `Message` from src/core/types.ts; make-vectors.ts turns it into
 * `<name>.json` (canonical proto3 JSON payload) and `<name>.binpb`.
 *
 * Fixtures must be deterministic: no randomness, no clocks.
 */
import type { JsonValue, LogEntry, Message } from '../../src/core/types.js';

export interface Fixture {
  name: string;
  message: Message;
  /**
   * Valid for the proto schema but a WebRaft node refuses it on semantic
   * grounds (empty sender address): the product tests then accept a WireError
   * from fromPayload/toPayload instead of a round trip.
   */
  productMayReject?: boolean;
}

/** 2^53 - 1, the largest 64-bit value a core `number` carries exactly. */
export const MAX = Number.MAX_SAFE_INTEGER;
export const UNICODE = 'ñ日本🙂';

/** A deterministic ~256 KiB command: an object holding a long string and an array. */
function largeCommand(): JsonValue {
  const chunk = 'The quick brown fox jumps over the lazy dog ñ日本🙂 0123456789\n';
  let text = '';
  while (text.length < 200 * 1024) text += chunk;
  const rows: JsonValue[] = [];
  for (let i = 0; i < 1024; i++) rows.push({ i, key: `k${i.toString(36)}`, ok: i % 3 === 0 });
  return { blob: text, rows };
}

/** Deterministic pseudo-random bytes covering all 256 values. */
function binary(length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = 0x12345678;
  for (let i = 0; i < length; i++) {
    if (i < 256) {
      out[i] = i;
      continue;
    }
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const nestedCommand: JsonValue = {
  array: [1, 'two', null, true, false, [], {}, [[-1.5]]],
  bool: false,
  float: 3.14159,
  int: -42,
  maxSafe: MAX,
  nested: { deeper: { deepest: [null, { x: 0.1 }] } },
  null: null,
  small: 1e-7,
  string: '',
  tiny: 5e-324,
  large: 1.7976931348623157e308,
  unicode: UNICODE,
  [UNICODE]: 'unicode key',
  'key with "quotes" and \\ and \n': 'escape',
};

const commandEntry = (index: number, term: number, command: JsonValue, extra: Partial<LogEntry> = {}): LogEntry => ({
  index,
  term,
  type: 'command',
  command,
  ...extra,
});

export const fixtures: Fixture[] = [
  // --- RequestVote ---------------------------------------------------------
  {
    name: 'request-vote-request',
    message: {
      from: 'a',
      to: 'b',
      term: 5,
      body: { type: 'RequestVoteRequest', lastLogIndex: 10, lastLogTerm: 4, preVote: false, leadershipTransfer: false },
    },
  },
  {
    name: 'request-vote-request-prevote-transfer-max',
    message: {
      from: 'node-1.example.com:4000',
      to: 'node-2.example.com:4000',
      term: MAX,
      body: { type: 'RequestVoteRequest', lastLogIndex: MAX, lastLogTerm: MAX, preVote: true, leadershipTransfer: true },
    },
  },
  {
    name: 'request-vote-request-zero',
    productMayReject: true,
    message: {
      from: '',
      to: '',
      term: 0,
      body: { type: 'RequestVoteRequest', lastLogIndex: 0, lastLogTerm: 0, preVote: false, leadershipTransfer: false },
    },
  },
  {
    name: 'request-vote-response',
    message: { from: 'b', to: 'a', term: 5, body: { type: 'RequestVoteResponse', voteGranted: true, preVote: false } },
  },
  {
    name: 'request-vote-response-prevote-denied',
    message: { from: 'b', to: 'a', term: 6, body: { type: 'RequestVoteResponse', voteGranted: false, preVote: true } },
  },
  // --- AppendEntries -------------------------------------------------------
  {
    name: 'append-entries-heartbeat',
    message: {
      from: 'a',
      to: 'b',
      term: 7,
      body: { type: 'AppendEntriesRequest', prevLogIndex: 100, prevLogTerm: 7, entries: [], leaderCommit: 99, readRound: 3 },
    },
  },
  {
    name: 'append-entries-all-entry-types',
    message: {
      from: 'a',
      to: 'b',
      term: 3,
      body: {
        type: 'AppendEntriesRequest',
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [
          { index: 1, term: 1, type: 'configuration', configuration: { voters: ['a', 'b', 'c'], learners: [] } },
          { index: 2, term: 2, type: 'noop' },
          commandEntry(3, 3, { op: 'set', key: 'x', value: 1 }),
          commandEntry(4, 3, 'plain string command', { clientId: 'client-1', sequence: 7, firstOutstandingSequence: 5 }),
          { index: 5, term: 3, type: 'configuration', configuration: { voters: ['a', 'b'], learners: ['d', 'e'] } },
        ],
        leaderCommit: 2,
        readRound: 0,
      },
    },
  },
  {
    name: 'append-entries-json-commands',
    message: {
      from: 'a',
      to: 'b',
      term: 2,
      body: {
        type: 'AppendEntriesRequest',
        prevLogIndex: 9,
        prevLogTerm: 2,
        entries: [
          commandEntry(10, 2, nestedCommand),
          commandEntry(11, 2, null),
          commandEntry(12, 2, true),
          commandEntry(13, 2, false),
          commandEntry(14, 2, 0),
          commandEntry(15, 2, -0.5),
          commandEntry(16, 2, ''),
          commandEntry(17, 2, UNICODE),
          commandEntry(18, 2, []),
          commandEntry(19, 2, {}),
          commandEntry(20, 2, [{ b: 1, a: 2 }, { '10': 'ten', '9': 'nine', '': 'empty key' }]),
        ],
        leaderCommit: 9,
        readRound: 0,
      },
    },
  },
  {
    name: 'append-entries-max-values',
    message: {
      from: UNICODE,
      to: UNICODE,
      term: MAX,
      body: {
        type: 'AppendEntriesRequest',
        prevLogIndex: MAX - 1,
        prevLogTerm: MAX,
        entries: [
          commandEntry(MAX, MAX, MAX, { clientId: UNICODE, sequence: MAX, firstOutstandingSequence: MAX }),
        ],
        leaderCommit: MAX,
        readRound: MAX,
      },
    },
  },
  {
    name: 'append-entries-large-entry',
    message: {
      from: 'a',
      to: 'b',
      term: 8,
      body: {
        type: 'AppendEntriesRequest',
        prevLogIndex: 41,
        prevLogTerm: 8,
        entries: [commandEntry(42, 8, largeCommand())],
        leaderCommit: 41,
        readRound: 0,
      },
    },
  },
  {
    name: 'append-entries-empty-configuration',
    message: {
      from: 'a',
      to: 'b',
      term: 1,
      body: {
        type: 'AppendEntriesRequest',
        prevLogIndex: 0,
        prevLogTerm: 0,
        entries: [{ index: 1, term: 1, type: 'configuration', configuration: { voters: [], learners: [] } }],
        leaderCommit: 0,
        readRound: 0,
      },
    },
  },
  {
    name: 'append-entries-response-success',
    message: {
      from: 'b',
      to: 'a',
      term: 7,
      body: {
        type: 'AppendEntriesResponse',
        success: true,
        matchIndex: 105,
        conflictIndex: 0,
        conflictTerm: 0,
        readRound: 3,
        lastLogIndex: 105,
        rejectedIndex: 0,
      },
    },
  },
  {
    name: 'append-entries-response-conflict',
    message: {
      from: 'b',
      to: 'a',
      term: 7,
      body: {
        type: 'AppendEntriesResponse',
        success: false,
        matchIndex: 0,
        conflictIndex: 50,
        conflictTerm: 4,
        readRound: 0,
        lastLogIndex: MAX,
        rejectedIndex: 51,
      },
    },
  },
  // --- InstallSnapshot -----------------------------------------------------
  {
    name: 'install-snapshot-request',
    message: {
      from: 'a',
      to: 'c',
      term: 9,
      body: {
        type: 'InstallSnapshotRequest',
        lastIncludedIndex: 1000,
        lastIncludedTerm: 8,
        offset: 65536,
        data: binary(4096),
        done: true,
        configuration: { voters: ['a', 'b', 'c'], learners: [UNICODE] },
      },
    },
  },
  {
    name: 'install-snapshot-request-first-empty',
    message: {
      from: 'a',
      to: 'c',
      term: 9,
      body: {
        type: 'InstallSnapshotRequest',
        lastIncludedIndex: 1000,
        lastIncludedTerm: 8,
        offset: 0,
        data: new Uint8Array(0),
        done: false,
        configuration: { voters: [], learners: [] },
      },
    },
  },
  {
    name: 'install-snapshot-request-padding',
    message: {
      from: 'a',
      to: 'c',
      term: 9,
      body: {
        type: 'InstallSnapshotRequest',
        lastIncludedIndex: MAX,
        lastIncludedTerm: MAX,
        offset: MAX,
        // 1 and 2 bytes: base64 with "==" and "=" padding, and bytes that need '+' and '/'.
        data: new Uint8Array([0xfb, 0xff]),
        done: true,
        configuration: { voters: ['a'], learners: [] },
      },
    },
  },
  {
    name: 'install-snapshot-response',
    message: {
      from: 'c',
      to: 'a',
      term: 9,
      body: { type: 'InstallSnapshotResponse', lastIncludedIndex: 1000, nextOffset: 69632, done: true },
    },
  },
  {
    name: 'install-snapshot-response-zero',
    message: {
      from: 'c',
      to: 'a',
      term: 9,
      body: { type: 'InstallSnapshotResponse', lastIncludedIndex: 0, nextOffset: 0, done: false },
    },
  },
  // --- TimeoutNow ----------------------------------------------------------
  { name: 'timeout-now-request', message: { from: 'a', to: 'b', term: 12, body: { type: 'TimeoutNowRequest' } } },
  { name: 'timeout-now-request-zero',
    productMayReject: true, message: { from: '', to: '', term: 0, body: { type: 'TimeoutNowRequest' } } },
  // --- Propose -------------------------------------------------------------
  {
    name: 'propose-request',
    message: {
      from: 'b',
      to: 'a',
      term: 4,
      body: {
        type: 'ProposeRequest',
        clientId: 'b/session-1',
        sequence: 17,
        firstOutstandingSequence: 15,
        command: { op: 'put', key: UNICODE, value: [1, 2.5, null, { nested: true }] },
      },
    },
  },
  {
    name: 'propose-request-null-command',
    message: {
      from: 'b',
      to: 'a',
      term: 4,
      body: { type: 'ProposeRequest', clientId: '', sequence: 0, firstOutstandingSequence: 0, command: null },
    },
  },
  {
    name: 'propose-request-max',
    message: {
      from: 'b',
      to: 'a',
      term: MAX,
      body: {
        type: 'ProposeRequest',
        clientId: UNICODE,
        sequence: MAX,
        firstOutstandingSequence: MAX,
        command: [MAX, -MAX, UNICODE],
      },
    },
  },
  {
    name: 'propose-response',
    message: {
      from: 'a',
      to: 'b',
      term: 4,
      body: {
        type: 'ProposeResponse',
        clientId: 'b/session-1',
        sequence: 17,
        index: 120,
        logTerm: 4,
        errorCode: '',
        leaderHint: 'a',
      },
    },
  },
  {
    name: 'propose-response-error',
    message: {
      from: 'c',
      to: 'b',
      term: 4,
      body: {
        type: 'ProposeResponse',
        clientId: UNICODE,
        sequence: MAX,
        index: 0,
        logTerm: 0,
        errorCode: 'NOT_LEADER',
        leaderHint: '',
      },
    },
  },
  // --- ReadIndex -----------------------------------------------------------
  { name: 'read-index-request', message: { from: 'b', to: 'a', term: 4, body: { type: 'ReadIndexRequest', requestId: 1 } } },
  {
    name: 'read-index-request-zero',
    message: { from: 'b', to: 'a', term: 4, body: { type: 'ReadIndexRequest', requestId: 0 } },
  },
  {
    name: 'read-index-response',
    message: {
      from: 'a',
      to: 'b',
      term: 4,
      body: { type: 'ReadIndexResponse', requestId: MAX, readIndex: 130, errorCode: '' },
    },
  },
  {
    name: 'read-index-response-error',
    message: {
      from: 'c',
      to: 'b',
      term: 4,
      body: { type: 'ReadIndexResponse', requestId: 2, readIndex: 0, errorCode: 'NOT_LEADER' },
    },
  },
  // --- MembershipChange ----------------------------------------------------
  {
    name: 'membership-change-request-add',
    message: {
      from: 'b',
      to: 'a',
      term: 4,
      body: { type: 'MembershipChangeRequest', requestId: 3, changeType: 'addVoter', address: 'd' },
    },
  },
  {
    name: 'membership-change-request-remove',
    message: {
      from: 'b',
      to: 'a',
      term: 4,
      body: { type: 'MembershipChangeRequest', requestId: MAX, changeType: 'remove', address: UNICODE },
    },
  },
  {
    name: 'membership-change-response',
    message: {
      from: 'a',
      to: 'b',
      term: 4,
      body: { type: 'MembershipChangeResponse', requestId: 3, errorCode: '', index: 131 },
    },
  },
  {
    name: 'membership-change-response-error',
    message: {
      from: 'c',
      to: 'b',
      term: 4,
      body: { type: 'MembershipChangeResponse', requestId: 4, errorCode: 'NOT_LEADER', index: 0 },
    },
  },
];
