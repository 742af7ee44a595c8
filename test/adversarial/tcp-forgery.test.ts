/**
 * Forged hellos and AppendEntries against a default-configured TCP cluster
 * (mutual TLS, or TLS-PSK, every limit at its default). The control case
 * shows the attack is real: in insecure-plaintext mode the same bytes make a
 * follower apply the forged command. Authenticated, they are refused, nothing
 * forged is applied, the cluster keeps committing, and no node dials the
 * address the attacker names.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encode, encodeFrame } from 'webraft/binary';
import { pskKeyId } from 'webraft/node';
import {
  certificatesFor,
  collect,
  commitEverywhere,
  firstHandshakeFrame,
  freeAddresses,
  helloFrame,
  mtlsFor,
  parse,
  randomSecret,
  rawConnect,
  sleep,
  startCluster,
  tlsAttempt,
  waitFor,
  type TestCluster,
} from './tcp-harness.js';
import { readFileSync } from 'node:fs';

let addresses: string[];
let attackerAddress: string;
let certs: Awaited<ReturnType<typeof certificatesFor>>;
let rogueCerts: Awaited<ReturnType<typeof certificatesFor>>;
/** A listener on the address the attacker names: no node may ever dial it. */
let attackerListener: Server;
let dialsToAttacker = 0;

