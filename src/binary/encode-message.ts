import type { Configuration, JsonValue, LogEntry, Message } from '../core/types.js';
import { CHANGE_TYPE_NUMBERS, ENTRY_TYPE_NUMBERS } from '../wire/index.js';
import { BODY_FIELD } from './field-numbers.js';
import { ProtoWriter } from './proto-writer.js';

/**
 * Protobuf binary encoding of a core Message that has already been validated
 * (by the wire layer). The output is in field number order with proto3
 * defaults omitted; message-typed fields that are set are always written.
 *
 * The writer fills its buffer back to front, so every function here emits
 * the fields of its message from the highest field number to the lowest (and
 * repeated fields from the last element to the first).
 * @internal
 */
export function encodeMessage(message: Message): Uint8Array {
  const w = new ProtoWriter();
  const body = message.body;
  const start = w.written;
  switch (body.type) {
    case 'RequestVoteRequest':
      if (body.leadershipTransfer) w.boolField(4, true);
      if (body.preVote) w.boolField(3, true);
      if (body.lastLogTerm !== 0) w.uint64Field(2, body.lastLogTerm);
      if (body.lastLogIndex !== 0) w.uint64Field(1, body.lastLogIndex);
      break;
    case 'RequestVoteResponse':
      if (body.preVote) w.boolField(2, true);
      if (body.voteGranted) w.boolField(1, true);
      break;
    case 'AppendEntriesRequest':
      if (body.readRound !== 0) w.uint64Field(5, body.readRound);
      if (body.leaderCommit !== 0) w.uint64Field(4, body.leaderCommit);
      for (let i = body.entries.length - 1; i >= 0; i--) writeEntry(w, body.entries[i]);
      if (body.prevLogTerm !== 0) w.uint64Field(2, body.prevLogTerm);
      if (body.prevLogIndex !== 0) w.uint64Field(1, body.prevLogIndex);
      break;
    case 'AppendEntriesResponse':
      if (body.rejectedIndex !== 0) w.uint64Field(7, body.rejectedIndex);
      if (body.lastLogIndex !== 0) w.uint64Field(6, body.lastLogIndex);
      if (body.readRound !== 0) w.uint64Field(5, body.readRound);
      if (body.conflictTerm !== 0) w.uint64Field(4, body.conflictTerm);
      if (body.conflictIndex !== 0) w.uint64Field(3, body.conflictIndex);
      if (body.matchIndex !== 0) w.uint64Field(2, body.matchIndex);
      if (body.success) w.boolField(1, true);
      break;
    case 'InstallSnapshotRequest':
      writeConfiguration(w, 6, body.configuration);
      if (body.done) w.boolField(5, true);
      if (body.data.length !== 0) w.bytesField(4, body.data);
      if (body.offset !== 0) w.uint64Field(3, body.offset);
      if (body.lastIncludedTerm !== 0) w.uint64Field(2, body.lastIncludedTerm);
      if (body.lastIncludedIndex !== 0) w.uint64Field(1, body.lastIncludedIndex);
      break;
    case 'InstallSnapshotResponse':
      if (body.done) w.boolField(3, true);
      if (body.nextOffset !== 0) w.uint64Field(2, body.nextOffset);
      if (body.lastIncludedIndex !== 0) w.uint64Field(1, body.lastIncludedIndex);
      break;
    case 'TimeoutNowRequest':
      break;
    case 'ProposeRequest':
      writeValueField(w, 4, body.command);
      if (body.firstOutstandingSequence !== 0) w.uint64Field(3, body.firstOutstandingSequence);
      if (body.sequence !== 0) w.uint64Field(2, body.sequence);
      if (body.clientId !== '') w.stringField(1, body.clientId);
      break;
    case 'ProposeResponse':
      if (body.leaderHint !== '') w.stringField(6, body.leaderHint);
      if (body.errorCode !== '') w.stringField(5, body.errorCode);
      if (body.logTerm !== 0) w.uint64Field(4, body.logTerm);
      if (body.index !== 0) w.uint64Field(3, body.index);
      if (body.sequence !== 0) w.uint64Field(2, body.sequence);
      if (body.clientId !== '') w.stringField(1, body.clientId);
      break;
    case 'ReadIndexRequest':
      if (body.requestId !== 0) w.uint64Field(1, body.requestId);
      break;
    case 'ReadIndexResponse':
      if (body.errorCode !== '') w.stringField(3, body.errorCode);
      if (body.readIndex !== 0) w.uint64Field(2, body.readIndex);
      if (body.requestId !== 0) w.uint64Field(1, body.requestId);
      break;
    case 'MembershipChangeRequest':
      if (body.address !== '') w.stringField(3, body.address);
      w.uint64Field(2, CHANGE_TYPE_NUMBERS[body.changeType]);
      if (body.requestId !== 0) w.uint64Field(1, body.requestId);
      break;
    case 'MembershipChangeResponse':
      if (body.index !== 0) w.uint64Field(3, body.index);
      if (body.errorCode !== '') w.stringField(2, body.errorCode);
      if (body.requestId !== 0) w.uint64Field(1, body.requestId);
      break;
  }
  w.join(start, BODY_FIELD[body.type]);
  if (message.term !== 0) w.uint64Field(3, message.term);
  if (message.to !== '') w.stringField(2, message.to);
  if (message.from !== '') w.stringField(1, message.from);
  return w.finish();
}

