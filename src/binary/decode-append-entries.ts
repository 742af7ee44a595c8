import { FIELD_NUMBERS } from '../../generated/webraft/v1/raft.wire.js';
import type { JsonValue } from '../core/types.js';
import {
  checkBudget,
  checkEntry,
  checkOptionalString,
  checkOptionalUint,
  checkPrevLogTerm,
  configurationToPayload,
  ENTRY_TYPES,
  entryPath,
  entryPayload,
  envelopeToPayload,
  newBudget,
  parseEntryType,
  SCALAR_FIELD_BYTES,
  WireError,
  type MessagePayload,
  type WalkBudget,
  type WireLimits,
} from '../wire/index.js';
import { decodeConfiguration, readUint, type Envelope } from './decode-message.js';
import { decodeCommand } from './decode-value.js';
import type { ProtoReader } from './proto-reader.js';

/**
 * The hot message, AppendEntriesRequest, from protobuf binary straight to its
 * proto3 JSON payload in one pass: no core entries are built and each command
 * is checked and sized while it is read. It applies the checks and the size
 * count of `messageToPayload` (whose helpers it calls: the envelope, the entry
 * rules, the entry literal) and gives the same errors, so `decode` has one
 * path for every input.
 *
 * Fields may come in any order and a singular one more than once (the last
 * wins): the body is scanned first, then the entries are decoded in order
 * knowing the message term and prevLogIndex/prevLogTerm.
 * @internal
 */
export function decodeAppendEntries(r: ProtoReader, envelope: Envelope, limits: Readonly<WireLimits>): MessagePayload {
  const budget = newBudget(limits);
  const out = envelopeToPayload(envelope.from, envelope.to, envelope.term, budget);
  const end = envelope.bodyEnd;
  r.pos = envelope.bodyStart;
  let prevLogIndex = 0;
  let prevLogTerm = 0;
  let leaderCommit = 0;
  let readRound = 0;
  /** Start and end of each entry's bytes. */
  const bounds: number[] = [];
  while (r.pos < end) {
    const key = r.tag(end);
    switch (key) {
      case PREV_LOG_INDEX: prevLogIndex = readUint(r, end, PATH, 'prevLogIndex'); break;
      case PREV_LOG_TERM: prevLogTerm = readUint(r, end, PATH, 'prevLogTerm'); break;
      case LEADER_COMMIT: leaderCommit = readUint(r, end, PATH, 'leaderCommit'); break;
      case READ_ROUND: readRound = readUint(r, end, PATH, 'readRound'); break;
      case ENTRIES: {
        if (bounds.length >= 2 * limits.maxEntriesPerMessage) {
          throw new WireError('LIMIT_EXCEEDED', `more than maxEntriesPerMessage (${limits.maxEntriesPerMessage}) entries`, `${PATH}.entries`);
        }
        const stop = r.lengthDelimitedEnd(end);
        bounds.push(r.pos, stop);
        r.pos = stop;
        break;
      }
      default:
        r.skip(key & 7, end);
    }
  }
  checkPrevLogTerm(prevLogTerm, envelope.term);
  const p: MessagePayload = {};
  if (prevLogIndex !== 0) p.prevLogIndex = String(prevLogIndex);
  if (prevLogTerm !== 0) p.prevLogTerm = String(prevLogTerm);
  const count = bounds.length / 2;
  if (count !== 0) {
    const entries = new Array<MessagePayload>(count);
    const decoder = new EntryDecoder(r, budget, prevLogIndex, envelope.term);
    let previousTerm = prevLogTerm;
    for (let i = 0; i < count; i++) {
      r.pos = bounds[2 * i];
      entries[i] = decoder.entry(bounds[2 * i + 1], i, previousTerm);
      previousTerm = decoder.term;
      if (budget.size > limits.maxPayloadBytes) checkBudget(budget, entryPath(i));
    }
    p.entries = entries;
  }
  if (leaderCommit !== 0) p.leaderCommit = String(leaderCommit);
  if (readRound !== 0) p.readRound = String(readRound);
  out.appendEntriesRequest = p;
  checkBudget(budget, '');
  return out;
}

