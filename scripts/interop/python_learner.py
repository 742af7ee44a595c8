#!/usr/bin/python3
"""A WebRaft learner in Python, written from docs/tcp-protocol.md alone.

It speaks the WebRaft TCP protocol (version 2) with mutual TLS: it listens for
the leader's connection, answers AppendEntries and InstallSnapshot, and sends
its answers on its own connection to the sender. It keeps its log in memory
and never votes, so it is safe as a learner (and as a voter that never grants
a vote, which is what a node added with join() becomes once caught up).

Usage:
  python_learner.py --pb-dir DIR --address HOST:PORT --cluster-id ID \\
                    --ca CA.pem --cert NODE.pem --key NODE.key

DIR holds webraft/v1/raft_pb2.py (protoc --python_out). Control on stdin and
stdout, one JSON object per line:
  stdout {"event": "listening", "address": ...} once the server is up
  stdin  {"cmd": "dump"}  -> stdout {"event": "dump", "term", "commitIndex",
                                      "snapshot": {index, term, data, configuration} | null,
                                      "entries": [proto3 JSON of each Entry], "stats": {...}}
  stdin  {"cmd": "exit"}  -> exits
Errors go to stderr, one line each.
"""
import argparse
import asyncio
import json
import ssl
import sys

PROTOCOL = "webraft-tcp"
VERSION = 2
MAX_HELLO_BYTES = 4096
MAX_FRAME_BYTES = 64 * 1024 * 1024
HANDSHAKE_TIMEOUT = 5.0


def log(*parts):
    print("learner:", *parts, file=sys.stderr, flush=True)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------- framing

def varint(n):
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def frame(body):
    return varint(len(body)) + body


async def read_frame(reader, limit):
    """Reads one length-delimited frame; refuses a declared length over `limit` before reading it."""
    length = 0
    shift = 0
    for _ in range(10):
        byte = (await reader.readexactly(1))[0]
        length |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
    else:
        raise ValueError("frame length header longer than 10 bytes")
    if length > limit:
        raise ValueError("frame of %d bytes exceeds %d" % (length, limit))
    return await reader.readexactly(length)


def names(cert, address):
    """True when the certificate carries subjectAltName URI:webraft://<address> (identity 'uri')."""
    wanted = "webraft://" + address
    return any(kind == "URI" and value == wanted for kind, value in (cert or {}).get("subjectAltName", ()))


# --------------------------------------------------------------- the learner

