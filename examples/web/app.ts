/**
 * WebRaft web demo: five real webraft nodes in one page, on a simulated
 * network, drawn live (a RaftScope-style view running the actual library).
 *
 * Everything here is what an application would write: it imports `webraft`
 * (bundled by esbuild in examples/web/serve.ts), subclasses RaftInterface and
 * NodeInstance, and only reads the public API (status(), events, options).
 */
import { MemoryStorage, NodeInstance, RaftInterface } from 'webraft';
import type { LogEntry, RaftStatus, RoleState, StorageUpdate } from 'webraft';
import { SimClock, SimNetwork, type InFlight, type MessageKind } from './sim.js';

// ------------------------------------------------------------------ settings

/** Slower than the library defaults so a human can follow what happens. */
const TIMING = {
  heartbeatFrequency: 300,
  heartbeatTimeout: 1500,
  electionTimeout: 1500,
};
const IDS = ['n1', 'n2', 'n3', 'n4', 'n5'];
/** Width of one log cell plus the gap between cells (px, see index.html). */
const CELL_PITCH = 74;

// ------------------------------------------------------------------ storage

/**
 * A MemoryStorage that also keeps a readable copy of the persisted log, so the
 * page can draw each node's log (the public API exposes indices, not entries).
 */
class ObservedStorage extends MemoryStorage {
  log: LogEntry[] = [];

  override async save(update: StorageUpdate): Promise<void> {
    await super.save(update);
    if (update.snapshot) {
      const index = update.snapshot.index;
      this.log = this.log.filter((e) => e.index > index);
    }
    if (update.entries && update.entries.length > 0) {
      const start = update.entries[0].index;
      this.log = this.log.filter((e) => e.index < start).concat(update.entries.map((e) => ({ ...e })));
    }
  }
}

// ------------------------------------------------------------------ nodes

interface DemoNode {
  id: string;
  storage: ObservedStorage;
  raft: DemoRaft | null;
  /** Last status seen while running (kept for display after stop). */
  status: RaftStatus | null;
  /** When the election timer was last reset and its length (from the `random` option). */
  timerResetAt: number;
  timerLength: number;
  restarts: number;
}

const clock = new SimClock();
const nodes = new Map<string, DemoNode>();
const network = new SimNetwork(clock, (from, to, payload) => {
  const raft = nodes.get(to)?.raft;
  if (!raft || raft.ended) return false;
  raft.gotData(from, payload);
  return true;
});

class DemoInstance extends NodeInstance {
  override write(payload: object): void {
    network.send(this.raft.address, this.address, payload);
  }
}

class DemoRaft extends RaftInterface {
  createInstance(address: string): NodeInstance {
    return new DemoInstance(address, this);
  }
  override get heartbeatFrequency(): number {
    return TIMING.heartbeatFrequency;
  }
  override get heartbeatTimeout(): number {
    return TIMING.heartbeatTimeout;
  }
  override get electionTimeout(): number {
    return TIMING.electionTimeout;
  }
}

function startNode(node: DemoNode): void {
  // The core draws one random number each time it resets its election timer
  // (timeout = base + floor(random * base)); observing it lets us draw the timer.
  const random = (): number => {
    const r = Math.random();
    node.timerResetAt = clock.now();
    node.timerLength = TIMING.heartbeatTimeout + Math.floor(r * TIMING.heartbeatTimeout);
    return r;
  };
  const raft = new DemoRaft(node.id, { peers: IDS, storage: node.storage, clock, random });
  node.raft = raft;
  raft.listen('state changed', (state: RoleState) => {
    if (node.raft !== raft) return;
    const term = raft.currentTerm;
    if (state === 'leader') feed(`<b>${node.id}</b> is <span class="role-leader">leader</span> for term ${term}`, 'leader');
    else if (state === 'candidate') feed(`${node.id} timed out and campaigns (pre-vote, then election) from term ${term}`, 'candidate');
    else feed(`${node.id} is a follower (term ${term})`, 'follower');
  });
  raft.listen('error', (error: unknown) => feed(`${node.id}: ${String((error as Error)?.message ?? error)}`, 'error'));
}

