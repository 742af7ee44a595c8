/**
 * The curated safety mutants of `npm run mutants`: each is a small patch to
 * src/core or src/api that breaks one rule Raft or WebRaft's contract
 * depends on. Every one must be caught by what `npm test` runs.
 */

export interface Replacement {
  /** File relative to the repository root. */
  file: string;
  /** Exact text to replace; must occur exactly once in the file. */
  search: string;
  replace: string;
}

export interface Mutant {
  name: string;
  /** The rule it breaks. */
  rule: string;
  patches: Replacement[];
}

const RAFT = 'src/core/raft.ts';
const API = 'src/api/raft-interface.ts';

export const MUTANTS: Mutant[] = [
  {
    name: 'no-current-term-commit-check',
    rule: 'a leader commits only by counting entries of its own term (§5.4.2, Figure 8)',
    patches: [{ file: RAFT, search: 'if (candidate <= this.log.commitIndex || this.log.termAt(candidate) !== this.term) return false;', replace: 'if (candidate <= this.log.commitIndex) return false;' }],
  },
  {
    name: 'follower-commit-to-last-index',
    rule: 'a follower commits only up to the last entry the leader sent it (§5.3)',
    patches: [{ file: RAFT, search: 'this.maybeFollowCommit(Math.min(body.leaderCommit, lastNew));', replace: 'this.maybeFollowCommit(Math.min(body.leaderCommit, this.log.lastIndex()));' }],
  },
  {
    name: 'truncation-without-conflict',
    rule: 'a follower truncates its log only at a conflicting entry (§5.3)',
    patches: [{ file: 'src/core/log.ts', search: '      if (existing === entry.term) continue;\n', replace: '' }],
  },
  {
    name: 'vote-without-up-to-date-check',
    rule: 'a vote goes only to a candidate whose log is at least as up to date (§5.4.1)',
    patches: [{ file: RAFT, search: '    if (canVote && upToDate) {', replace: '    if (canVote) {' }],
  },
  {
    name: 'two-votes-in-one-term',
    rule: 'a node votes for at most one candidate per term (§5.2)',
    patches: [{ file: RAFT, search: '      (this.votedFor === null && this.leaderId === null) ||', replace: '      this.leaderId === null ||' }],
  },
  {
    // Learners' acknowledgements join the voters' in the commit count, against a majority of the voters.
    name: 'learner-counted-in-commit-quorum',
    rule: 'only voters count toward the commit quorum (dissertation §4.2.1)',
    patches: [
      {
        file: RAFT,
        search: '    const matches: number[] = [];\n    for (const voter of this.configuration.voters) {',
        replace: '    const matches: number[] = [];\n    for (const voter of members(this.configuration)) {',
      },
      {
        file: RAFT,
        search: '    const candidate = majorityMatchIndex(matches);\n',
        replace: '    const candidate = [...matches].sort((x, y) => y - x)[quorumSize(this.configuration.voters.length) - 1];\n',
      },
    ],
  },
  {
    name: 'read-index-before-current-term-commit',
    rule: 'a leader serves ReadIndex only once an entry of its term committed (dissertation §6.4)',
    patches: [
      {
        file: RAFT,
        search: "if (this.internalState !== 'leader' || this.pendingReads.length === 0 || !this.committedInCurrentTerm()) return;",
        replace: "if (this.internalState !== 'leader' || this.pendingReads.length === 0) return;",
      },
    ],
  },
  {
    name: 'lease-after-timeout-now',
    rule: 'no lease reads in a term in which the leader sent a TimeoutNow (§6.4.1, §3.10)',
    patches: [{ file: RAFT, search: '    if (this.timeoutNowSentInTerm === this.term) return false;\n', replace: '' }],
  },
  {
    name: 'message-sent-before-save',
    rule: 'messages that depend on state are sent only after it is durable (§5.1; etcd Ready order)',
    patches: [
      {
        file: API,
        search: '        if (readyNeedsSave(ready)) {\n          await this.storage.save(',
        replace: '        for (const message of ready.messages) this.send(message);\n        ready.messages = [];\n        if (readyNeedsSave(ready)) {\n          await this.storage.save(',
      },
    ],
  },
  {
    name: 'entries-applied-out-of-order',
    rule: 'committed entries are applied in index order, each once (§5.3)',
    patches: [{ file: API, search: '        for (const entry of ready.committedEntries) this.applyQueue.push(entry);', replace: '        for (const entry of [...ready.committedEntries].reverse()) this.applyQueue.push(entry);' }],
  },
  {
    name: 'snapshot-install-moves-commit-back',
    rule: 'installing a snapshot never moves the commit index (or the log) backwards (§7)',
    patches: [
      { file: RAFT, search: '    if (body.lastIncludedIndex <= this.log.commitIndex) {\n      // We already hold everything the snapshot covers.', replace: '    if (false) {\n      // We already hold everything the snapshot covers.' },
      { file: RAFT, search: '    this.log.commitIndex = Math.max(this.log.commitIndex, snapshot.index);', replace: '    this.log.commitIndex = snapshot.index;' },
    ],
  },
  {
    name: 'session-deduplication-off',
    rule: 'a retried or duplicated proposal is applied at most once (dissertation §6.3)',
    patches: [{ file: 'src/core/sessions.ts', search: '    return !duplicate;\n', replace: '    return true;\n' }],
  },
  {
    name: 'role-view-from-two-sources',
    rule: 'state/isLeader/leaderID/currentTerm/status() are one view; a node reports leader only in a term it leads',
    patches: [
      { file: API, search: '  private reportingEvents = false;\n', replace: "  private reportingEvents = false;\n  private processedState: RoleState = 'follower';\n" },
      { file: API, search: '    return this.eventView ? this.eventView.state : this.core.state;', replace: '    return this.eventView ? this.eventView.state : this.processedState;' },
      { file: API, search: '        const ready = this.core.ready();\n', replace: '        const ready = this.core.ready();\n        this.processedState = this.core.state;\n' },
    ],
  },
  {
    name: 'campaign-below-known-commit',
    rule: 'a node whose log ends before an index it knows is committed neither campaigns nor votes for such a candidate (rejoin after data loss)',
    patches: [
      { file: RAFT, search: '    if (this.log.lastIndex() < this.knownCommitIndex) return false;\n', replace: '' },
      { file: RAFT, search: '      body.lastLogIndex >= this.knownCommitIndex;', replace: '      true;' },
    ],
  },
  {
    name: 'request-ids-from-one-each-run',
    rule: "a run's request ids never repeat an earlier run's (answers meant for an earlier run are not taken as this run's)",
    patches: [{ file: 'src/core/request-ids.ts', search: '  return high * 0x10000 + low + 1;', replace: '  return 1;' }],
  },
  {
    name: 'membership-change-before-current-term-commit',
    rule: 'a new leader makes no membership change before an entry of its term committed, nor while an earlier one is uncommitted (dissertation §4.1)',
    patches: [
      { file: RAFT, search: '    this.pendingConfigIndex = this.log.lastIndex();\n', replace: '    this.pendingConfigIndex = 0;\n' },
      {
        file: RAFT,
        search: '      if (!this.committedInCurrentTerm() || this.pendingConfigIndex > this.log.commitIndex) return;',
        replace: '      if (this.pendingConfigIndex > this.log.commitIndex) return;',
      },
    ],
  },
];