class Learner:
    def __init__(self, pb, address, cluster_id, server_ctx, client_ctx):
        self.pb = pb
        self.address = address
        self.cluster_id = cluster_id
        self.server_ctx = server_ctx
        self.client_ctx = client_ctx
        self.term = 0
        self.leader = None
        self.commit_index = 0
        self.snapshot = None          # {"index", "term", "data", "configuration"} once installed
        self.snapshot_index = 0
        self.snapshot_term = 0
        self.entries = []             # raft_pb2.Entry, indexes snapshot_index+1 ..
        self.incoming = {}            # snapshot being received: (last_included_index, term) -> bytearray
        self.peers = {}               # address -> Peer
        self.stats = {"appendEntries": 0, "installSnapshotChunks": 0, "snapshotsInstalled": 0,
                      "rejected": 0, "voteRequests": 0, "connectionsAccepted": 0, "framesReceived": 0}

    # ---- log helpers
    def last_index(self):
        return self.snapshot_index + len(self.entries)

    def term_at(self, index):
        if index == self.snapshot_index:
            return self.snapshot_term
        if index < self.snapshot_index or index > self.last_index():
            return None
        return self.entries[index - self.snapshot_index - 1].term

    # ---- server side: peers' connections to us
    async def serve_connection(self, reader, writer):
        peer = None
        try:
            hello_bytes = await asyncio.wait_for(read_frame(reader, MAX_HELLO_BYTES), HANDSHAKE_TIMEOUT)
            hello = json.loads(hello_bytes.decode("utf-8"))
            refusal = self.check_hello(hello, writer.get_extra_info("peercert"))
            answer = {"protocol": PROTOCOL, "version": VERSION, "cluster": self.cluster_id, "from": self.address, "ok": refusal is None}
            if refusal:
                answer["code"], answer["message"] = refusal
                log("refused hello", hello, refusal)
            writer.write(frame(json.dumps(answer).encode("utf-8")))
            await writer.drain()
            if refusal:
                return
            peer = hello["from"]
            self.stats["connectionsAccepted"] += 1
            while True:
                body = await read_frame(reader, MAX_FRAME_BYTES)
                self.stats["framesReceived"] += 1
                message = self.pb.Message()
                message.ParseFromString(body)
                if getattr(message, "from") != peer:
                    log("dropped a message whose from %r is not the hello's %r" % (getattr(message, "from"), peer))
                    continue
                self.handle(message)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.TimeoutError):
            pass
        except Exception as e:  # noqa: BLE001
            log("connection from %s failed: %r" % (peer, e))
        finally:
            writer.close()

    def check_hello(self, hello, cert):
        if not isinstance(hello, dict) or hello.get("protocol") != PROTOCOL or not isinstance(hello.get("version"), int):
            return ("BAD_HELLO", "not a webraft-tcp hello")
        if hello["version"] != VERSION:
            return ("VERSION_MISMATCH", "this node speaks version %d" % VERSION)
        if hello.get("cluster") != self.cluster_id:
            return ("CLUSTER_MISMATCH", "this node is in cluster %r" % self.cluster_id)
        if hello.get("to") != self.address:
            return ("WRONG_NODE", "this is %s" % self.address)
        if not isinstance(hello.get("from"), str) or not names(cert, hello["from"]):
            return ("IDENTITY_MISMATCH", "the certificate does not name %r" % hello.get("from"))
        return None

    # ---- client side: our connections to peers
    def send(self, to, message):
        setattr(message, "from", self.address)
        message.to = to
        peer = self.peers.get(to)
        if peer is None:
            peer = self.peers[to] = Peer(self, to)
        peer.send(frame(message.SerializeToString()))

    def reply(self, request, body_field, body):
        response = self.pb.Message()
        response.term = self.term
        getattr(response, body_field).CopyFrom(body)
        self.send(getattr(request, "from"), response)

    # ---- Raft
    def handle(self, m):
        kind = m.WhichOneof("body")
        if kind == "request_vote_request":
            self.stats["voteRequests"] += 1
            # Never votes (a learner, and its log is not durable). A higher term is still adopted, not for a pre-vote.
            if m.term > self.term and not m.request_vote_request.pre_vote:
                self.term, self.leader = m.term, None
            body = self.pb.RequestVoteResponse(vote_granted=False, pre_vote=m.request_vote_request.pre_vote)
            return self.reply(m, "request_vote_response", body)
        if kind == "append_entries_request":
            return self.append_entries(m, m.append_entries_request)
        if kind == "install_snapshot_request":
            return self.install_snapshot(m, m.install_snapshot_request)
        # TimeoutNow, proposals, reads, membership requests: a learner ignores them.

    def accept_term(self, m):
        """Raft's term rules (§5.1): False for a stale sender; adopts a newer term and its leader."""
        if m.term < self.term:
            return False
        if m.term > self.term:
            self.term = m.term
        self.leader = getattr(m, "from")
        return True

    def append_entries(self, m, req):
        self.stats["appendEntries"] += 1
        response = self.pb.AppendEntriesResponse(read_round=req.read_round)
        if not self.accept_term(m):
            response.success = False
            response.last_log_index = self.last_index()
            return self.reply(m, "append_entries_response", response)
        prev = req.prev_log_index
        if prev > self.last_index() or (prev >= self.snapshot_index and self.term_at(prev) != req.prev_log_term):
            # §5.3 consistency check failed: hint the largest index <= min(prev, last) whose term <= prev_log_term.
            self.stats["rejected"] += 1
            hint = min(prev, self.last_index())
            while hint > self.snapshot_index and self.term_at(hint) > req.prev_log_term:
                hint -= 1
            response.success = False
            response.rejected_index = prev
            response.conflict_index = hint
            response.conflict_term = self.term_at(hint) or 0
            response.last_log_index = self.last_index()
            return self.reply(m, "append_entries_response", response)
        for entry in req.entries:
            if entry.index <= self.snapshot_index:
                continue  # covered by the snapshot: committed, so it matches
            existing = self.term_at(entry.index)
            if existing is not None and existing != entry.term:
                del self.entries[entry.index - self.snapshot_index - 1:]  # a conflict: drop it and all after (§5.3)
                existing = None
            if existing is None:
                copy = self.pb.Entry()
                copy.CopyFrom(entry)
                self.entries.append(copy)
        match = prev + len(req.entries)
        self.commit_index = max(self.commit_index, min(req.leader_commit, match))
        response.success = True
        response.match_index = match
        response.last_log_index = self.last_index()
        self.reply(m, "append_entries_response", response)

    def install_snapshot(self, m, req):
        self.stats["installSnapshotChunks"] += 1
        response = self.pb.InstallSnapshotResponse(last_included_index=req.last_included_index)
        if not self.accept_term(m):
            return self.reply(m, "install_snapshot_response", response)
        key = (req.last_included_index, req.last_included_term)
        if req.offset == 0:
            self.incoming = {key: bytearray()}
        buffer = self.incoming.get(key)
        if buffer is None or req.offset != len(buffer):
            # Out of order or for another snapshot: say how much we hold, the leader resends from there.
            response.next_offset = len(buffer) if buffer is not None else 0
            return self.reply(m, "install_snapshot_response", response)
        buffer.extend(req.data)
        response.next_offset = len(buffer)
        if req.done:
            snapshot = json.loads(bytes(buffer).decode("utf-8"))
            if snapshot.get("index") != req.last_included_index or snapshot.get("term") != req.last_included_term:
                raise ValueError("snapshot bytes name index %r term %r, the request %d %d" % (
                    snapshot.get("index"), snapshot.get("term"), req.last_included_index, req.last_included_term))
            # Keep the entries after the snapshot if the log holds its last entry (§7), else start over from it.
            if self.term_at(req.last_included_index) == req.last_included_term and req.last_included_index <= self.last_index():
                self.entries = self.entries[req.last_included_index - self.snapshot_index:]
            else:
                self.entries = []
            self.snapshot = {"index": snapshot["index"], "term": snapshot["term"], "data": snapshot.get("data"),
                             "configuration": snapshot.get("configuration")}
            self.snapshot_index, self.snapshot_term = req.last_included_index, req.last_included_term
            self.commit_index = max(self.commit_index, req.last_included_index)
            self.incoming = {}
            self.stats["snapshotsInstalled"] += 1
            response.done = True
        self.reply(m, "install_snapshot_response", response)

    def dump(self):
        from google.protobuf import json_format
        return {"event": "dump", "term": self.term, "leader": self.leader, "commitIndex": self.commit_index,
                "snapshot": self.snapshot, "snapshotIndex": self.snapshot_index, "snapshotTerm": self.snapshot_term,
                "entries": [json_format.MessageToDict(e) for e in self.entries], "stats": self.stats}