for (const id of IDS) {
  const node: DemoNode = { id, storage: new ObservedStorage(), raft: null, status: null, timerResetAt: 0, timerLength: 0, restarts: 0 };
  nodes.set(id, node);
}

function stopNode(id: string): void {
  const node = nodes.get(id);
  if (!node?.raft) return;
  node.status = node.raft.status();
  node.raft.end();
  node.raft = null;
  feed(`${id} stopped (raft.end())`, 'stop');
  render();
}

function restartNode(id: string): void {
  const node = nodes.get(id);
  if (!node || node.raft) return;
  node.restarts++;
  startNode(node);
  feed(`${id} restarted on its MemoryStorage`, 'start');
  render();
}

function isolateNode(id: string): void {
  network.isolated.add(id);
  feed(`${id} partitioned from the others`, 'stop');
  render();
}

function healNode(id: string): void {
  network.isolated.delete(id);
  feed(`${id} reconnected`, 'start');
  render();
}

function healAll(): void {
  network.isolated.clear();
  feed('network healed', 'start');
  render();
}

function currentLeader(): DemoNode | undefined {
  let best: DemoNode | undefined;
  for (const node of nodes.values()) {
    if (node.raft && node.raft.isLeader && (!best || node.raft.currentTerm > (best.raft?.currentTerm ?? 0))) best = node;
  }
  return best;
}

let proposals = 0;
async function propose(text: string, via: string): Promise<void> {
  const command = text.trim() || `x=${proposals + 1}`;
  proposals++;
  let node: DemoNode | undefined;
  if (via === 'leader') node = currentLeader() ?? [...nodes.values()].find((n) => n.raft && !network.isolated.has(n.id));
  else node = nodes.get(via);
  if (!node?.raft) {
    feed(`cannot propose "${escapeHtml(command)}": ${via === 'leader' ? 'no node is running' : `${via} is stopped`}`, 'error');
    return;
  }
  const id = node.id;
  feed(`propose "${escapeHtml(command)}" through ${id}`, 'propose');
  try {
    const { index, term } = await node.raft.propose(command);
    feed(`"${escapeHtml(command)}" committed at index ${index} (term ${term}), applied on ${id}`, 'commit');
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'ERROR';
    feed(`"${escapeHtml(command)}" via ${id} failed: ${code}`, 'error');
  }
}

// ------------------------------------------------------------------ DOM helpers

const SVG_NS = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, parent?: Element): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) element.setAttribute(k, String(v));
  parent?.appendChild(element);
  return element;
}

function html<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) element.setAttribute(k, v);
  if (text !== undefined) element.textContent = text;
  return element;
}

