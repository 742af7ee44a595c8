import { describeValue, isPlainObject } from '../core/json.js';
import type { AppendEntriesRequest, Configuration, LogEntry, Message, MessageBody } from '../core/types.js';
import { encodeBase64 } from './base64.js';
import {
  checkAddress,
  checkBool,
  checkOptionalString,
  checkOptionalUint,
  checkUint,
  checkUintAt,
  copyConfiguration,
} from './core-value-checks.js';
import { checkEntry, checkPrevLogTerm, entryPath } from './entry-rules.js';
import { CHANGE_TYPE_NAMES, ENTRY_TYPE_NAMES } from './enums.js';
import { WireError } from './errors.js';
import { checkStringValue } from './field-readers.js';
import { handleCommand, type CommandHandling } from './json-value.js';
import { resolveLimits, type WireLimits } from './limits.js';
import type { MessagePayload } from './payload.js';
import { checkBudget, newBudget, SCALAR_FIELD_BYTES, type WalkBudget } from './walk-budget.js';

/**
 * Converts a core {@link Message} to a fresh proto3 canonical JSON object:
 * lowerCamelCase names, uint64 as decimal strings, enums by name, defaults
 * omitted (the oneof body is always present), bytes as padded standard base64,
 * commands as plain JSON values deep-copied from the message.
 *
 * The result survives `JSON.parse(JSON.stringify(payload))` unchanged, shares
 * no object with `message`, and is read by any proto3 JSON parser.
 *
 * @param limits bounds the outgoing payload must respect (default {@link DEFAULT_WIRE_LIMITS}).
 * @throws WireError when the message breaks the wire contract (a core bug).
 */
export function toPayload(message: Message, limits?: Partial<WireLimits>): MessagePayload {
  return messageToPayload(message, resolveLimits(limits), 'validate-copy');
}

/**
 * {@link toPayload} with the handling of commands chosen by the caller (see
 * {@link CommandHandling}): the binary codec references the commands of the
 * message it just decoded, and a node copies its own without checking again.
 * @internal
 */
