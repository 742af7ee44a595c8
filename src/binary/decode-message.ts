import type { Configuration, JsonValue, LogEntry, Message, MessageBody } from '../core/types.js';
import { parseChangeType, parseEntryType, setOwn, WireError, type WireLimits } from '../wire/index.js';
import { FIXED64, LENGTH_DELIMITED, VARINT } from './field-numbers.js';
import { ProtoReader } from './proto-reader.js';

/**
 * Decodes protobuf binary `webraft.v1.Message` bytes into a core Message with
 * proto3 defaults filled in. Only the binary structure, integer ranges, enums
 * and the limits that bound decoding work (entry count, nesting depth) are
 * checked here; the caller validates the result with the wire layer's rules.
 *
 * Protobuf semantics: unknown fields are skipped, a known field with an
 * unexpected wire type is skipped like an unknown one, and when a singular
 * field appears more than once the last one wins. The oneof body is the
 * exception: a second body (even the same one again) is MULTIPLE_BODIES, as
 * in proto3 JSON.
 * @internal
 */
export function decodeMessage(bytes: Uint8Array, limits: Readonly<WireLimits>): Message {
  const r = new ProtoReader(bytes);
  const end = bytes.length;
  let from = '';
  let to = '';
  let term = 0;
  let body: MessageBody | undefined;
  let bodyField = 0;
  while (r.pos < end) {
    const key = r.tag(end);
    const field = key >>> 3;
    const wireType = key & 7;
    if (field === 1 && wireType === LENGTH_DELIMITED) from = r.string(end);
    else if (field === 2 && wireType === LENGTH_DELIMITED) to = r.string(end);
    else if (field === 3 && wireType === VARINT) term = readUint(r, end, 'term');
    else if (field >= 10 && field <= 22 && wireType === LENGTH_DELIMITED) {
      if (body !== undefined) {
        // Protobuf would let the last oneof case win; the wire contract (and fromPayload) wants exactly one.
        throw new WireError('MULTIPLE_BODIES', `message sets more than one body: "${BODY_NAMES[bodyField - 10]}" and "${BODY_NAMES[field - 10]}"`);
      }
      bodyField = field;
      const stop = r.lengthDelimitedEnd(end);
      body = decodeBody(r, field, stop, limits);
      r.pos = stop;
    } else r.skip(wireType, end);
  }
  if (body === undefined) {
    throw new WireError('MISSING_BODY', 'message sets no body (exactly one such as appendEntriesRequest is required)');
  }
  return { from, to, term, body };
}

/** JSON names of the oneof body fields 10..22. */
const BODY_NAMES: readonly string[] = [
  'requestVoteRequest', 'requestVoteResponse', 'appendEntriesRequest', 'appendEntriesResponse',
  'installSnapshotRequest', 'installSnapshotResponse', 'timeoutNowRequest', 'proposeRequest',
  'proposeResponse', 'readIndexRequest', 'readIndexResponse', 'membershipChangeRequest',
  'membershipChangeResponse',
];

function readUint(r: ProtoReader, end: number, path: string): number {
  const value = r.varint(end);
  if (value === Infinity) throw new WireError('INVALID_NUMBER', 'must be an integer in 0..2^53-1, got a larger value', path);
  return value;
}

