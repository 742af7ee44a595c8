/** Test helper: one hand-written core message per body type, with edge values. */
import type { Message } from '../../src/core/types.js';

const MAX = Number.MAX_SAFE_INTEGER;
const bigCommand = { op: 'set', key: 'k', value: 'v'.repeat(1024 * 1024 - 64) };

export const SAMPLE_MESSAGES: Record<string, Message> = {
  'RequestVoteRequest (max values)': {
    from: 'a', to: 'b', term: MAX,
    body: { type: 'RequestVoteRequest', lastLogIndex: MAX, lastLogTerm: MAX, preVote: true, leadershipTransfer: true },
  },
  'RequestVoteResponse (all defaults)': {
    from: 'a', to: 'b', term: 0, body: { type: 'RequestVoteResponse', voteGranted: false, preVote: false },
  },
  'AppendEntriesRequest heartbeat': {
    from: 'node-1', to: 'node-2', term: 7,
    body: { type: 'AppendEntriesRequest', prevLogIndex: 10, prevLogTerm: 7, entries: [], leaderCommit: 10, readRound: 3 },
  },
  'AppendEntriesRequest with every entry kind': {
    from: 'ä-ñødé-😀', to: 'b', term: 5,
    body: {
      type: 'AppendEntriesRequest', prevLogIndex: 0, prevLogTerm: 0, leaderCommit: 0, readRound: 0,
      entries: [
        { index: 1, term: 1, type: 'configuration', configuration: { voters: ['a', 'b', 'c'], learners: ['d'] } },
        { index: 2, term: 2, type: 'noop' },
        { index: 3, term: 5, type: 'command', command: null, clientId: 'c-1', sequence: MAX, firstOutstandingSequence: 1 },
        { index: 4, term: 5, type: 'command', command: { nested: [1, 2.5, -3, true, null, { deep: ['x', {}] }], s: '' } },
        { index: 5, term: 5, type: 'command', command: '' },
        { index: 6, term: 5, type: 'configuration', configuration: { voters: [], learners: [] } },
      ],
    },
  },
  'AppendEntriesRequest with a 1 MiB entry': {
    from: 'a', to: 'b', term: 2,
    body: { type: 'AppendEntriesRequest', prevLogIndex: MAX - 1, prevLogTerm: 2, leaderCommit: 1, readRound: 0,
      entries: [{ index: MAX, term: 2, type: 'command', command: bigCommand }] },
  },
  'AppendEntriesResponse': {
    from: 'a', to: 'b', term: 1,
    body: { type: 'AppendEntriesResponse', success: true, matchIndex: MAX, conflictIndex: 1, conflictTerm: 2, readRound: 3, lastLogIndex: 4, rejectedIndex: 5 },
  },
  'InstallSnapshotRequest': {
    from: 'a', to: 'b', term: 3,
    body: { type: 'InstallSnapshotRequest', lastIncludedIndex: 100, lastIncludedTerm: 3, offset: 2 ** 40,
      data: new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255]), done: true, configuration: { voters: ['a'], learners: [] } },
  },
  'InstallSnapshotRequest (empty data and configuration)': {
    from: 'a', to: 'b', term: 3,
    body: { type: 'InstallSnapshotRequest', lastIncludedIndex: 0, lastIncludedTerm: 0, offset: 0,
      data: new Uint8Array(0), done: false, configuration: { voters: [], learners: [] } },
  },
  'InstallSnapshotResponse': {
    from: 'a', to: 'b', term: 3, body: { type: 'InstallSnapshotResponse', lastIncludedIndex: 100, nextOffset: 4096, done: true },
  },
  'TimeoutNowRequest': { from: 'a', to: 'b', term: 9, body: { type: 'TimeoutNowRequest' } },
  'ProposeRequest (null command)': {
    from: 'a', to: 'b', term: 1, body: { type: 'ProposeRequest', clientId: '', sequence: 0, firstOutstandingSequence: 0, command: null },
  },
  'ProposeRequest (unicode command)': {
    from: 'a', to: 'b', term: 1,
    body: { type: 'ProposeRequest', clientId: 'client-ü', sequence: 12, firstOutstandingSequence: 10, command: { 'ключ': '值 😀', n: 1e300 } },
  },
  'ProposeResponse': {
    from: 'a', to: 'b', term: 1,
    body: { type: 'ProposeResponse', clientId: 'c', sequence: 1, index: 2, logTerm: 1, errorCode: 'NOT_LEADER', leaderHint: 'c' },
  },
  'ReadIndexRequest': { from: 'a', to: 'b', term: 1, body: { type: 'ReadIndexRequest', requestId: MAX } },
  'ReadIndexResponse': { from: 'a', to: 'b', term: 1, body: { type: 'ReadIndexResponse', requestId: 1, readIndex: 0, errorCode: '' } },
  'MembershipChangeRequest addVoter': {
    from: 'a', to: 'b', term: 1, body: { type: 'MembershipChangeRequest', requestId: 0, changeType: 'addVoter', address: 'd' },
  },
  'MembershipChangeRequest remove': {
    from: 'a', to: 'b', term: 1, body: { type: 'MembershipChangeRequest', requestId: 4, changeType: 'remove', address: 'a' },
  },
  'MembershipChangeResponse': {
    from: 'a', to: 'b', term: 1, body: { type: 'MembershipChangeResponse', requestId: 4, errorCode: '', index: 77 },
  },
};
