/**
 * The BroadcastChannel transport under Node (which has a global
 * BroadcastChannel): three nodes in one process, a few proposals, the applied
 * log of each. Run: npx tsx examples/broadcast-channel/node-check.ts
 */
import { BroadcastChannelRaft } from './transport.js';

const peers = ['tab-a', 'tab-b', 'tab-c'];
const prefix = `webraft-check-${process.pid}:`; // keep concurrent runs apart
const applied = new Map<string, string[]>();
const nodes = peers.map((address) => {
  const raft = new BroadcastChannelRaft(address, { peers }, prefix);
  applied.set(address, []);
  raft.listen('apply', (entry) => void applied.get(address)?.push(String(entry.command)));
  return raft;
});

const started = Date.now();
while (!nodes.some((n) => n.isLeader)) {
  if (Date.now() - started > 10_000) throw new Error('no leader elected');
  await new Promise((resolve) => setTimeout(resolve, 20));
}
console.log(`leader: ${nodes.find((n) => n.isLeader)?.address}`);

for (const [i, word] of ['red', 'green', 'blue'].entries()) {
  const { index } = await nodes[i].propose(word); // proposed on every node in turn
  console.log(`${nodes[i].address} proposed ${word}: committed at index ${index}`);
}
await Promise.all(nodes.map((n) => n.readBarrier()));
for (const [address, log] of applied) console.log(`${address} applied: ${log.join(', ')}`);
const same = new Set([...applied.values()].map((l) => l.join())).size === 1;
console.log(same ? 'all nodes applied the same log' : 'LOGS DIFFER');
for (const node of nodes) node.end();
process.exit(same ? 0 : 1);