function decodeBody(r: ProtoReader, bodyField: number, end: number, limits: Readonly<WireLimits>): MessageBody {
  switch (bodyField) {
    case 10: {
      const b: MessageBody = { type: 'RequestVoteRequest', lastLogIndex: 0, lastLogTerm: 0, preVote: false, leadershipTransfer: false };
      while (r.pos < end) {
        const key = r.tag(end);
        switch (key) {
          case (1 << 3) | VARINT: b.lastLogIndex = readUint(r, end, 'requestVoteRequest.lastLogIndex'); break;
          case (2 << 3) | VARINT: b.lastLogTerm = readUint(r, end, 'requestVoteRequest.lastLogTerm'); break;
          case (3 << 3) | VARINT: b.preVote = r.varint(end) !== 0; break;
          case (4 << 3) | VARINT: b.leadershipTransfer = r.varint(end) !== 0; break;
          default: r.skip(key & 7, end);
        }
      }
      return b;
    }
    case 11: {
      const b: MessageBody = { type: 'RequestVoteResponse', voteGranted: false, preVote: false };
      while (r.pos < end) {
        const key = r.tag(end);
        switch (key) {
          case (1 << 3) | VARINT: b.voteGranted = r.varint(end) !== 0; break;
          case (2 << 3) | VARINT: b.preVote = r.varint(end) !== 0; break;
          default: r.skip(key & 7, end);
        }
      }
      return b;
    }
    case 12: {
      const b: MessageBody = { type: 'AppendEntriesRequest', prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0 };
      while (r.pos < end) {
        const key = r.tag(end);
        switch (key) {
          case (1 << 3) | VARINT: b.prevLogIndex = readUint(r, end, 'appendEntriesRequest.prevLogIndex'); break;
          case (2 << 3) | VARINT: b.prevLogTerm = readUint(r, end, 'appendEntriesRequest.prevLogTerm'); break;
          case (3 << 3) | LENGTH_DELIMITED: {
            if (b.entries.length >= limits.maxEntriesPerMessage) {
              throw new WireError(
                'LIMIT_EXCEEDED',
                `more than maxEntriesPerMessage (${limits.maxEntriesPerMessage}) entries`,
                'appendEntriesRequest.entries',
              );
            }
            const stop = r.lengthDelimitedEnd(end);
            b.entries.push(decodeEntry(r, stop, b.entries.length, limits));
            r.pos = stop;
            break;
          }
          case (4 << 3) | VARINT: b.leaderCommit = readUint(r, end, 'appendEntriesRequest.leaderCommit'); break;
          case (5 << 3) | VARINT: b.readRound = readUint(r, end, 'appendEntriesRequest.readRound'); break;
          default: r.skip(key & 7, end);
        }
      }
      return b;
    }
    case 13: {
      const b: MessageBody = {
        type: 'AppendEntriesResponse', success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0, readRound: 0, lastLogIndex: 0, rejectedIndex: 0,
      };
      while (r.pos < end) {
        const key = r.tag(end);
        switch (key) {
          case (1 << 3) | VARINT: b.success = r.varint(end) !== 0; break;
          case (2 << 3) | VARINT: b.matchIndex = readUint(r, end, 'appendEntriesResponse.matchIndex'); break;
          case (3 << 3) | VARINT: b.conflictIndex = readUint(r, end, 'appendEntriesResponse.conflictIndex'); break;
          case (4 << 3) | VARINT: b.conflictTerm = readUint(r, end, 'appendEntriesResponse.conflictTerm'); break;
          case (5 << 3) | VARINT: b.readRound = readUint(r, end, 'appendEntriesResponse.readRound'); break;
          case (6 << 3) | VARINT: b.lastLogIndex = readUint(r, end, 'appendEntriesResponse.lastLogIndex'); break;
          case (7 << 3) | VARINT: b.rejectedIndex = readUint(r, end, 'appendEntriesResponse.rejectedIndex'); break;
          default: r.skip(key & 7, end);
        }
      }
      return b;
    }
    case 14: {
      const b: MessageBody = {
        type: 'InstallSnapshotRequest', lastIncludedIndex: 0, lastIncludedTerm: 0, offset: 0, data: new Uint8Array(0), done: false,
        configuration: { voters: [], learners: [] },
      };
      while (r.pos < end) {
        const key = r.tag(end);
        switch (key) {
          case (1 << 3) | VARINT: b.lastIncludedIndex = readUint(r, end, 'installSnapshotRequest.lastIncludedIndex'); break;
          case (2 << 3) | VARINT: b.lastIncludedTerm = readUint(r, end, 'installSnapshotRequest.lastIncludedTerm'); break;
          case (3 << 3) | VARINT: b.offset = readUint(r, end, 'installSnapshotRequest.offset'); break;
          case (4 << 3) | LENGTH_DELIMITED: b.data = r.bytes(end); break;
          case (5 << 3) | VARINT: b.done = r.varint(end) !== 0; break;
          case (6 << 3) | LENGTH_DELIMITED: b.configuration = decodeConfiguration(r, r.lengthDelimitedEnd(end)); break;
          default: r.skip(key & 7, end);
        }
      }
      return b;
    }
    case 15: {
      const b: MessageBody = { type: 'InstallSnapshotResponse', lastIncludedIndex: 0, nextOffset: 0, done: false };
      while (r.pos < end) {
        const key = r.tag(end);
        switch (key) {
          case (1 << 3) | VARINT: b.lastIncludedIndex = readUint(r, end, 'installSnapshotResponse.lastIncludedIndex'); break;
          case (2 << 3) | VARINT: b.nextOffset = readUint(r, end, 'installSnapshotResponse.nextOffset'); break;
          case (3 << 3) | VARINT: b.done = r.varint(end) !== 0; break;
          default: r.skip(key & 7, end);
        }
      }
      return b;
    }
    case 16:
      while (r.pos < end) r.skip(r.tag(end) & 7, end);
      return { type: 'TimeoutNowRequest' };
    case 17: {
      let command: JsonValue | undefined;
      const b = { type: 'ProposeRequest' as const, clientId: '', sequence: 0, firstOutstandingSequence: 0 };
      while (r.pos < end) {
        const key = r.tag(end);
        switch (key) {
          case (1 << 3) | LENGTH_DELIMITED: b.clientId = r.string(end); break;
          case (2 << 3) | VARINT: b.sequence = readUint(r, end, 'proposeRequest.sequence'); break;
          case (3 << 3) | VARINT: b.firstOutstandingSequence = readUint(r, end, 'proposeRequest.firstOutstandingSequence'); break;
          case (4 << 3) | LENGTH_DELIMITED: command = decodeValue(r, r.lengthDelimitedEnd(end), 0, limits); break;
          default: r.skip(key & 7, end);
        }
      }
      // An absent command stays undefined so that validation reports it as missing.
      return { ...b, command: command as JsonValue };
    }
    case 18: {
      const b: MessageBody = { type: 'ProposeResponse', clientId: '', sequence: 0, index: 0, logTerm: 0, errorCode: '', leaderHint: '' };
      while (r.pos < end) {
        const key = r.tag(end);
        switch (key) {
          case (1 << 3) | LENGTH_DELIMITED: b.clientId = r.string(end); break;
          case (2 << 3) | VARINT: b.sequence = readUint(r, end, 'proposeResponse.sequence'); break;
          case (3 << 3) | VARINT: b.index = readUint(r, end, 'proposeResponse.index'); break;
          case (4 << 3) | VARINT: b.logTerm = readUint(r, end, 'proposeResponse.logTerm'); break;
          case (5 << 3) | LENGTH_DELIMITED: b.errorCode = r.string(end); break;
          case (6 << 3) | LENGTH_DELIMITED: b.leaderHint = r.string(end); break;
          default: r.skip(key & 7, end);
        }
      }
      return b;
    }
    case 19: {
      const b: MessageBody = { type: 'ReadIndexRequest', requestId: 0 };
      while (r.pos < end) {
        const key = r.tag(end);
        if (key === ((1 << 3) | VARINT)) b.requestId = readUint(r, end, 'readIndexRequest.requestId');
        else r.skip(key & 7, end);
      }
      return b;
    }
    case 20: {
      const b: MessageBody = { type: 'ReadIndexResponse', requestId: 0, readIndex: 0, errorCode: '' };
      while (r.pos < end) {
        const key = r.tag(end);
        switch (key) {
          case (1 << 3) | VARINT: b.requestId = readUint(r, end, 'readIndexResponse.requestId'); break;
          case (2 << 3) | VARINT: b.readIndex = readUint(r, end, 'readIndexResponse.readIndex'); break;
          case (3 << 3) | LENGTH_DELIMITED: b.errorCode = r.string(end); break;
          default: r.skip(key & 7, end);
        }
      }
      return b;
    }
    case 21: {
      let requestId = 0;
      let changeType = 0;
      let address = '';
      while (r.pos < end) {
        const key = r.tag(end);
        switch (key) {
          case (1 << 3) | VARINT: requestId = readUint(r, end, 'membershipChangeRequest.requestId'); break;
          case (2 << 3) | VARINT: changeType = r.varint(end); break;
          case (3 << 3) | LENGTH_DELIMITED: address = r.string(end); break;
          default: r.skip(key & 7, end);
        }
      }
      return {
        type: 'MembershipChangeRequest',
        requestId,
        changeType: parseChangeType(changeType, 'membershipChangeRequest.changeType'),
        address,
      };
    }
    default: {
      const b: MessageBody = { type: 'MembershipChangeResponse', requestId: 0, errorCode: '', index: 0 };
      while (r.pos < end) {
        const key = r.tag(end);
        switch (key) {
          case (1 << 3) | VARINT: b.requestId = readUint(r, end, 'membershipChangeResponse.requestId'); break;
          case (2 << 3) | LENGTH_DELIMITED: b.errorCode = r.string(end); break;
          case (3 << 3) | VARINT: b.index = readUint(r, end, 'membershipChangeResponse.index'); break;
          default: r.skip(key & 7, end);
        }
      }
      return b;
    }
  }
}