function writeEntry(w: ProtoWriter, entry: LogEntry): void {
  const start = w.written;
  if (entry.firstOutstandingSequence !== undefined && entry.firstOutstandingSequence !== 0) {
    w.uint64Field(8, entry.firstOutstandingSequence);
  }
  if (entry.sequence !== undefined && entry.sequence !== 0) w.uint64Field(7, entry.sequence);
  if (entry.clientId !== undefined && entry.clientId !== '') w.stringField(6, entry.clientId);
  if (entry.configuration !== undefined) writeConfiguration(w, 5, entry.configuration);
  if (entry.command !== undefined) writeValueField(w, 4, entry.command);
  w.uint64Field(3, ENTRY_TYPE_NUMBERS[entry.type]);
  if (entry.term !== 0) w.uint64Field(2, entry.term);
  if (entry.index !== 0) w.uint64Field(1, entry.index);
  w.join(start, 3);
}

function writeConfiguration(w: ProtoWriter, fieldNumber: number, configuration: Configuration): void {
  const start = w.written;
  const { voters, learners } = configuration;
  for (let i = learners.length - 1; i >= 0; i--) w.stringField(2, learners[i]);
  for (let i = voters.length - 1; i >= 0; i--) w.stringField(1, voters[i]);
  w.join(start, fieldNumber);
}

/** A `google.protobuf.Value` field holding a JSON value (already validated as JSON). */
function writeValueField(w: ProtoWriter, fieldNumber: number, value: JsonValue): void {
  const start = w.written;
  writeValueBody(w, value);
  w.join(start, fieldNumber);
}

/** The fields of a `google.protobuf.Value`: null 1, number 2, string 3, bool 4, struct 5, list 6. */
function writeValueBody(w: ProtoWriter, value: JsonValue): void {
  switch (typeof value) {
    case 'string':
      w.stringField(3, value);
      return;
    case 'number':
      w.doubleField(2, value);
      return;
    case 'boolean':
      w.boolField(4, value);
      return;
    default:
      if (value === null) {
        w.uint64Field(1, 0);
      } else if (Array.isArray(value)) {
        const list = w.written;
        for (let i = value.length - 1; i >= 0; i--) writeValueField(w, 1, value[i]);
        w.join(list, 6);
      } else {
        const struct = w.written;
        const keys = Object.keys(value);
        for (let i = keys.length - 1; i >= 0; i--) {
          const key = keys[i];
          const entry = w.written;
          writeValueField(w, 2, value[key]);
          w.stringField(1, key);
          w.join(entry, 1);
        }
        w.join(struct, 5);
      }
  }
}
