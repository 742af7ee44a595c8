/**
 * What a leader knows about one follower's log (§5.3, etcd's tracker.Progress).
 *
 * - `probe`: the leader does not know where the logs match; it sends one
 *   AppendEntries at a time and backs off on rejection.
 * - `replicate`: the logs match up to `matchIndex`; the leader streams
 *   entries optimistically, at most `maxInflight` messages unacknowledged.
 * - `snapshot`: the follower needs entries the leader has compacted; the
 *   leader streams an InstallSnapshot in chunks.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  /** Invariant: 0 <= matchIndex < nextIndex. */
  matchIndex = 0;
  nextIndex: number;
  state: ProgressState = 'probe';
  /** Last index of each AppendEntries in flight, oldest first (replicate state). */
  readonly inflight: number[] = [];
  /** In probe state: a probe was sent and its answer is awaited. */
  probeSent = false;
  /** Logical time the last probe or snapshot chunk was sent (to retry lost ones). */
  lastSendAt = 0;
  /** Heard from since the last CheckQuorum round (§6.2 of the dissertation, etcd CheckQuorum). */
  recentActive = false;
  /** Snapshot being sent: its index and how many bytes the follower holds. */
  snapshotIndex = 0;
  snapshotOffset = 0;
  /**
   * The snapshot being streamed and its serialized bytes, kept until the
   * transfer finishes even if the leader compacts again meanwhile (otherwise a
   * busy leader could restart a slow follower's transfer forever).
   */
  sendingSnapshot: { snapshot: { index: number; term: number; configuration: { voters: string[]; learners: string[] } }; bytes: Uint8Array } | null = null;

  /** Commit index last sent to this follower. */
  commitSent = 0;

  constructor(nextIndex: number) {
    this.nextIndex = nextIndex;
  }

  becomeProbe(): void {
    this.state = 'probe';
    this.sendingSnapshot = null;
    this.nextIndex = this.matchIndex + 1;
    this.inflight.length = 0;
    this.probeSent = false;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.sendingSnapshot = null;
    this.nextIndex = this.matchIndex + 1;
    this.inflight.length = 0;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.state = 'snapshot';
    this.snapshotIndex = snapshotIndex;
    this.snapshotOffset = 0;
    this.inflight.length = 0;
  }

  /** Records an acknowledged match; returns true when it advanced. */
  maybeUpdate(matchIndex: number): boolean {
    let updated = false;
    if (matchIndex > this.matchIndex) {
      this.matchIndex = matchIndex;
      updated = true;
      this.probeSent = false;
    }
    if (this.nextIndex < matchIndex + 1) this.nextIndex = matchIndex + 1;
    while (this.inflight.length > 0 && this.inflight[0] <= matchIndex) this.inflight.shift();
    return updated;
  }

  /** True when the leader may send another AppendEntries carrying entries. */
  canSend(maxInflight: number): boolean {
    if (this.state === 'probe') return !this.probeSent;
    if (this.state === 'replicate') return this.inflight.length < maxInflight;
    return false;
  }
}
