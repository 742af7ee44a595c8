#!/usr/bin/python3
"""Python (google.protobuf) peer for the WebRaft interop tests.

Usage: python_peer.py <dir containing webraft/v1/raft_pb2.py>

Reads JSON lines on stdin, one per vector:
  {"name": str, "binary": base64 of the TS protobuf binary, "json": the TS canonical JSON payload}
and writes one JSON line per vector on stdout:
  {"name", "errors": [str],            # problems found on the Python side
   "reencoded_equal": bool,             # parse(binary).SerializeToString(deterministic=True) == binary
   "json_equals_binary": bool,          # json_format.Parse(json) == parse(binary)
   "json": str,                         # json_format.MessageToJson(parse(binary))
   "dict": object,                      # json_format.MessageToDict(parse(binary))
   "json_snake": str,                   # MessageToJson(..., preserving_proto_field_name=True)
   "binary": base64}                    # deterministic serialization of json_format.Parse(json)
Exits non-zero only when it cannot start (import errors); per-vector problems
are reported in "errors" so the TS side can name the vector.
"""
import base64
import json
import sys

sys.path.insert(0, sys.argv[1])

from google.protobuf import json_format  # noqa: E402
from webraft.v1 import raft_pb2  # noqa: E402


def handle(item):
    out = {"name": item.get("name"), "errors": []}
    ts_binary = base64.b64decode(item["binary"])
    from_binary = raft_pb2.Message()
    try:
        from_binary.ParseFromString(ts_binary)
    except Exception as e:  # noqa: BLE001
        out["errors"].append("ParseFromString failed: %r" % (e,))
        return out
    reencoded = from_binary.SerializeToString(deterministic=True)
    out["reencoded_equal"] = reencoded == ts_binary
    out["json"] = json_format.MessageToJson(from_binary)
    out["dict"] = json_format.MessageToDict(from_binary)
    out["json_snake"] = json_format.MessageToJson(from_binary, preserving_proto_field_name=True)
    from_json = raft_pb2.Message()
    try:
        json_format.Parse(json.dumps(item["json"]), from_json)
    except Exception as e:  # noqa: BLE001
        out["errors"].append("json_format.Parse failed: %r" % (e,))
        return out
    out["json_equals_binary"] = from_json == from_binary
    out["binary"] = base64.b64encode(from_json.SerializeToString(deterministic=True)).decode("ascii")
    return out


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            result = handle(json.loads(line))
        except Exception as e:  # noqa: BLE001
            result = {"name": None, "errors": ["peer crashed: %r" % (e,)]}
        sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
