import { describe, expect, it } from 'vitest';
import { DEFAULT_WIRE_LIMITS, fromPayload, isWireError, type WireErrorCode } from '../../src/wire/index.js';

type Payload = Record<string, unknown>;

const heartbeat = (body: Payload = {}, envelope: Payload = {}): Payload => ({
  from: 'a', to: 'b', term: '5', ...envelope, appendEntriesRequest: { prevLogIndex: '3', prevLogTerm: '4', ...body },
});
const entry = (index: number, extra: Payload = {}): Payload => ({ index: String(index), term: '5', type: 'ENTRY_TYPE_NOOP', ...extra });

/** [case, payload, options, code, exact message] */
const REJECTIONS: [string, unknown, Parameters<typeof fromPayload>[1], WireErrorCode, string][] = [
  ['a JSON string instead of an object', '{"from":"a"}', undefined, 'NOT_AN_OBJECT', 'payload must be a JSON object, got "{\\"from\\":\\"a\\"}"'],
  ['null', null, undefined, 'NOT_AN_OBJECT', 'payload must be a JSON object, got null'],
  ['an array', [], undefined, 'NOT_AN_OBJECT', 'payload must be a JSON object, got an array'],
  ['no body', { from: 'a', to: 'b', term: '1' }, undefined, 'MISSING_BODY',
    'payload sets no body (exactly one such as appendEntriesRequest is required)'],
  ['only null bodies', { from: 'a', to: 'b', timeoutNowRequest: null }, undefined, 'MISSING_BODY',
    'payload sets no body (exactly one such as appendEntriesRequest is required)'],
  ['two bodies', { from: 'a', to: 'b', timeoutNowRequest: {}, readIndexRequest: {} }, undefined, 'MULTIPLE_BODIES',
    'payload sets more than one body: "timeoutNowRequest" and "readIndexRequest"'],
  ['an unknown body', { from: 'a', to: 'b', gossipRequest: {} }, undefined, 'UNKNOWN_BODY',
    'payload sets no known body; unknown body "gossipRequest"'],
  ['a body that is not an object', { from: 'a', to: 'b', timeoutNowRequest: 'now' }, undefined, 'NOT_AN_OBJECT',
    'timeoutNowRequest: must be an object, got "now"'],
  ['missing from', { to: 'b', timeoutNowRequest: {} }, undefined, 'MISSING_FIELD', 'from: must be a non-empty address'],
  ['empty to', { from: 'a', to: '', timeoutNowRequest: {} }, undefined, 'MISSING_FIELD', 'to: must be a non-empty address'],
  ['from of the wrong type', { from: 7, to: 'b', timeoutNowRequest: {} }, undefined, 'INVALID_TYPE', 'from: must be a string, got 7'],
  ['sender mismatch', { from: 'mallory', to: 'b', timeoutNowRequest: {} }, { from: 'a' }, 'SENDER_MISMATCH',
    'from: payload claims sender "mallory" but arrived from "a"'],
  ['negative term', heartbeat({}, { term: -1 }), undefined, 'INVALID_NUMBER', 'term: must be an integer in 0..2^53-1, got -1'],
  ['fractional term', heartbeat({}, { term: 1.5 }), undefined, 'INVALID_NUMBER', 'term: must be an integer in 0..2^53-1, got 1.5'],
  ['NaN term', heartbeat({}, { term: NaN }), undefined, 'INVALID_NUMBER', 'term: must be an integer in 0..2^53-1, got NaN'],
  ['Infinity term', heartbeat({}, { term: Infinity }), undefined, 'INVALID_NUMBER', 'term: must be an integer in 0..2^53-1, got Infinity'],
  ['term 2^53', heartbeat({}, { term: 2 ** 53 }), undefined, 'INVALID_NUMBER', 'term: must be an integer in 0..2^53-1, got 9007199254740992'],
  ['term string 2^53', heartbeat({}, { term: '9007199254740992' }), undefined, 'INVALID_NUMBER',
    'term: must be an integer in 0..2^53-1 (a number or a canonical decimal string), got "9007199254740992"'],
  ['term string with leading zero', heartbeat({}, { term: '05' }), undefined, 'INVALID_NUMBER',
    'term: must be an integer in 0..2^53-1 (a number or a canonical decimal string), got "05"'],
  ['term string in exponent form', heartbeat({}, { term: '1e3' }), undefined, 'INVALID_NUMBER',
    'term: must be an integer in 0..2^53-1 (a number or a canonical decimal string), got "1e3"'],
  ['term boolean', heartbeat({}, { term: true }), undefined, 'INVALID_TYPE', 'term: must be an integer in 0..2^53-1, got true'],
  ['negative entry term', heartbeat({ entries: [entry(4, { term: -1 })] }), undefined, 'INVALID_NUMBER',
    'appendEntriesRequest.entries[0].term: must be an integer in 0..2^53-1, got -1'],
  ['camelCase and snake_case of one field', heartbeat({ prev_log_index: '3' }), undefined, 'DUPLICATE_FIELD',
    'appendEntriesRequest.prevLogIndex: given both as "prevLogIndex" and as "prev_log_index"'],
  ['oversized string', { from: 'a'.repeat(11), to: 'b', timeoutNowRequest: {} }, { limits: { maxStringLength: 10 } }, 'LIMIT_EXCEEDED',
    'from: string of 11 characters exceeds maxStringLength (10)'],
  ['lone surrogate', { from: 'a\uD800', to: 'b', timeoutNowRequest: {} }, undefined, 'INVALID_STRING',
    'from: must be well-formed UTF-16 (contains a lone surrogate)'],
  ['too many entries', heartbeat({ entries: [entry(4), entry(5), entry(6)] }), { limits: { maxEntriesPerMessage: 2 } }, 'LIMIT_EXCEEDED',
    'appendEntriesRequest.entries: 3 entries exceed maxEntriesPerMessage (2)'],
  ['payload over maxPayloadBytes', heartbeat({ entries: [entry(4, { type: 1, command: 'x'.repeat(500) })] }),
    { limits: { maxPayloadBytes: 400 } }, 'LIMIT_EXCEEDED', 'appendEntriesRequest.entries[0]: payload exceeds maxPayloadBytes (400 bytes)'],
  ['entries not an array', heartbeat({ entries: {} }), undefined, 'INVALID_TYPE', 'appendEntriesRequest.entries: must be an array, got an object'],
  ['entry not an object', heartbeat({ entries: [7] }), undefined, 'NOT_AN_OBJECT', 'appendEntriesRequest.entries[0]: must be an object, got 7'],
  ['entry type UNSPECIFIED', heartbeat({ entries: [entry(4, { type: 'ENTRY_TYPE_UNSPECIFIED' })] }), undefined, 'INVALID_ENUM',
    'appendEntriesRequest.entries[0].type: must not be ENTRY_TYPE_UNSPECIFIED'],
  ['entry type absent', heartbeat({ entries: [{ index: '4', term: '5' }] }), undefined, 'INVALID_ENUM',
    'appendEntriesRequest.entries[0].type: must not be ENTRY_TYPE_UNSPECIFIED'],
  ['entry type unknown name', heartbeat({ entries: [entry(4, { type: 'ENTRY_TYPE_MAGIC' })] }), undefined, 'INVALID_ENUM',
    'appendEntriesRequest.entries[0].type: unknown EntryType value "ENTRY_TYPE_MAGIC"'],
  ['entry type unknown number', heartbeat({ entries: [entry(4, { type: 9 })] }), undefined, 'INVALID_ENUM',
    'appendEntriesRequest.entries[0].type: unknown EntryType value 9'],
  ['entries not starting at prevLogIndex + 1', heartbeat({ entries: [entry(5)] }), undefined, 'INVALID_ENTRIES',
    'appendEntriesRequest.entries[0].index: must be 4 (entries are contiguous from prevLogIndex + 1), got 5'],
  ['entries with a gap', heartbeat({ entries: [entry(4), entry(6)] }), undefined, 'INVALID_ENTRIES',
    'appendEntriesRequest.entries[1].index: must be 5 (entries are contiguous from prevLogIndex + 1), got 6'],
  ['entry terms decreasing', heartbeat({ entries: [entry(4, { term: '4' }), entry(5, { term: '4' }), entry(6, { term: '3' })] }), undefined, 'INVALID_ENTRIES',
    'appendEntriesRequest.entries[2].term: must not be below the term of the preceding entry (4), got 3'],
  ['entry term below prevLogTerm', heartbeat({ entries: [entry(4, { term: '2' })] }), undefined, 'INVALID_ENTRIES',
    'appendEntriesRequest.entries[0].term: must not be below the term of the preceding entry (4), got 2'],
  ['entry term above message term', heartbeat({ entries: [entry(4, { term: '6' })] }), undefined, 'INVALID_ENTRIES',
    'appendEntriesRequest.entries[0].term: must not exceed the message term (5), got 6'],
  ['prevLogTerm above message term', heartbeat({ prevLogTerm: '6' }), undefined, 'INVALID_ENTRIES',
    'appendEntriesRequest.prevLogTerm: must not exceed the message term (5), got 6'],
  ['command entry without command', heartbeat({ entries: [entry(4, { type: 'ENTRY_TYPE_COMMAND' })] }), undefined, 'INVALID_ENTRIES',
    'appendEntriesRequest.entries[0].command: is required on an ENTRY_TYPE_COMMAND entry'],
  ['noop entry with a command', heartbeat({ entries: [entry(4, { command: 1 })] }), undefined, 'INVALID_ENTRIES',
    'appendEntriesRequest.entries[0].command: is only allowed on an ENTRY_TYPE_COMMAND entry'],
  ['command entry with a configuration', heartbeat({ entries: [entry(4, { type: 1, command: 1, configuration: {} })] }), undefined,
    'INVALID_ENTRIES', 'appendEntriesRequest.entries[0].configuration: is only allowed on an ENTRY_TYPE_CONFIGURATION entry'],
  ['configuration entry without configuration', heartbeat({ entries: [entry(4, { type: 3 })] }), undefined, 'INVALID_ENTRIES',
    'appendEntriesRequest.entries[0].configuration: is required on an ENTRY_TYPE_CONFIGURATION entry'],
  ['empty voter address', heartbeat({ entries: [entry(4, { type: 3, configuration: { voters: ['a', ''] } })] }), undefined, 'MISSING_FIELD',
    'appendEntriesRequest.entries[0].configuration.voters[1]: must be a non-empty address'],
  ['command too deep', heartbeat({ entries: [entry(4, { type: 1, command: [[[1]]] })] }), { limits: { maxJsonDepth: 2 } }, 'LIMIT_EXCEEDED',
    'appendEntriesRequest.entries[0].command[0][0]: exceeds maxJsonDepth (2)'],
  ['command holding undefined', heartbeat({ entries: [entry(4, { type: 1, command: { a: undefined } })] }), undefined, 'INVALID_TYPE',
    'appendEntriesRequest.entries[0].command.a: must be a JSON value, got undefined'],
  ['command holding a function', { from: 'a', to: 'b', proposeRequest: { command: { 'odd key': [() => 0] } } }, undefined, 'INVALID_TYPE',
    'proposeRequest.command["odd key"][0]: must be a JSON value, got a function'],
  ['command holding Infinity', { from: 'a', to: 'b', proposeRequest: { command: Infinity } }, undefined, 'INVALID_NUMBER',
    'proposeRequest.command: must be a finite number, got Infinity'],
  ['command holding a Date', { from: 'a', to: 'b', proposeRequest: { command: new Date(0) } }, undefined, 'INVALID_TYPE',
    'proposeRequest.command: must be a JSON value, got a non-plain object'],
  ['proposal without command', { from: 'a', to: 'b', proposeRequest: {} }, undefined, 'MISSING_FIELD', 'proposeRequest.command: is required'],
  ['bool of the wrong type', { from: 'a', to: 'b', requestVoteResponse: { voteGranted: 'yes' } }, undefined, 'INVALID_TYPE',
    'requestVoteResponse.voteGranted: must be a boolean, got "yes"'],
  ['bytes that are not base64', { from: 'a', to: 'b', installSnapshotRequest: { data: 'a*b=' } }, undefined, 'INVALID_TYPE',
    'installSnapshotRequest.data: must be a base64 string, got "a*b="'],
  ['change type UNSPECIFIED', { from: 'a', to: 'b', membershipChangeRequest: { changeType: 0, address: 'c' } }, undefined, 'INVALID_ENUM',
    'membershipChangeRequest.changeType: must not be MEMBERSHIP_CHANGE_TYPE_UNSPECIFIED'],
  ['change type of the wrong type', { from: 'a', to: 'b', membershipChangeRequest: { changeType: [], address: 'c' } }, undefined,
    'INVALID_TYPE', 'membershipChangeRequest.changeType: must be a MembershipChangeType name or number, got an array'],
  ['membership change without address', { from: 'a', to: 'b', membershipChangeRequest: { changeType: 1 } }, undefined, 'MISSING_FIELD',
    'membershipChangeRequest.address: must be a non-empty address'],
];

