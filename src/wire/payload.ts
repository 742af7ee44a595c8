/**
 * A proto3 JSON object: the canonical JSON form of one `webraft.v1.Message`
 * as handed to `NodeInstance.write()` and accepted by `gotData()`.
 */
export type MessagePayload = { [key: string]: unknown };