function $(selector: string): HTMLElement {
  const element = document.querySelector(selector);
  if (!element) throw new Error(`missing ${selector}`);
  return element as HTMLElement;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function setAttr(element: Element, name: string, value: string): void {
  if (element.getAttribute(name) !== value) element.setAttribute(name, value);
}

function setText(element: Element, value: string): void {
  if (element.textContent !== value) element.textContent = value;
}

// ------------------------------------------------------------------ event feed

function feed(message: string, kind: string): void {
  const list = $('#events');
  const item = html('li', { class: `ev ev-${kind}` });
  item.innerHTML = `<time>${(clock.now() / 1000).toFixed(1)}s</time> ${message}`;
  list.prepend(item);
  while (list.children.length > 40) list.lastElementChild?.remove();
}

// ------------------------------------------------------------------ ring (SVG)

const SIZE = 560;
const CENTER = SIZE / 2;
const RING = 200;
const NODE_R = 50;

const KIND_COLOUR: Record<MessageKind, string> = {
  vote: '#f59e0b',
  append: '#2563eb',
  heartbeat: '#0891b2',
  snapshot: '#9333ea',
  other: '#9333ea',
};

interface NodeView {
  group: SVGGElement;
  arc: SVGPathElement;
  body: SVGCircleElement;
  name: SVGTextElement;
  term: SVGTextElement;
  role: SVGTextElement;
  x: number;
  y: number;
}

const nodeViews = new Map<string, NodeView>();
const linkViews = new Map<string, SVGLineElement>();
const messageViews = new Map<number, SVGElement>();
let messageLayer: SVGGElement;

function position(i: number): { x: number; y: number } {
  const angle = -Math.PI / 2 + (i * 2 * Math.PI) / IDS.length;
  return { x: CENTER + RING * Math.cos(angle), y: CENTER + RING * Math.sin(angle) };
}

function buildRing(): void {
  const root = $('#ring') as unknown as SVGSVGElement;
  root.setAttribute('viewBox', `0 0 ${SIZE} ${SIZE}`);
  const links = svg('g', { class: 'links' }, root);
  IDS.forEach((a, i) => {
    IDS.forEach((b, j) => {
      if (j <= i) return;
      const pa = position(i);
      const pb = position(j);
      linkViews.set(`${a}|${b}`, svg('line', { x1: pa.x, y1: pa.y, x2: pb.x, y2: pb.y, class: 'link' }, links));
    });
  });
  const nodesLayer = svg('g', { class: 'nodes' }, root);
  IDS.forEach((id, i) => {
    const { x, y } = position(i);
    const group = svg('g', { class: 'node', 'data-node': id, 'data-role': 'follower', 'data-term': 0, transform: `translate(${x} ${y})` }, nodesLayer);
    svg('circle', { r: NODE_R + 10, class: 'arc-track' }, group);
    const arc = svg('path', { class: 'arc' }, group);
    const body = svg('circle', { r: NODE_R, class: 'body' }, group);
    const name = svg('text', { y: -12, class: 'name' }, group);
    name.textContent = id;
    const term = svg('text', { y: 18, class: 'term' }, group);
    const role = svg('text', { y: y < CENTER ? -NODE_R - 20 : NODE_R + 32, class: 'role' }, group);
    group.addEventListener('click', () => {
      const select = $('#propose-via') as HTMLSelectElement;
      select.value = id;
    });
    nodeViews.set(id, { group, arc, body, name, term, role, x, y });
  });
  messageLayer = svg('g', { class: 'messages' }, root);
}

function arcPath(fraction: number, radius: number): string {
  const f = Math.max(0, Math.min(0.9999, fraction));
  if (f <= 0) return '';
  const angle = -Math.PI / 2 + f * 2 * Math.PI;
  const x = radius * Math.cos(angle);
  const y = radius * Math.sin(angle);
  return `M 0 ${-radius} A ${radius} ${radius} 0 ${f > 0.5 ? 1 : 0} 1 ${x.toFixed(2)} ${y.toFixed(2)}`;
}

function drawRing(): void {
  const now = clock.now();
  for (const node of nodes.values()) {
    const view = nodeViews.get(node.id) as NodeView;
    const status = node.raft ? node.raft.status() : node.status;
    if (node.raft) node.status = status;
    const running = node.raft !== null;
    const isolated = network.isolated.has(node.id);
    const state = status?.state ?? 'follower';
    setAttr(view.group, 'data-role', running ? state : 'stopped');
    setAttr(view.group, 'data-running', String(running));
    setAttr(view.group, 'data-isolated', String(isolated));
    setAttr(view.group, 'data-term', String(status?.term ?? 0));
    setAttr(view.group, 'class', `node ${running ? state : 'stopped'}${isolated ? ' isolated' : ''}`);
    setText(view.term, `term ${status?.term ?? 0}`);
    setText(view.role, running ? (isolated ? `${state} · partitioned` : state) : 'stopped');
    let d = '';
    if (running && state !== 'leader' && node.timerLength > 0) {
      const remaining = node.timerResetAt + node.timerLength - now;
      d = arcPath(remaining / node.timerLength, NODE_R + 10);
    }
    setAttr(view.arc, 'd', d);
  }
  for (const [key, line] of linkViews) {
    const [a, b] = key.split('|');
    const cut = network.isolated.has(a) || network.isolated.has(b);
    const down = !nodes.get(a)?.raft || !nodes.get(b)?.raft;
    setAttr(line, 'class', `link${cut ? ' cut' : ''}${down ? ' down' : ''}`);
  }
  drawMessages(now);
}

function drawMessages(now: number): void {
  network.sweep(500);
  const seen = new Set<number>();
  for (const m of network.inFlight.values()) {
    seen.add(m.id);
    let view = messageViews.get(m.id);
    if (!view) {
      view = createMessageView(m);
      messageViews.set(m.id, view);
      messageLayer.appendChild(view);
    }
    const end = m.droppedAt ?? m.arriveAt;
    const t = m.droppedAt !== null && now >= m.droppedAt ? (m.droppedAt - m.sentAt) / Math.max(1, m.arriveAt - m.sentAt) : (now - m.sentAt) / Math.max(1, m.arriveAt - m.sentAt);
    const { x, y } = along(m.from, m.to, Math.max(0, Math.min(1, t)));
    setAttr(view, 'transform', `translate(${x.toFixed(1)} ${y.toFixed(1)})`);
    if (m.droppedAt !== null && now >= end) {
      if (view.dataset.lost !== 'true') {
        view.dataset.lost = 'true';
        view.replaceChildren();
        svg('path', { d: 'M -6 -6 L 6 6 M -6 6 L 6 -6', class: 'lost' }, view);
      }
      setAttr(view, 'opacity', String(Math.max(0, 1 - (now - end) / 500).toFixed(2)));
    }
  }
  for (const [id, view] of messageViews) {
    if (!seen.has(id)) {
      view.remove();
      messageViews.delete(id);
    }
  }
}

function createMessageView(m: InFlight): SVGElement {
  const group = svg('g', { class: `msg msg-${m.kind}${m.response ? ' response' : ''}`, 'data-kind': m.kind });
  const colour = KIND_COLOUR[m.kind];
  if (m.response) svg('circle', { r: 6, fill: '#ffffff', stroke: colour, 'stroke-width': 3 }, group);
  else svg('circle', { r: 8, fill: colour, stroke: '#ffffff', 'stroke-width': 1.5 }, group);
  const title = svg('title', {}, group);
  title.textContent = `${m.label}: ${m.from} → ${m.to}`;
  return group;
}

function along(from: string, to: string, t: number): { x: number; y: number } {
  const a = nodeViews.get(from) as NodeView;
  const b = nodeViews.get(to) as NodeView;
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length = Math.hypot(dx, dy) || 1;
  const ux = dx / length;
  const uy = dy / length;
  const start = NODE_R + 4;
  const travel = Math.max(0, length - 2 * start);
  // Each direction of a link gets its own lane, so requests and responses do not overlap.
  const lane = 9;
  return { x: a.x + ux * (start + travel * t) - uy * lane, y: a.y + uy * (start + travel * t) + ux * lane };
}

// ------------------------------------------------------------------ table

interface RowView {
  row: HTMLTableRowElement;
  role: HTMLElement;
  term: HTMLElement;
  commit: HTMLElement;
  applied: HTMLElement;
  stop: HTMLButtonElement;
  partition: HTMLButtonElement;
  log: HTMLElement;
  signature: string;
}

const rowViews = new Map<string, RowView>();
let headerSignature = '';

function buildTable(): void {
  const body = $('#nodes tbody');
  for (const id of IDS) {
    const row = html('tr', { 'data-node': id, 'data-role': 'follower', 'data-term': '0' });
    const name = html('th', { scope: 'row' });
    name.append(html('span', { class: 'swatch' }), document.createTextNode(id));
    const role = html('td', { class: 'c-role' });
    const term = html('td', { class: 'c-num', 'data-field': 'term' });
    const commit = html('td', { class: 'c-num', 'data-field': 'commitIndex' });
    const applied = html('td', { class: 'c-num', 'data-field': 'lastApplied' });
    const controls = html('td', { class: 'c-controls' });
    const stop = html('button', { type: 'button', 'data-action': 'stop' }, 'Stop');
    stop.addEventListener('click', () => {
      if (nodes.get(id)?.raft) stopNode(id);
      else restartNode(id);
    });
    const partition = html('button', { type: 'button', 'data-action': 'partition' }, 'Partition');
    partition.addEventListener('click', () => {
      if (network.isolated.has(id)) healNode(id);
      else isolateNode(id);
    });
    controls.append(stop, partition);
    const log = html('td', { class: 'c-log', 'data-log': id });
    row.append(name, role, term, commit, applied, controls, log);
    body.append(row);
    rowViews.set(id, { row, role, term, commit, applied, stop, partition, log, signature: '' });
  }
}

function termColour(term: number): string {
  const hue = (term * 67 + 200) % 360;
  return `hsl(${hue} 70% 88%)`;
}

function commandText(entry: LogEntry): string {
  if (entry.type === 'noop') return 'no-op';
  if (entry.type === 'configuration') return 'config';
  return typeof entry.command === 'string' ? entry.command : JSON.stringify(entry.command);
}

function drawTable(): void {
  let maxIndex = 0;
  for (const node of nodes.values()) for (const e of node.storage.log) maxIndex = Math.max(maxIndex, e.index);
  // As many cells as fit in the panel; the newest entries stay in view.
  const panel = $('#nodes-panel');
  const logColumn = $('#log-column');
  const count = Math.max(4, Math.floor((panel.clientWidth - logColumn.offsetLeft - 24) / CELL_PITCH));
  const first = Math.max(1, maxIndex - count + 1);
  const last = first + count - 1;
  const header = `${first}-${last}`;
  if (header !== headerSignature) {
    headerSignature = header;
    const cells = $('#log-header');
    cells.replaceChildren();
    for (let i = first; i <= last; i++) cells.append(html('span', { class: 'idx' }, String(i)));
  }
  for (const node of nodes.values()) {
    const view = rowViews.get(node.id) as RowView;
    const status = node.status;
    const running = node.raft !== null;
    const isolated = network.isolated.has(node.id);
    const state = status?.state ?? 'follower';
    setAttr(view.row, 'data-role', running ? state : 'stopped');
    setAttr(view.row, 'data-term', String(status?.term ?? 0));
    setAttr(view.row, 'data-running', String(running));
    setAttr(view.row, 'class', `${running ? state : 'stopped'}${isolated ? ' isolated' : ''}`);
    setText(view.role, running ? state : 'stopped');
    setText(view.term, String(status?.term ?? 0));
    setText(view.commit, String(status?.commitIndex ?? 0));
    setText(view.applied, String(status?.lastApplied ?? 0));
    setText(view.stop, running ? 'Stop' : 'Restart');
    setAttr(view.stop, 'data-action', running ? 'stop' : 'restart');
    setText(view.partition, isolated ? 'Heal' : 'Partition');
    setAttr(view.partition, 'data-action', isolated ? 'heal' : 'partition');
    const commitIndex = status?.commitIndex ?? 0;
    const log = node.storage.log.filter((e) => e.index >= first);
    const signature = `${first}-${last}|${commitIndex}|${log.map((e) => `${e.index}:${e.term}`).join(',')}|${running}`;
    if (signature === view.signature) continue;
    view.signature = signature;
    const wrap = html('div', { class: 'cells' });
    const byIndex = new Map(log.map((e) => [e.index, e]));
    for (let i = first; i <= last; i++) {
      const entry = byIndex.get(i);
      if (!entry) {
        wrap.append(html('span', { class: 'cell empty' }));
        continue;
      }
      const committed = entry.index <= commitIndex;
      const text = commandText(entry);
      const cell = html('span', {
        class: `cell ${entry.type}${committed ? ' committed' : ''}`,
        'data-log-node': node.id,
        'data-index': String(entry.index),
        'data-term': String(entry.term),
        'data-committed': String(committed),
        'data-command': entry.type === 'command' ? text : '',
        title: `index ${entry.index} · term ${entry.term} · ${committed ? 'committed' : 'not committed'} · ${text}`,
        style: `--term-bg: ${termColour(entry.term)}`,
      });
      cell.append(html('span', { class: 't' }, `t${entry.term}`), html('span', { class: 'cmd' }, text));
      wrap.append(cell);
    }
    view.log.replaceChildren(wrap);
  }
}

function drawStats(): void {
  setText($('#clock'), `t = ${(clock.now() / 1000).toFixed(1)} s${clock.paused ? ' · paused' : ''}`);
  setText($('#stats'), `messages sent ${network.sent} · delivered ${network.delivered} · lost ${network.dropped}`);
  const leader = currentLeader();
  const label = $('#leader');
  setText(label, leader ? `${leader.id} (term ${leader.raft?.currentTerm})` : 'none');
  setAttr(label, 'class', leader ? '' : 'none');
}

function render(): void {
  drawRing();
  drawTable();
  drawStats();
}

// ------------------------------------------------------------------ controls

function bindSlider(id: string, format: (value: number) => string, apply: (value: number) => void): void {
  const input = $(`#${id}`) as HTMLInputElement;
  const output = $(`#${id}-value`);
  const update = () => {
    const value = Number(input.value);
    output.textContent = format(value);
    apply(value);
  };
  input.addEventListener('input', update);
  update();
}

function buildControls(): void {
  bindSlider('latency', (v) => `${v} ms`, (v) => (network.latency = v));
  bindSlider('jitter', (v) => `± ${v} ms`, (v) => (network.jitter = v));
  bindSlider('drop', (v) => `${v} %`, (v) => (network.dropRate = v / 100));
  const select = $('#propose-via') as HTMLSelectElement;
  for (const id of IDS) select.append(html('option', { value: id }, `through ${id}`));
  const input = $('#propose-text') as HTMLInputElement;
  const submit = () => {
    void propose(input.value, select.value);
    input.value = '';
    input.placeholder = `x=${proposals + 1}`;
  };
  $('#propose').addEventListener('click', submit);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') submit();
  });
  $('#heal-all').addEventListener('click', healAll);
  const pause = $('#pause');
  pause.addEventListener('click', () => {
    clock.paused = !clock.paused;
    pause.textContent = clock.paused ? 'Resume' : 'Pause';
    pause.setAttribute('data-action', clock.paused ? 'resume' : 'pause');
    feed(clock.paused ? 'simulation paused' : 'simulation resumed', 'propose');
  });
  $('#restart-all').addEventListener('click', () => {
    for (const node of nodes.values()) if (!node.raft) restartNode(node.id);
  });
}