const PATH = 'appendEntriesRequest';
const VARINT = 0;
const LENGTH_DELIMITED = 2;
const A = FIELD_NUMBERS.AppendEntriesRequest;
const PREV_LOG_INDEX = (A.prevLogIndex << 3) | VARINT;
const PREV_LOG_TERM = (A.prevLogTerm << 3) | VARINT;
const ENTRIES = (A.entries << 3) | LENGTH_DELIMITED;
const LEADER_COMMIT = (A.leaderCommit << 3) | VARINT;
const READ_ROUND = (A.readRound << 3) | VARINT;
const E = FIELD_NUMBERS.Entry;
const INDEX = (E.index << 3) | VARINT;
const TERM = (E.term << 3) | VARINT;
const TYPE = (E.type << 3) | VARINT;
const COMMAND = (E.command << 3) | LENGTH_DELIMITED;
const CONFIGURATION = (E.configuration << 3) | LENGTH_DELIMITED;
const CLIENT_ID = (E.clientId << 3) | LENGTH_DELIMITED;
const SEQUENCE = (E.sequence << 3) | VARINT;
const FIRST_OUTSTANDING = (E.firstOutstandingSequence << 3) | VARINT;

class EntryDecoder {
  /** Term of the entry last decoded. */
  term = 0;
  /** The previous entry's client id, so consecutive entries of one session share one string. */
  private clientId = '';

  constructor(
    private readonly r: ProtoReader,
    private readonly budget: WalkBudget,
    private readonly prevLogIndex: number,
    private readonly messageTerm: number,
  ) {}

  /** Entry `i` occupying [r.pos, end), whose term must be at least `previousTerm`. */
  entry(end: number, i: number, previousTerm: number): MessagePayload {
    const r = this.r;
    let index = 0;
    let term = 0;
    let type = 0;
    let commandStart = -1;
    let commandEnd = 0;
    let configurationStart = -1;
    let configurationEnd = 0;
    let clientId = '';
    let sequence = 0;
    let firstOutstanding = 0;
    while (r.pos < end) {
      const key = r.tag(end);
      switch (key) {
        case INDEX: index = readUint(r, end, i, 'index'); break;
        case TERM: term = readUint(r, end, i, 'term'); break;
        case TYPE: type = r.varint(end); break;
        case COMMAND:
          commandEnd = r.lengthDelimitedEnd(end);
          commandStart = r.pos;
          r.pos = commandEnd;
          break;
        case CONFIGURATION:
          configurationEnd = r.lengthDelimitedEnd(end);
          configurationStart = r.pos;
          r.pos = configurationEnd;
          break;
        case CLIENT_ID: clientId = r.string(end); break;
        case SEQUENCE: sequence = readUint(r, end, i, 'sequence'); break;
        case FIRST_OUTSTANDING: firstOutstanding = readUint(r, end, i, 'firstOutstandingSequence'); break;
        default: r.skip(key & 7, end);
      }
    }
    // From here on, the checks of messageToPayload's entryToPayload, in its order.
    const entryType = parseEntryType(type, i);
    checkEntry(index, term, entryType, commandStart >= 0, configurationStart >= 0, i, this.prevLogIndex, previousTerm, this.messageTerm);
    const budget = this.budget;
    budget.size += 3 * SCALAR_FIELD_BYTES;
    let command: JsonValue | undefined;
    if (commandStart >= 0) {
      r.pos = commandStart;
      command = decodeCommand(r, commandEnd, i, 'command', budget);
    }
    let configuration: MessagePayload | undefined;
    if (configurationStart >= 0) {
      r.pos = configurationStart;
      const path = `${entryPath(i)}.configuration`;
      configuration = configurationToPayload(decodeConfiguration(r, configurationEnd, path, budget.limits), path, budget);
    }
    if (clientId !== '' && clientId === this.clientId) clientId = this.clientId;
    this.clientId = checkOptionalString(clientId === '' ? undefined : clientId, i, 'clientId', budget);
    checkOptionalUint(sequence, i, 'sequence', budget);
    checkOptionalUint(firstOutstanding, i, 'firstOutstandingSequence', budget);
    this.term = term;
    return entryPayload(index, term, ENTRY_TYPES.names[entryType], command, configuration, clientId, sequence, firstOutstanding);
  }
}