class Peer:
    """Our connection to one peer: opened on the first message, reopened after a failure."""

    def __init__(self, learner, address):
        self.learner = learner
        self.address = address
        self.queue = asyncio.Queue(maxsize=4096)
        self.task = asyncio.get_running_loop().create_task(self.run())

    def send(self, data):
        if self.queue.full():
            self.queue.get_nowait()  # drop the oldest; Raft retransmits
        self.queue.put_nowait(data)

    async def connect(self):
        host, port = self.address.rsplit(":", 1)
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host.strip("[]"), int(port), ssl=self.learner.client_ctx, server_hostname=None), HANDSHAKE_TIMEOUT)
        if not names(writer.get_extra_info("peercert"), self.address):
            writer.close()
            raise ConnectionError("the certificate of %s does not name it" % self.address)
        hello = {"protocol": PROTOCOL, "version": VERSION, "cluster": self.learner.cluster_id,
                 "from": self.learner.address, "to": self.address}
        writer.write(frame(json.dumps(hello).encode("utf-8")))
        answer = json.loads((await asyncio.wait_for(read_frame(reader, MAX_HELLO_BYTES), HANDSHAKE_TIMEOUT)).decode("utf-8"))
        if not answer.get("ok") or answer.get("cluster") != self.learner.cluster_id or answer.get("from") != self.address:
            writer.close()
            raise ConnectionError("%s refused our hello: %r" % (self.address, answer))
        return writer

    async def run(self):
        writer = None
        backoff = 0.05
        while True:
            data = await self.queue.get()
            while writer is None:
                try:
                    writer = await self.connect()
                    backoff = 0.05
                except (OSError, asyncio.TimeoutError, ConnectionError, ValueError) as e:
                    log("dial %s failed: %r" % (self.address, e))
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 1.0)
            try:
                writer.write(data)
                while not self.queue.empty():
                    writer.write(self.queue.get_nowait())
                await writer.drain()
            except (OSError, ConnectionError):
                writer = None  # the frame is lost; Raft retransmits


# --------------------------------------------------------------- main

def tls_contexts(ca, cert, key):
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for ctx in (server, client):
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(cert, key)
        ctx.load_verify_locations(ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    client.check_hostname = False  # nodes are named by a URI subjectAltName, checked after the handshake
    return server, client


async def control(learner, stop):
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        command = json.loads(line)
        if command.get("cmd") == "dump":
            emit(learner.dump())
        elif command.get("cmd") == "exit":
            break
    stop.set()


async def main():
    parser = argparse.ArgumentParser()
    for name in ("--pb-dir", "--address", "--cluster-id", "--ca", "--cert", "--key"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    sys.path.insert(0, args.pb_dir)
    from webraft.v1 import raft_pb2  # noqa: E402
    server_ctx, client_ctx = tls_contexts(args.ca, args.cert, args.key)
    learner = Learner(raft_pb2, args.address, args.cluster_id, server_ctx, client_ctx)
    host, port = args.address.rsplit(":", 1)
    server = await asyncio.start_server(learner.serve_connection, host.strip("[]"), int(port), ssl=server_ctx,
                                        ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
    emit({"event": "listening", "address": args.address})
    stop = asyncio.Event()
    asyncio.get_running_loop().create_task(control(learner, stop))
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
