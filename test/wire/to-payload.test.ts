import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { fromPayload, isWireError, toPayload, WireError } from '../../src/wire/index.js';
import { SAMPLE_MESSAGES } from './samples.js';

const MAX = Number.MAX_SAFE_INTEGER;

describe('toPayload / fromPayload round trip for every message type', () => {
  for (const [name, message] of Object.entries(SAMPLE_MESSAGES)) {
    it(name, () => {
      const payload = toPayload(message);
      expect(JSON.parse(JSON.stringify(payload))).toStrictEqual(payload);
      const result = fromPayload(JSON.parse(JSON.stringify(payload)), { from: message.from });
      expect(result.ok ? result.message : result.error).toStrictEqual(message);
    });
  }
});

describe('toPayload canonical proto3 JSON form', () => {
  it('writes a heartbeat with uint64 as decimal strings and defaults omitted', () => {
    expect(toPayload(SAMPLE_MESSAGES['AppendEntriesRequest heartbeat'])).toStrictEqual({
      from: 'node-1', to: 'node-2', term: '7',
      appendEntriesRequest: { prevLogIndex: '10', prevLogTerm: '7', leaderCommit: '10', readRound: '3' },
    });
  });

  it('always writes the oneof body, even when empty', () => {
    expect(toPayload(SAMPLE_MESSAGES['RequestVoteResponse (all defaults)'])).toStrictEqual({
      from: 'a', to: 'b', requestVoteResponse: {},
    });
    expect(toPayload(SAMPLE_MESSAGES.TimeoutNowRequest)).toStrictEqual({ from: 'a', to: 'b', term: '9', timeoutNowRequest: {} });
  });

  it('writes enums by name, 2^53-1 exactly, null commands as null and configurations as set messages', () => {
    const payload = toPayload(SAMPLE_MESSAGES['AppendEntriesRequest with every entry kind']);
    const entries = (payload.appendEntriesRequest as { entries: unknown[] }).entries;
    expect(entries[0]).toStrictEqual({
      index: '1', term: '1', type: 'ENTRY_TYPE_CONFIGURATION', configuration: { voters: ['a', 'b', 'c'], learners: ['d'] },
    });
    expect(entries[1]).toStrictEqual({ index: '2', term: '2', type: 'ENTRY_TYPE_NOOP' });
    expect(entries[2]).toStrictEqual({
      index: '3', term: '5', type: 'ENTRY_TYPE_COMMAND', command: null, clientId: 'c-1', sequence: String(MAX), firstOutstandingSequence: '1',
    });
    expect(entries[5]).toStrictEqual({ index: '6', term: '5', type: 'ENTRY_TYPE_CONFIGURATION', configuration: {} });
    expect(toPayload(SAMPLE_MESSAGES['MembershipChangeRequest remove']).membershipChangeRequest).toStrictEqual({
      requestId: '4', changeType: 'MEMBERSHIP_CHANGE_TYPE_REMOVE', address: 'a',
    });
  });

  it('writes bytes as padded standard base64', () => {
    const payload = toPayload(SAMPLE_MESSAGES.InstallSnapshotRequest);
    expect(payload.installSnapshotRequest).toStrictEqual({
      lastIncludedIndex: '100', lastIncludedTerm: '3', offset: String(2 ** 40), data: 'AAEC+vv8/f7/', done: true,
      configuration: { voters: ['a'] },
    });
  });
});

describe('no aliasing between messages and payloads', () => {
  it('mutating the payload does not change the message, and vice versa', () => {
    const message = structuredClone(SAMPLE_MESSAGES['AppendEntriesRequest with every entry kind']);
    const snapshot = structuredClone(message);
    const payload = toPayload(message);
    const entries = (payload.appendEntriesRequest as { entries: { command?: { nested: unknown[] }; configuration?: { voters: string[] } }[] }).entries;
    entries[3].command!.nested.push('changed');
    entries[0].configuration!.voters.push('z');
    expect(message).toStrictEqual(snapshot);
    const before = JSON.stringify(payload);
    (message.body as { entries: { command?: unknown }[] }).entries[3].command = 'other';
    expect(JSON.stringify(payload)).toBe(before);
  });

  it('fromPayload returns a message that shares nothing with the payload', () => {
    const payload = toPayload(SAMPLE_MESSAGES['AppendEntriesRequest with every entry kind']);
    const before = JSON.stringify(payload);
    const result = fromPayload(payload);
    if (!result.ok) throw result.error;
    const body = result.message.body as { entries: { command?: { nested?: unknown[] }; configuration?: { voters: string[] } }[] };
    body.entries[3].command!.nested!.push(1);
    body.entries[0].configuration!.voters.pop();
    expect(JSON.stringify(payload)).toBe(before);
  });

  it('two calls never return the same object', () => {
    const message = SAMPLE_MESSAGES['ProposeRequest (unicode command)'];
    const a = toPayload(message);
    const b = toPayload(message);
    expect(a).not.toBe(b);
    expect(a.proposeRequest).not.toBe(b.proposeRequest);
    expect((a.proposeRequest as { command: unknown }).command).not.toBe((b.proposeRequest as { command: unknown }).command);
  });
});

/** Outgoing messages a buggy core might produce, and the error toPayload must throw. */
const BAD_OUTGOING: [name: string, mutate: (m: Message & { body: Record<string, unknown> }) => void, code: string, text: string][] = [
  ['negative term', (m) => { m.term = -1; }, 'INVALID_NUMBER', 'term: must be an integer in 0..2^53-1, got -1'],
  ['fractional index', (m) => { m.body.prevLogIndex = 1.5; }, 'INVALID_NUMBER', 'appendEntriesRequest.prevLogIndex: must be an integer in 0..2^53-1, got 1.5'],
  ['empty from', (m) => { m.from = ''; }, 'MISSING_FIELD', 'from: must be a non-empty address'],
  ['unknown body type', (m) => { (m.body as Record<string, unknown>).type = 'Gossip'; }, 'UNKNOWN_BODY', 'body.type: unknown message body type "Gossip"'],
  ['non-contiguous entries', (m) => { (m.body.entries as { index: number }[])[1].index = 9; }, 'INVALID_ENTRIES',
    'appendEntriesRequest.entries[1].index: must be 2 (entries are contiguous from prevLogIndex + 1), got 9'],
  ['function inside a command', (m) => { (m.body.entries as { command?: unknown }[])[3].command = { f: () => 1 }; }, 'INVALID_TYPE',
    'appendEntriesRequest.entries[3].command.f: must be a JSON value, got a function'],
  ['NaN inside a command', (m) => { (m.body.entries as { command?: unknown }[])[3].command = [NaN]; }, 'INVALID_NUMBER',
    'appendEntriesRequest.entries[3].command[0]: must be a finite number, got NaN'],
];

describe('toPayload rejects invalid outgoing messages (a core bug must not leak)', () => {
  for (const [name, mutate, code, text] of BAD_OUTGOING) {
    it(name, () => {
      const message = structuredClone(SAMPLE_MESSAGES['AppendEntriesRequest with every entry kind']) as Message & { body: Record<string, unknown> };
      mutate(message);
      let thrown: unknown;
      try {
        toPayload(message);
      } catch (error) {
        thrown = error;
      }
      expect(isWireError(thrown)).toBe(true);
      expect(thrown).toBeInstanceOf(WireError);
      expect((thrown as WireError).code).toBe(code);
      expect((thrown as WireError).message).toBe(text);
    });
  }
});
