/**
 * Browser entry: open index.html#a, #b and #c in three tabs of one origin.
 * Each tab is one Raft node (state in IndexedDB, so a reload is a restart);
 * type a command in any tab and watch every tab apply it in the same order.
 * Never open the same #id in two tabs at once: that is two nodes claiming one address.
 */
import { IndexedDBStorage } from 'webraft';
import { BroadcastChannelRaft } from './transport.js';

const peers = ['a', 'b', 'c'];
const address = peers.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'a';
const raft = new BroadcastChannelRaft(address, { peers, storage: new IndexedDBStorage(`webraft-bc-demo-${address}`) });

const $ = (id: string) => document.getElementById(id) as HTMLElement;
document.title = `WebRaft tab ${address}`;
$('me').textContent = address;

raft.listen('apply', (entry) => {
  const item = document.createElement('li');
  item.textContent = `#${entry.index} (term ${entry.term}): ${JSON.stringify(entry.command)}`;
  $('log').append(item);
});

$('form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('command') as HTMLInputElement;
  const text = input.value;
  input.value = '';
  raft.propose({ text, from: address }).then(
    ({ index }) => ($('result').textContent = `committed at index ${index}`),
    (error: { code?: string; message: string }) => ($('result').textContent = `failed: ${error.code ?? ''} ${error.message}`),
  );
});

setInterval(() => {
  const s = raft.status();
  $('status').textContent = `${s.state}, term ${s.term}, leader ${s.leader ?? 'none'}, commit ${s.commitIndex}, applied ${s.lastApplied}`;
}, 200);
