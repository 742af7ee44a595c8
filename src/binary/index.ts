/** webraft/binary: protobuf binary encoding of WebRaft payloads (work in progress). */
export {};