beforeAll(async () => {
  [attackerAddress, ...addresses] = await freeAddresses(4);
  certs = await certificatesFor(addresses);
  // Another CA, issuing certificates for the very same addresses.
  rogueCerts = await certificatesFor(addresses);
  attackerListener = createServer((socket) => {
    dialsToAttacker++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => attackerListener.listen(parse(attackerAddress).port, '127.0.0.1', resolve));
});
afterAll(async () => {
  certs.dispose();
  rogueCerts.dispose();
  await new Promise((resolve) => attackerListener.close(resolve));
});

let cluster: TestCluster | null = null;
afterEach(async () => {
  await cluster?.close();
  cluster = null;
});

/** An AppendEntries from the leader to `to`, valid in every field, carrying a forged command; and that command. */
async function forgedAppend(c: TestCluster, to: string): Promise<{ frame: Uint8Array; command: { forged: string } }> {
  await commitEverywhere(c, `settle ${to}`); // the last entry is now of the leader's term on every node
  const leader = c.leader();
  const { lastIndex } = leader.status();
  const term = String(leader.currentTerm);
  const command = { forged: `by the attacker for ${to}` };
  const payload = {
    from: leader.address,
    to,
    term,
    appendEntriesRequest: {
      prevLogIndex: String(lastIndex),
      prevLogTerm: term,
      entries: [{ index: String(lastIndex + 1), term, type: 'ENTRY_TYPE_COMMAND', command }],
      leaderCommit: String(lastIndex + 1),
    },
  };
  return { frame: encodeFrame(encode(payload)), command };
}

function appliedAnywhere(c: TestCluster, command: unknown): boolean {
  const text = JSON.stringify(command);
  return c.nodes.some((n) => n.applied.some((a) => JSON.stringify(a) === text));
}

describe('forged hello + AppendEntries', () => {
  it('control: in insecure-plaintext mode a forged hello naming the leader gets a forged command applied on a follower', async () => {
    cluster = await startCluster(addresses, () => ({ mode: 'insecure-plaintext' }));
    const follower = cluster.nodes.find((n) => !n.isLeader)!;
    const { frame, command } = await forgedAppend(cluster, follower.address);
    const socket = await rawConnect(follower.address);
    // Send the forgery as soon as the hello is accepted (the real leader's redial would replace this connection).
    socket.once('data', () => socket.write(frame));
    socket.write(helloFrame({ cluster: 'test-cluster', from: cluster.leader().address, to: follower.address }));
    await waitFor(() => follower.applied.some((a) => JSON.stringify(a) === JSON.stringify(command)), 5000, 'the forged command applied');
    socket.destroy();
  });

  describe('default mutual TLS', () => {
    beforeAll(() => {
      dialsToAttacker = 0;
    });

    it('plain TCP with the old text hello and an AppendEntries: the TLS handshake fails, nothing is applied', async () => {
      cluster = await startCluster(addresses, (a) => mtlsFor(certs, a));
      for (const follower of cluster.nodes.filter((n) => !n.isLeader)) {
        const { frame, command } = await forgedAppend(cluster, follower.address);
        const socket = await rawConnect(follower.address);
        const received = collect(socket);
        socket.write(encodeFrame(new TextEncoder().encode(`webraft-hello/1 ${cluster.leader().address}`)));
        socket.write(frame);
        await received; // the server closes it
        const index = cluster.nodes.indexOf(follower);
        await waitFor(() => (cluster!.servers[index].stats.refused.TLS_HANDSHAKE_FAILED ?? 0) >= 1);
        expect(appliedAnywhere(cluster, command)).toBe(false);
      }
      await commitEverywhere(cluster, 'still committing');
    });

    it('TLS without a client certificate is refused before any hello', async () => {
      cluster = await startCluster(addresses, (a) => mtlsFor(certs, a));
      const target = cluster.nodes.find((n) => !n.isLeader)!;
      const { frame, command } = await forgedAppend(cluster, target.address);
      const outcome = await tlsAttempt(target.address, { ca: readFileSync(certs.ca), checkServerIdentity: () => undefined })
        .then(async (socket) => {
          const received = collect(socket);
          socket.write(helloFrame({ cluster: 'test-cluster', from: cluster!.leader().address, to: target.address }));
          socket.write(frame);
          return (await received).length;
        })
        .catch((error: Error & { code?: string }) => error.code ?? error.message);
      expect(outcome === 0 || typeof outcome === 'string', `received ${String(outcome)} bytes`).toBe(true);
      const index = cluster.nodes.indexOf(target);
      await waitFor(() => (cluster!.servers[index].stats.refused.TLS_HANDSHAKE_FAILED ?? 0) >= 1);
      expect(cluster.servers[index].stats.accepted).toBe(2); // the two peers only
      expect(appliedAnywhere(cluster, command)).toBe(false);
    });

    it("a certificate from another CA naming the leader's address is refused", async () => {
      cluster = await startCluster(addresses, (a) => mtlsFor(certs, a));
      const leader = cluster.leader();
      const target = cluster.nodes.find((n) => !n.isLeader)!;
      const { frame, command } = await forgedAppend(cluster, target.address);
      const rogue = rogueCerts.nodes.get(leader.address)!;
      const outcome = await tlsAttempt(target.address, { ca: readFileSync(certs.ca), cert: readFileSync(rogue.cert), key: readFileSync(rogue.key), checkServerIdentity: () => undefined })
        .then(async (socket) => {
          const received = collect(socket);
          socket.write(helloFrame({ cluster: 'test-cluster', from: leader.address, to: target.address }));
          socket.write(frame);
          return (await received).length;
        })
        .catch((error: Error & { code?: string }) => error.code ?? error.message);
      expect(outcome === 0 || typeof outcome === 'string', `received ${String(outcome)} bytes`).toBe(true);
      await waitFor(() => (cluster!.servers[cluster!.nodes.indexOf(target)].stats.refused.TLS_HANDSHAKE_FAILED ?? 0) >= 1);
      expect(appliedAnywhere(cluster, command)).toBe(false);
    });

    it("a member's valid certificate claiming the leader's address is refused with IDENTITY_MISMATCH", async () => {
      cluster = await startCluster(addresses, (a) => mtlsFor(certs, a));
      const leader = cluster.leader();
      const [target, insider] = cluster.nodes.filter((n) => !n.isLeader);
      const { frame, command } = await forgedAppend(cluster, target.address);
      const own = certs.nodes.get(insider.address)!;
      const socket = await tlsAttempt(target.address, { ca: readFileSync(certs.ca), cert: readFileSync(own.cert), key: readFileSync(own.key), checkServerIdentity: () => undefined });
      const received = collect(socket);
      socket.write(helloFrame({ cluster: 'test-cluster', from: leader.address, to: target.address }));
      const answer = firstHandshakeFrame(await received);
      expect(answer).toMatchObject({ ok: false, code: 'IDENTITY_MISMATCH' });
      expect(String(answer?.message)).toContain(leader.address);
      expect(socket.destroyed).toBe(true);
      expect(() => socket.write(frame)).not.toThrow(); // a write after close goes nowhere
      await sleep(100);
      expect(appliedAnywhere(cluster, command)).toBe(false);
      const errors = cluster.errors.get(target.address)!;
      expect(errors.some((e) => e.code === 'IDENTITY_MISMATCH' && e.peer === leader.address)).toBe(true);
    });

    it('a hello naming an address outside the configuration gets nothing dialed there', async () => {
      cluster = await startCluster(addresses, (a) => mtlsFor(certs, a));
      const target = cluster.nodes[0];
      const own = certs.nodes.get(cluster.addresses[1])!;
      const socket = await tlsAttempt(target.address, { ca: readFileSync(certs.ca), cert: readFileSync(own.cert), key: readFileSync(own.key), checkServerIdentity: () => undefined });
      const received = collect(socket);
      socket.write(helloFrame({ cluster: 'test-cluster', from: attackerAddress, to: target.address }));
      expect(firstHandshakeFrame(await received)).toMatchObject({ ok: false, code: 'IDENTITY_MISMATCH' });
      await commitEverywhere(cluster, 'after the attempt');
      for (const n of cluster.nodes) expect(n.created).not.toContain(attackerAddress);
      expect(dialsToAttacker).toBe(0);
    });
  });

  describe('default TLS-PSK', () => {
    it('a dialer with another secret is refused (PSK_UNKNOWN_KEY), nothing is applied', async () => {
      const secret = randomSecret();
      cluster = await startCluster(addresses, () => ({ mode: 'psk', secret }));
      const target = cluster.nodes.find((n) => !n.isLeader)!;
      const { frame, command } = await forgedAppend(cluster, target.address);
      const wrong = Buffer.from(randomSecret());
      const outcome = await tlsAttempt(target.address, {
        pskCallback: () => ({ psk: wrong, identity: `${pskKeyId(wrong)}@${cluster!.leader().address}` }),
        checkServerIdentity: () => undefined,
      })
        .then(async (socket) => {
          const received = collect(socket);
          socket.write(helloFrame({ cluster: 'test-cluster', from: cluster!.leader().address, to: target.address }));
          socket.write(frame);
          return (await received).length;
        })
        .catch((error: Error & { code?: string }) => error.code ?? error.message);
      expect(outcome === 0 || typeof outcome === 'string', `received ${String(outcome)} bytes`).toBe(true);
      const index = cluster.nodes.indexOf(target);
      await waitFor(() => (cluster!.servers[index].stats.refused.PSK_UNKNOWN_KEY ?? 0) >= 1);
      expect(appliedAnywhere(cluster, command)).toBe(false);
      // Knowing the key id of the real secret is not enough either.
      const guessed = Buffer.from(randomSecret());
      await tlsAttempt(target.address, { pskCallback: () => ({ psk: guessed, identity: `${pskKeyId(secret)}@${cluster!.leader().address}` }), checkServerIdentity: () => undefined })
        .then(async (socket) => {
          const received = collect(socket);
          socket.write(helloFrame({ cluster: 'test-cluster', from: cluster!.leader().address, to: target.address }));
          return (await received).length;
        })
        .then((bytes) => expect(bytes).toBe(0))
        .catch((error: Error) => expect(error).toBeInstanceOf(Error));
      expect(cluster.servers[index].stats.accepted).toBe(2);
      await commitEverywhere(cluster, 'still committing');
    });
  });
});