function decodeEntry(r: ProtoReader, end: number, i: number, limits: Readonly<WireLimits>): LogEntry {
  const path = `appendEntriesRequest.entries[${i}]`;
  let index = 0;
  let term = 0;
  let type = 0;
  let command: JsonValue | undefined;
  let hasCommand = false;
  let configuration: Configuration | undefined;
  let clientId = '';
  let sequence = 0;
  let firstOutstanding = 0;
  while (r.pos < end) {
    const key = r.tag(end);
    switch (key) {
      case (1 << 3) | VARINT: index = readUint(r, end, `${path}.index`); break;
      case (2 << 3) | VARINT: term = readUint(r, end, `${path}.term`); break;
      case (3 << 3) | VARINT: type = r.varint(end); break;
      case (4 << 3) | LENGTH_DELIMITED: command = decodeValue(r, r.lengthDelimitedEnd(end), 0, limits); hasCommand = true; break;
      case (5 << 3) | LENGTH_DELIMITED: configuration = decodeConfiguration(r, r.lengthDelimitedEnd(end)); break;
      case (6 << 3) | LENGTH_DELIMITED: clientId = r.string(end); break;
      case (7 << 3) | VARINT: sequence = readUint(r, end, `${path}.sequence`); break;
      case (8 << 3) | VARINT: firstOutstanding = readUint(r, end, `${path}.firstOutstandingSequence`); break;
      default: r.skip(key & 7, end);
    }
  }
  const entry: LogEntry = { index, term, type: parseEntryType(type, path) };
  if (hasCommand) entry.command = command;
  if (configuration !== undefined) entry.configuration = configuration;
  if (clientId !== '') entry.clientId = clientId;
  if (sequence !== 0) entry.sequence = sequence;
  if (firstOutstanding !== 0) entry.firstOutstandingSequence = firstOutstanding;
  return entry;
}