export function messageToPayload(message: Message, limits: Readonly<WireLimits>, commands: CommandHandling): MessagePayload {
  if (!isPlainObject(message)) {
    throw new WireError('NOT_AN_OBJECT', `message must be an object, got ${describeValue(message)}`);
  }
  const budget = newBudget(limits);
  const from = checkAddress(message.from, 'from', budget);
  const to = checkAddress(message.to, 'to', budget);
  const term = checkUint(message.term, 'term');
  const out: MessagePayload = { from, to };
  if (term !== 0) out.term = String(term);
  const body: MessageBody | undefined = message.body;
  if (!isPlainObject(body)) {
    throw new WireError('MISSING_BODY', `must be an object, got ${describeValue(body)}`, 'body');
  }
  switch (body.type) {
    case 'RequestVoteRequest': {
      const p: MessagePayload = {};
      const lastLogIndex = checkUint(body.lastLogIndex, 'requestVoteRequest.lastLogIndex');
      const lastLogTerm = checkUint(body.lastLogTerm, 'requestVoteRequest.lastLogTerm');
      if (lastLogIndex !== 0) p.lastLogIndex = String(lastLogIndex);
      if (lastLogTerm !== 0) p.lastLogTerm = String(lastLogTerm);
      if (checkBool(body.preVote, 'requestVoteRequest.preVote')) p.preVote = true;
      if (checkBool(body.leadershipTransfer, 'requestVoteRequest.leadershipTransfer')) p.leadershipTransfer = true;
      out.requestVoteRequest = p;
      break;
    }
    case 'RequestVoteResponse': {
      const p: MessagePayload = {};
      if (checkBool(body.voteGranted, 'requestVoteResponse.voteGranted')) p.voteGranted = true;
      if (checkBool(body.preVote, 'requestVoteResponse.preVote')) p.preVote = true;
      out.requestVoteResponse = p;
      break;
    }
    case 'AppendEntriesRequest':
      out.appendEntriesRequest = appendEntriesRequestToPayload(body, term, budget, commands);
      break;
    case 'AppendEntriesResponse': {
      const p: MessagePayload = {};
      if (checkBool(body.success, 'appendEntriesResponse.success')) p.success = true;
      const matchIndex = checkUint(body.matchIndex, 'appendEntriesResponse.matchIndex');
      const conflictIndex = checkUint(body.conflictIndex, 'appendEntriesResponse.conflictIndex');
      const conflictTerm = checkUint(body.conflictTerm, 'appendEntriesResponse.conflictTerm');
      const readRound = checkUint(body.readRound, 'appendEntriesResponse.readRound');
      const lastLogIndex = checkUint(body.lastLogIndex, 'appendEntriesResponse.lastLogIndex');
      const rejectedIndex = checkUint(body.rejectedIndex, 'appendEntriesResponse.rejectedIndex');
      if (matchIndex !== 0) p.matchIndex = String(matchIndex);
      if (conflictIndex !== 0) p.conflictIndex = String(conflictIndex);
      if (conflictTerm !== 0) p.conflictTerm = String(conflictTerm);
      if (readRound !== 0) p.readRound = String(readRound);
      if (lastLogIndex !== 0) p.lastLogIndex = String(lastLogIndex);
      if (rejectedIndex !== 0) p.rejectedIndex = String(rejectedIndex);
      out.appendEntriesResponse = p;
      break;
    }
    case 'InstallSnapshotRequest': {
      const p: MessagePayload = {};
      const lastIncludedIndex = checkUint(body.lastIncludedIndex, 'installSnapshotRequest.lastIncludedIndex');
      const lastIncludedTerm = checkUint(body.lastIncludedTerm, 'installSnapshotRequest.lastIncludedTerm');
      const offset = checkUint(body.offset, 'installSnapshotRequest.offset');
      if (lastIncludedIndex !== 0) p.lastIncludedIndex = String(lastIncludedIndex);
      if (lastIncludedTerm !== 0) p.lastIncludedTerm = String(lastIncludedTerm);
      if (offset !== 0) p.offset = String(offset);
      const data: unknown = body.data;
      if (!(data instanceof Uint8Array)) {
        throw new WireError('INVALID_TYPE', `must be a Uint8Array, got ${describeValue(data)}`, 'installSnapshotRequest.data');
      }
      budget.size += Math.ceil(data.length / 3) * 4 + SCALAR_FIELD_BYTES;
      checkBudget(budget, 'installSnapshotRequest.data');
      if (data.length !== 0) p.data = encodeBase64(data);
      if (checkBool(body.done, 'installSnapshotRequest.done')) p.done = true;
      p.configuration = configurationToPayload(
        copyConfiguration(body.configuration, 'installSnapshotRequest.configuration', budget),
      );
      out.installSnapshotRequest = p;
      break;
    }
    case 'InstallSnapshotResponse': {
      const p: MessagePayload = {};
      const lastIncludedIndex = checkUint(body.lastIncludedIndex, 'installSnapshotResponse.lastIncludedIndex');
      const nextOffset = checkUint(body.nextOffset, 'installSnapshotResponse.nextOffset');
      if (lastIncludedIndex !== 0) p.lastIncludedIndex = String(lastIncludedIndex);
      if (nextOffset !== 0) p.nextOffset = String(nextOffset);
      if (checkBool(body.done, 'installSnapshotResponse.done')) p.done = true;
      out.installSnapshotResponse = p;
      break;
    }
    case 'TimeoutNowRequest':
      out.timeoutNowRequest = {};
      break;
    case 'ProposeRequest': {
      const p: MessagePayload = {};
      const clientId = checkStringValue(body.clientId, 'proposeRequest.clientId', budget);
      const sequence = checkUint(body.sequence, 'proposeRequest.sequence');
      const firstOutstanding = checkUint(body.firstOutstandingSequence, 'proposeRequest.firstOutstandingSequence');
      if (clientId !== '') p.clientId = clientId;
      if (sequence !== 0) p.sequence = String(sequence);
      if (firstOutstanding !== 0) p.firstOutstandingSequence = String(firstOutstanding);
      if (body.command === undefined) throw new WireError('MISSING_FIELD', 'is required', 'proposeRequest.command');
      p.command = handleCommand(body.command, 'proposeRequest', 'command', budget, commands);
      out.proposeRequest = p;
      break;
    }
    case 'ProposeResponse': {
      const p: MessagePayload = {};
      const clientId = checkStringValue(body.clientId, 'proposeResponse.clientId', budget);
      const sequence = checkUint(body.sequence, 'proposeResponse.sequence');
      const index = checkUint(body.index, 'proposeResponse.index');
      const logTerm = checkUint(body.logTerm, 'proposeResponse.logTerm');
      const errorCode = checkStringValue(body.errorCode, 'proposeResponse.errorCode', budget);
      const leaderHint = checkStringValue(body.leaderHint, 'proposeResponse.leaderHint', budget);
      if (clientId !== '') p.clientId = clientId;
      if (sequence !== 0) p.sequence = String(sequence);
      if (index !== 0) p.index = String(index);
      if (logTerm !== 0) p.logTerm = String(logTerm);
      if (errorCode !== '') p.errorCode = errorCode;
      if (leaderHint !== '') p.leaderHint = leaderHint;
      out.proposeResponse = p;
      break;
    }
    case 'ReadIndexRequest': {
      const p: MessagePayload = {};
      const requestId = checkUint(body.requestId, 'readIndexRequest.requestId');
      if (requestId !== 0) p.requestId = String(requestId);
      out.readIndexRequest = p;
      break;
    }
    case 'ReadIndexResponse': {
      const p: MessagePayload = {};
      const requestId = checkUint(body.requestId, 'readIndexResponse.requestId');
      const readIndex = checkUint(body.readIndex, 'readIndexResponse.readIndex');
      const errorCode = checkStringValue(body.errorCode, 'readIndexResponse.errorCode', budget);
      if (requestId !== 0) p.requestId = String(requestId);
      if (readIndex !== 0) p.readIndex = String(readIndex);
      if (errorCode !== '') p.errorCode = errorCode;
      out.readIndexResponse = p;
      break;
    }
    case 'MembershipChangeRequest': {
      const p: MessagePayload = {};
      const requestId = checkUint(body.requestId, 'membershipChangeRequest.requestId');
      if (requestId !== 0) p.requestId = String(requestId);
      const changeType: string | undefined = CHANGE_TYPE_NAMES[body.changeType];
      if (changeType === undefined || !Object.hasOwn(CHANGE_TYPE_NAMES, body.changeType)) {
        throw new WireError(
          'INVALID_ENUM',
          `must be 'addVoter' or 'remove', got ${describeValue(body.changeType)}`,
          'membershipChangeRequest.changeType',
        );
      }
      p.changeType = changeType;
      p.address = checkAddress(body.address, 'membershipChangeRequest.address', budget);
      out.membershipChangeRequest = p;
      break;
    }
    case 'MembershipChangeResponse': {
      const p: MessagePayload = {};
      const requestId = checkUint(body.requestId, 'membershipChangeResponse.requestId');
      const errorCode = checkStringValue(body.errorCode, 'membershipChangeResponse.errorCode', budget);
      const index = checkUint(body.index, 'membershipChangeResponse.index');
      if (requestId !== 0) p.requestId = String(requestId);
      if (errorCode !== '') p.errorCode = errorCode;
      if (index !== 0) p.index = String(index);
      out.membershipChangeResponse = p;
      break;
    }
    default:
      throw new WireError(
        'UNKNOWN_BODY',
        `unknown message body type ${describeValue((body as { type?: unknown }).type)}`,
        'body.type',
      );
  }
  checkBudget(budget, '');
  return out;
}

