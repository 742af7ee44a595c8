/**
 * Field numbers of `webraft.v1` (proto/webraft/v1/raft.proto) and
 * `google.protobuf.Value`, as used by the hand-written binary codec. Tests
 * check the codec against the ts-proto output in generated/.
 * @internal
 */

/** Oneof body field number of `webraft.v1.Message` for each core body type. */
export const BODY_FIELD = {
  RequestVoteRequest: 10,
  RequestVoteResponse: 11,
  AppendEntriesRequest: 12,
  AppendEntriesResponse: 13,
  InstallSnapshotRequest: 14,
  InstallSnapshotResponse: 15,
  TimeoutNowRequest: 16,
  ProposeRequest: 17,
  ProposeResponse: 18,
  ReadIndexRequest: 19,
  ReadIndexResponse: 20,
  MembershipChangeRequest: 21,
  MembershipChangeResponse: 22,
} as const;

/** Wire types. */
export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