function decodeConfiguration(r: ProtoReader, end: number): Configuration {
  const configuration: Configuration = { voters: [], learners: [] };
  while (r.pos < end) {
    const key = r.tag(end);
    if (key === ((1 << 3) | LENGTH_DELIMITED)) configuration.voters.push(r.string(end));
    else if (key === ((2 << 3) | LENGTH_DELIMITED)) configuration.learners.push(r.string(end));
    else r.skip(key & 7, end);
  }
  r.pos = end;
  return configuration;
}

/**
 * A `google.protobuf.Value` occupying [r.pos, end) as a JSON value. A Value
 * with no kind set is INVALID_BINARY; nesting beyond maxJsonDepth is LIMIT_EXCEEDED.
 */
function decodeValue(r: ProtoReader, end: number, depth: number, limits: Readonly<WireLimits>): JsonValue {
  let value: JsonValue | undefined;
  while (r.pos < end) {
    const key = r.tag(end);
    switch (key) {
      case (1 << 3) | VARINT: r.varint(end); value = null; break;
      case (2 << 3) | FIXED64: value = r.double(end); break;
      case (3 << 3) | LENGTH_DELIMITED: value = r.string(end); break;
      case (4 << 3) | VARINT: value = r.varint(end) !== 0; break;
      case (5 << 3) | LENGTH_DELIMITED: value = decodeStruct(r, r.lengthDelimitedEnd(end), depth + 1, limits); break;
      case (6 << 3) | LENGTH_DELIMITED: value = decodeList(r, r.lengthDelimitedEnd(end), depth + 1, limits); break;
      default: r.skip(key & 7, end);
    }
  }
  r.pos = end;
  if (value === undefined) throw new WireError('INVALID_BINARY', 'google.protobuf.Value has no kind set');
  return value;
}

function checkDepth(depth: number, limits: Readonly<WireLimits>): void {
  if (depth > limits.maxJsonDepth) {
    throw new WireError('LIMIT_EXCEEDED', `command exceeds maxJsonDepth (${limits.maxJsonDepth})`);
  }
}

function decodeStruct(r: ProtoReader, end: number, depth: number, limits: Readonly<WireLimits>): JsonValue {
  checkDepth(depth, limits);
  const out: Record<string, JsonValue> = {};
  while (r.pos < end) {
    const key = r.tag(end);
    if (key !== ((1 << 3) | LENGTH_DELIMITED)) {
      r.skip(key & 7, end);
      continue;
    }
    const entryEnd = r.lengthDelimitedEnd(end);
    let name = '';
    let member: JsonValue | undefined;
    while (r.pos < entryEnd) {
      const entryKey = r.tag(entryEnd);
      if (entryKey === ((1 << 3) | LENGTH_DELIMITED)) name = r.string(entryEnd);
      else if (entryKey === ((2 << 3) | LENGTH_DELIMITED)) member = decodeValue(r, r.lengthDelimitedEnd(entryEnd), depth, limits);
      else r.skip(entryKey & 7, entryEnd);
    }
    r.pos = entryEnd;
    if (member === undefined) throw new WireError('INVALID_BINARY', `google.protobuf.Struct field "${name}" has no value`);
    setOwn(out, name, member);
  }
  r.pos = end;
  return out;
}

function decodeList(r: ProtoReader, end: number, depth: number, limits: Readonly<WireLimits>): JsonValue {
  checkDepth(depth, limits);
  const out: JsonValue[] = [];
  while (r.pos < end) {
    const key = r.tag(end);
    if (key === ((1 << 3) | LENGTH_DELIMITED)) out.push(decodeValue(r, r.lengthDelimitedEnd(end), depth, limits));
    else r.skip(key & 7, end);
  }
  r.pos = end;
  return out;
}