function appendEntriesRequestToPayload(
  body: AppendEntriesRequest,
  term: number,
  budget: WalkBudget,
  commands: CommandHandling,
): MessagePayload {
  const p: MessagePayload = {};
  const prevLogIndex = checkUint(body.prevLogIndex, 'appendEntriesRequest.prevLogIndex');
  const prevLogTerm = checkUint(body.prevLogTerm, 'appendEntriesRequest.prevLogTerm');
  const leaderCommit = checkUint(body.leaderCommit, 'appendEntriesRequest.leaderCommit');
  const readRound = checkUint(body.readRound, 'appendEntriesRequest.readRound');
  checkPrevLogTerm(prevLogTerm, term);
  if (prevLogIndex !== 0) p.prevLogIndex = String(prevLogIndex);
  if (prevLogTerm !== 0) p.prevLogTerm = String(prevLogTerm);
  const entries: unknown = body.entries;
  if (!Array.isArray(entries)) {
    throw new WireError('INVALID_TYPE', `must be an array, got ${describeValue(entries)}`, 'appendEntriesRequest.entries');
  }
  const count = entries.length;
  if (count > budget.limits.maxEntriesPerMessage) {
    throw new WireError(
      'LIMIT_EXCEEDED',
      `${count} entries exceed maxEntriesPerMessage (${budget.limits.maxEntriesPerMessage})`,
      'appendEntriesRequest.entries',
    );
  }
  if (count !== 0) {
    const out = new Array<MessagePayload>(count);
    let previousTerm = prevLogTerm;
    for (let i = 0; i < count; i++) {
      const entry: unknown = entries[i];
      out[i] = entryToPayload(entry, i, prevLogIndex, previousTerm, term, budget, commands);
      previousTerm = (entry as LogEntry).term;
      if (budget.size > budget.limits.maxPayloadBytes) checkBudget(budget, entryPath(i));
    }
    p.entries = out;
  }
  if (leaderCommit !== 0) p.leaderCommit = String(leaderCommit);
  if (readRound !== 0) p.readRound = String(readRound);
  return p;
}

