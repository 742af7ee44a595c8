import type { Configuration, JsonValue, LogEntry, Message } from '../core/types.js';
import { CHANGE_TYPE_NUMBERS, ENTRY_TYPE_NUMBERS } from '../wire/index.js';
import { BODY_FIELD } from './field-numbers.js';
import { ProtoWriter } from './proto-writer.js';

/**
 * Protobuf binary encoding of a core Message that has already been validated
 * (by the wire layer). Field order follows field numbers; proto3 defaults are
 * omitted; message-typed fields that are set are always written.
 * @internal
 */
export function encodeMessage(message: Message): Uint8Array {
  const w = new ProtoWriter(estimateCapacity(message));
  if (message.from !== '') w.stringField(1, message.from);
  if (message.to !== '') w.stringField(2, message.to);
  if (message.term !== 0) w.uint64Field(3, message.term);
  const body = message.body;
  const start = w.fork(BODY_FIELD[body.type]);
  switch (body.type) {
    case 'RequestVoteRequest':
      if (body.lastLogIndex !== 0) w.uint64Field(1, body.lastLogIndex);
      if (body.lastLogTerm !== 0) w.uint64Field(2, body.lastLogTerm);
      if (body.preVote) w.boolField(3, true);
      if (body.leadershipTransfer) w.boolField(4, true);
      break;
    case 'RequestVoteResponse':
      if (body.voteGranted) w.boolField(1, true);
      if (body.preVote) w.boolField(2, true);
      break;
    case 'AppendEntriesRequest':
      if (body.prevLogIndex !== 0) w.uint64Field(1, body.prevLogIndex);
      if (body.prevLogTerm !== 0) w.uint64Field(2, body.prevLogTerm);
      for (let i = 0; i < body.entries.length; i++) writeEntry(w, body.entries[i]);
      if (body.leaderCommit !== 0) w.uint64Field(4, body.leaderCommit);
      if (body.readRound !== 0) w.uint64Field(5, body.readRound);
      break;
    case 'AppendEntriesResponse':
      if (body.success) w.boolField(1, true);
      if (body.matchIndex !== 0) w.uint64Field(2, body.matchIndex);
      if (body.conflictIndex !== 0) w.uint64Field(3, body.conflictIndex);
      if (body.conflictTerm !== 0) w.uint64Field(4, body.conflictTerm);
      if (body.readRound !== 0) w.uint64Field(5, body.readRound);
      if (body.lastLogIndex !== 0) w.uint64Field(6, body.lastLogIndex);
      break;
    case 'InstallSnapshotRequest':
      if (body.lastIncludedIndex !== 0) w.uint64Field(1, body.lastIncludedIndex);
      if (body.lastIncludedTerm !== 0) w.uint64Field(2, body.lastIncludedTerm);
      if (body.offset !== 0) w.uint64Field(3, body.offset);
      if (body.data.length !== 0) w.bytesField(4, body.data);
      if (body.done) w.boolField(5, true);
      writeConfiguration(w, 6, body.configuration);
      break;
    case 'InstallSnapshotResponse':
      if (body.lastIncludedIndex !== 0) w.uint64Field(1, body.lastIncludedIndex);
      if (body.nextOffset !== 0) w.uint64Field(2, body.nextOffset);
      if (body.done) w.boolField(3, true);
      break;
    case 'TimeoutNowRequest':
      break;
    case 'ProposeRequest':
      if (body.clientId !== '') w.stringField(1, body.clientId);
      if (body.sequence !== 0) w.uint64Field(2, body.sequence);
      if (body.firstOutstandingSequence !== 0) w.uint64Field(3, body.firstOutstandingSequence);
      writeValueField(w, 4, body.command);
      break;
    case 'ProposeResponse':
      if (body.clientId !== '') w.stringField(1, body.clientId);
      if (body.sequence !== 0) w.uint64Field(2, body.sequence);
      if (body.index !== 0) w.uint64Field(3, body.index);
      if (body.logTerm !== 0) w.uint64Field(4, body.logTerm);
      if (body.errorCode !== '') w.stringField(5, body.errorCode);
      if (body.leaderHint !== '') w.stringField(6, body.leaderHint);
      break;
    case 'ReadIndexRequest':
      if (body.requestId !== 0) w.uint64Field(1, body.requestId);
      break;
    case 'ReadIndexResponse':
      if (body.requestId !== 0) w.uint64Field(1, body.requestId);
      if (body.readIndex !== 0) w.uint64Field(2, body.readIndex);
      if (body.errorCode !== '') w.stringField(3, body.errorCode);
      break;
    case 'MembershipChangeRequest':
      if (body.requestId !== 0) w.uint64Field(1, body.requestId);
      w.uint64Field(2, CHANGE_TYPE_NUMBERS[body.changeType]);
      if (body.address !== '') w.stringField(3, body.address);
      break;
    case 'MembershipChangeResponse':
      if (body.requestId !== 0) w.uint64Field(1, body.requestId);
      if (body.errorCode !== '') w.stringField(2, body.errorCode);
      if (body.index !== 0) w.uint64Field(3, body.index);
      break;
  }
  w.join(start);
  return w.finish();
}

/** A starting buffer size that usually avoids regrowth. */
function estimateCapacity(message: Message): number {
  return message.body.type === 'AppendEntriesRequest' ? 128 + message.body.entries.length * 320 : 256;
}

function writeEntry(w: ProtoWriter, entry: LogEntry): void {
  const start = w.fork(3);
  if (entry.index !== 0) w.uint64Field(1, entry.index);
  if (entry.term !== 0) w.uint64Field(2, entry.term);
  w.uint64Field(3, ENTRY_TYPE_NUMBERS[entry.type]);
  if (entry.command !== undefined) writeValueField(w, 4, entry.command);
  if (entry.configuration !== undefined) writeConfiguration(w, 5, entry.configuration);
  if (entry.clientId !== undefined && entry.clientId !== '') w.stringField(6, entry.clientId);
  if (entry.sequence !== undefined && entry.sequence !== 0) w.uint64Field(7, entry.sequence);
  if (entry.firstOutstandingSequence !== undefined && entry.firstOutstandingSequence !== 0) {
    w.uint64Field(8, entry.firstOutstandingSequence);
  }
  w.join(start);
}

function writeConfiguration(w: ProtoWriter, fieldNumber: number, configuration: Configuration): void {
  const start = w.fork(fieldNumber);
  for (const voter of configuration.voters) w.stringField(1, voter);
  for (const learner of configuration.learners) w.stringField(2, learner);
  w.join(start);
}

/** A `google.protobuf.Value` field holding a JSON value (already validated as JSON). */
function writeValueField(w: ProtoWriter, fieldNumber: number, value: JsonValue): void {
  const start = w.fork(fieldNumber);
  writeValueBody(w, value);
  w.join(start);
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
        const list = w.fork(6);
        for (let i = 0; i < value.length; i++) writeValueField(w, 1, value[i]);
        w.join(list);
      } else {
        const struct = w.fork(5);
        const keys = Object.keys(value);
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i];
          const entry = w.fork(1);
          w.stringField(1, key);
          writeValueField(w, 2, value[key]);
          w.join(entry);
        }
        w.join(struct);
      }
  }
}