describe('fromPayload rejects every invalid payload with an exact code and message', () => {
  for (const [name, payload, options, code, text] of REJECTIONS) {
    it(name, () => {
      const result = fromPayload(payload, options);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(isWireError(result.error)).toBe(true);
      expect({ code: result.error.code, message: result.error.message }).toStrictEqual({ code, message: text });
    });
  }
});

describe('fromPayload accepts the non-canonical forms proto3 JSON parsers must accept', () => {
  it('numbers or strings for uint64, enum numbers, snake_case names, nulls for absent fields, URL-safe base64', () => {
    const result = fromPayload({
      from: 'a', to: 'b', term: 5, unknownField: { x: 1 },
      append_entries_request: {
        prev_log_index: 3, prev_log_term: '4', leader_commit: null, read_round: null,
        entries: [
          { index: 4, term: '5', type: 1, command: null, client_id: 'c', first_outstanding_sequence: '2', configuration: null },
          { index: '5', term: 5, type: 'ENTRY_TYPE_CONFIGURATION', configuration: { voters: ['a'], learners: null } },
        ],
      },
    });
    expect(result).toStrictEqual({
      ok: true,
      message: {
        from: 'a', to: 'b', term: 5,
        body: {
          type: 'AppendEntriesRequest', prevLogIndex: 3, prevLogTerm: 4, leaderCommit: 0, readRound: 0,
          entries: [
            { index: 4, term: 5, type: 'command', command: null, clientId: 'c', firstOutstandingSequence: 2 },
            { index: 5, term: 5, type: 'configuration', configuration: { voters: ['a'], learners: [] } },
          ],
        },
      },
    });
    const snapshot = fromPayload({ from: 'a', to: 'b', install_snapshot_request: { data: '-_8', last_included_index: '9' } });
    expect(snapshot.ok && snapshot.message.body).toStrictEqual({
      type: 'InstallSnapshotRequest', lastIncludedIndex: 9, lastIncludedTerm: 0, offset: 0, data: new Uint8Array([251, 255]),
      done: false, configuration: { voters: [], learners: [] },
    });
    const change = fromPayload({ from: 'a', to: 'b', membershipChangeRequest: { changeType: 'MEMBERSHIP_CHANGE_TYPE_ADD_VOTER', address: 'c' } });
    expect(change.ok && change.message.body).toStrictEqual({ type: 'MembershipChangeRequest', requestId: 0, changeType: 'addVoter', address: 'c' });
  });

  it('ignores unknown top-level keys and never copies them', () => {
    const result = fromPayload({ from: 'a', to: 'b', timeoutNowRequest: {}, extra: 1, constructor: 'x' });
    expect(result).toStrictEqual({ ok: true, message: { from: 'a', to: 'b', term: 0, body: { type: 'TimeoutNowRequest' } } });
  });

  it('uses sensible default limits', () => {
    expect(DEFAULT_WIRE_LIMITS).toStrictEqual({
      maxPayloadBytes: 16 * 1024 * 1024, maxEntriesPerMessage: 10_000, maxStringLength: 1024 * 1024, maxJsonDepth: 64,
    });
  });

  it('never throws, even for hostile objects (getters that throw, revoked proxies)', () => {
    const hostile = { from: 'a', to: 'b', get timeoutNowRequest(): unknown { throw new Error('boom'); } };
    const result = fromPayload(hostile);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('INVALID_TYPE');
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(fromPayload(proxy).ok).toBe(false);
  });
});

describe('prototype pollution', () => {
  it('a __proto__ key inside a command stays an own data property and pollutes nothing', () => {
    const command = JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"prototype":{"polluted":3}}');
    const payload = { from: 'a', to: 'b', proposeRequest: { command }, __proto__x: 1 };
    const result = fromPayload(JSON.parse(JSON.stringify(payload)));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    if (!result.ok) throw result.error;
    const copied = (result.message.body as { command: Record<string, unknown> }).command;
    expect(Object.hasOwn(copied, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(copied, '__proto__')?.value).toStrictEqual({ polluted: 1 });
    expect((copied as { polluted?: unknown }).polluted).toBeUndefined();
    expect(JSON.stringify(copied)).toBe(JSON.stringify(command));
  });

  it('a top-level __proto__ key is ignored', () => {
    const result = fromPayload(JSON.parse('{"from":"a","to":"b","timeoutNowRequest":{},"__proto__":{"polluted":1}}'));
    expect(result.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