function entryToPayload(
  entry: unknown,
  i: number,
  prevLogIndex: number,
  previousTerm: number,
  messageTerm: number,
  budget: WalkBudget,
  commands: CommandHandling,
): MessagePayload {
  if (!isPlainObject(entry)) {
    throw new WireError('NOT_AN_OBJECT', `must be an object, got ${describeValue(entry)}`, entryPath(i));
  }
  const e = entry as unknown as LogEntry;
  const index = checkUintAt(e.index, i, 'index');
  const term = checkUintAt(e.term, i, 'term');
  const typeName: string | undefined = Object.hasOwn(ENTRY_TYPE_NAMES, e.type) ? ENTRY_TYPE_NAMES[e.type] : undefined;
  if (typeName === undefined) {
    throw new WireError(
      'INVALID_ENUM',
      `must be 'command', 'noop' or 'configuration', got ${describeValue(e.type)}`,
      `${entryPath(i)}.type`,
    );
  }
  checkEntry(e, i, prevLogIndex, previousTerm, messageTerm);
  budget.size += 3 * SCALAR_FIELD_BYTES;
  const command = e.command === undefined ? undefined : handleCommand(e.command, i, 'command', budget, commands);
  const configuration =
    e.configuration === undefined ? undefined : configurationToPayload(copyConfiguration(e.configuration, `${entryPath(i)}.configuration`, budget));
  const clientId = checkOptionalString(e.clientId, i, 'clientId', budget);
  const sequence = checkOptionalUint(e.sequence, i, 'sequence', budget);
  const firstOutstanding = checkOptionalUint(e.firstOutstandingSequence, i, 'firstOutstandingSequence', budget);
  if (command !== undefined && configuration === undefined && term !== 0 && clientId !== '' && sequence !== 0 && firstOutstanding === 0) {
    // The usual replicated proposal, built as one literal (fields in proto field order) so that they all sit in the object itself.
    return { index: String(index), term: String(term), type: typeName, command, clientId, sequence: String(sequence) };
  }
  if (command !== undefined && configuration === undefined && term !== 0 && clientId === '' && sequence === 0 && firstOutstanding === 0) {
    // A leader's own proposal (no session): one literal as well.
    return { index: String(index), term: String(term), type: typeName, command };
  }
  const p: MessagePayload = { index: String(index) };
  if (term !== 0) p.term = String(term);
  p.type = typeName;
  if (command !== undefined) p.command = command;
  if (configuration !== undefined) p.configuration = configuration;
  if (clientId !== '') p.clientId = clientId;
  if (sequence !== 0) p.sequence = String(sequence);
  if (firstOutstanding !== 0) p.firstOutstandingSequence = String(firstOutstanding);
  return p;
}

/** A checked, fresh Configuration as proto3 JSON (empty lists omitted). */
function configurationToPayload(configuration: Configuration): MessagePayload {
  const p: MessagePayload = {};
  if (configuration.voters.length !== 0) p.voters = configuration.voters;
  if (configuration.learners.length !== 0) p.learners = configuration.learners;
  return p;
}