// ------------------------------------------------------------------ test / console hook

interface NodeSnapshot {
  id: string;
  running: boolean;
  isolated: boolean;
  status: RaftStatus | null;
  log: { index: number; term: number; type: string; command: unknown; committed: boolean }[];
}

const api = {
  /** A JSON-friendly snapshot of every node: status(), partition, and the persisted log. */
  status(): NodeSnapshot[] {
    return [...nodes.values()].map((node) => {
      const status = node.raft ? node.raft.status() : node.status;
      const commitIndex = status?.commitIndex ?? 0;
      return {
        id: node.id,
        running: node.raft !== null,
        isolated: network.isolated.has(node.id),
        status,
        log: node.storage.log.map((e) => ({ index: e.index, term: e.term, type: e.type, command: e.command ?? null, committed: e.index <= commitIndex })),
      };
    });
  },
  leader(): string | null {
    return currentLeader()?.id ?? null;
  },
  network,
  clock,
  timing: TIMING,
  propose,
  stop: stopNode,
  restart: restartNode,
  isolate: isolateNode,
  heal: healNode,
  healAll,
};
(window as unknown as { __webraft: typeof api }).__webraft = api;

// ------------------------------------------------------------------ main loop

buildRing();
buildTable();
buildControls();
for (const node of nodes.values()) startNode(node);
feed(`5 nodes started: heartbeat every ${TIMING.heartbeatFrequency} ms, election timeout ${TIMING.heartbeatTimeout}–${2 * TIMING.heartbeatTimeout} ms`, 'start');

setInterval(() => clock.pump(), 10);
function frame(): void {
  render();
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
