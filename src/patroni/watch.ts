// The Patroni backend's rules of the one monitor: every PATRONI_WATCH_INTERVAL_MS it reads /cluster
// (and probes the leader over SQL and REST) and tells the monitor's alert manager what holds — the
// leader lost (resolved by Patroni's own promotion with the measured time, or the leader back), members
// not running, lag past FAILOVER_MAX_LAG_BYTES, pause, Patroni's REST API unreachable, no replica
// running, the write endpoint not on the leader — and the one-time events: a leader change, discarded
// writes. Dedup, reminders and maintenance muting are the monitor's (src/monitor/alerts.ts); this file
// decides, in Patroni's words. src/patroni/monitoring.ts starts it with the monitor loop.
import type { Reply } from '../chat/reply.js';
import type { Services } from '../core/context.js';
import type { BackendAlerts } from '../monitor/backend.js';
import type { Finding } from '../monitor/rules.js';
import { formatBytes } from '../cluster/lsn.js';
import { COMMAND_BUTTON_PREFIX } from '../core/router.js';
import type { NodeConfig } from '../config.js';
import { isLeader, type PatroniCluster, type PatroniMember } from './client.js';
import { countDiscarded } from './discarded-wal.js';
import { discardedWritesAlert } from './discard-note.js';
import { followLeader } from './endpoint.js';
import { LeaderProbe } from './leader-probe.js';
import { nodeFor, patroniClient } from './snapshot.js';
import { parseHistory, TimelineLedger, type Lineage } from './timelines.js';

export interface PatroniWatch {
  stop(): Promise<void>;
  /** Watch cycles finished so far: "has it looked again since X?" without guessing a duration. */
  readonly ticks: number;
}

const RUNNING = new Set(['running', 'streaming']);
const hms = (ms: number) => new Date(ms).toISOString().slice(11, 19);

interface ProbeResult {
  ok: boolean;
  why: string;
  /** Alert at once: the leader's PostgreSQL did not answer within the probe's deadline. */
  hung?: boolean;
  /** The leader's own timeline and LSN, when SQL answered. */
  timeline?: number | null;
  lsn?: string | null;
  nextXid?: number | null;
  node?: NodeConfig;
}

/** A finding that posts exactly `reply` (the watcher's own words) when it fires. */
function said(rule: string, subject: string, node: string | null, reply: Reply, value: string, next: string, threshold = '–'): Finding {
  return { rule, subject, node, severity: reply.severity === 'crit' ? 'crit' : 'warn', title: reply.title, text: reply.text ?? '', value, threshold, next, post: reply };
}

export class Watcher implements PatroniWatch {
  ticks = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private ticking: Promise<void> = Promise.resolve();
  private lastLeader: string | null = null;
  private lostLeader: string | null = null;
  private lostAt: number | null = null;
  private failedProbes = 0;
  private downAlerted = false;
  private unreachable = false;
  private paused: boolean | null = null;
  private readonly seen = new Set<string>();
  private readonly notRunning = new Set<string>();
  private readonly lagging = new Set<string>();
  private readonly sqlSeen = new Set<string>();
  private readonly strikes = new Map<string, number>();
  private readonly sql: LeaderProbe;
  private readonly ledger = new TimelineLedger();
  private noReplicaTicks = 0;
  private noReplicaAlerted = false;
  /** What holds now, by alert key; each look ends by handing it to the monitor's alert manager. */
  private readonly holding = new Map<string, Finding>();
  /** The messages of alerts this look resolved. */
  private resolutions: Record<string, Reply> = {};
  private downKey: string | null = null;

  constructor(
    private readonly services: Services,
    private readonly alerts: BackendAlerts,
  ) {
    this.sql = new LeaderProbe(services.config);
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.ticking = this.tick()
        .catch((err: unknown) => this.services.log.error({ err }, 'patroni watch tick failed'))
        .finally(() => {
          this.ticks++;
          if (!this.stopped) this.timer = setTimeout(loop, this.services.config.PATRONI_WATCH_INTERVAL_MS);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    this.sql.close();
  }

  private hold(f: Finding): void {
    this.holding.set(`${f.rule}:${f.subject}`, f);
  }

  /** The condition `key` no longer holds; `reply` is what to say (else the generic "Resolved — …"). */
  private clear(key: string, reply?: Reply): void {
    if (!this.holding.delete(key)) return;
    if (reply) this.resolutions[key] = reply;
  }

  private async event(f: Finding): Promise<void> {
    this.services.log.info({ rule: f.rule, title: f.title }, 'patroni watch event');
    await this.alerts.event(f);
  }

  private async tick(): Promise<void> {
    try {
      await this.look(Date.now());
    } finally {
      // After its first look the watch knows what holds: older alerts it no longer finds are resolved.
      const resolutions = this.resolutions;
      this.resolutions = {};
      await this.alerts.reconcile([...this.holding.values()], { resolveMissing: this.ticks >= 1, resolutions });
    }
  }

  private async look(at: number): Promise<void> {
    let cluster: PatroniCluster;
    try {
      cluster = (await patroniClient(this.services).cluster()).cluster;
    } catch (e) {
      this.unreachable = true;
      const reply: Reply = { title: 'Patroni API unreachable', severity: 'crit', text: `${(e as Error).message}. The bot cannot see leader changes until a member answers.` };
      this.hold(said('patroni_unreachable', 'cluster', null, reply, (e as Error).message, 'check that a Patroni member answers on PATRONI_URLS (curl <url>/cluster)'));
      return;
    }
    if (this.unreachable) {
      this.unreachable = false;
      this.clear('patroni_unreachable:cluster', { title: 'Patroni API reachable again', severity: 'ok', text: 'The bot sees the cluster again.' });
    }
    this.watchPause(cluster);
    await this.watchLeader(cluster, at);
    if (!this.paused && !this.planned()) await this.watchMembers(cluster);
  }

  private async watchLeader(cluster: PatroniCluster, at: number): Promise<void> {
    const leader = cluster.members.find(isLeader);
    // An operation of this bot that was running when this look began, or is now, explains an outage.
    const planned = this.planned();
    const probe: ProbeResult = leader ? await this.probe(leader) : { ok: false, why: 'the cluster has no leader key' };
    if (!probe.ok) {
      if (this.failedProbes++ === 0) this.lostAt = at;
      this.lostLeader ??= leader?.name ?? this.lastLeader;
      // One refused probe can be a hiccup; two in a row, a leader silent past the deadline, or no leader at all, is a lost leader.
      if (!this.downAlerted && !planned && !this.planned() && (this.failedProbes >= 2 || probe.hung || !leader)) {
        this.downAlerted = true;
        const name = this.lostLeader ?? 'unknown';
        const ttl = this.paused ? 'Patroni is PAUSED, so it will not fail over on its own.' : 'Patroni promotes a replica once the leader key expires (ttl), unless it is paused.';
        this.downKey = `primary_down:${name}`;
        const reply: Reply = {
          title: `Primary down: ${name}`,
          severity: 'crit',
          text: probe.hung ? `${probe.why} (since ${hms(this.lostAt!)} UTC). ${ttl}` : `The Patroni leader ${name} stopped answering at ${hms(this.lostAt!)} UTC (${probe.why}). ${ttl}`,
          fields: [{ label: 'Next step', value: 'watch for the promotion message here; /cluster status; /cluster failover forces a candidate now' }],
          buttons: [{ actionId: `${COMMAND_BUTTON_PREFIX}/cluster failover`, label: 'Start failover…', style: 'danger' }],
          data: { alert: 'primary_down', node: name, lostAt: new Date(this.lostAt!).toISOString() },
        };
        this.hold({ ...said('primary_down', name, name, reply, probe.why, 'watch for the promotion message here; /cluster status; /cluster failover forces a candidate now'), failover: true });
      }
      return;
    }
    const name = leader!.name;
    // The write endpoint follows a leader that answers; the bot's own change repoints it itself.
    if (probe.node && !planned && !this.planned()) await this.followEndpoint(probe.node);
    if (probe.node && probe.timeline && probe.lsn) await this.watchTimeline(name, probe.node, { timeline: probe.timeline, lsn: probe.lsn, xid: probe.nextXid ?? null }, at);
    if (this.lostAt !== null && this.downAlerted && name !== this.lostLeader) {
      const secs = (at - this.lostAt) / 1000;
      this.clear(this.downKey!, {
        title: `Patroni promoted ${name} at ${hms(at)}, ${secs.toFixed(1)} s after the leader was lost`,
        severity: 'warn',
        text: `${this.lostLeader ?? 'The old leader'} stopped answering at ${hms(this.lostAt)} UTC; Patroni failed over on its own and ${name} now accepts writes. The old leader rejoins as a replica when its Patroni comes back (else /cluster rejoin ${this.lostLeader ?? '<node>'}).`,
        data: { alert: 'patroni_promoted', node: name, from: this.lostLeader, lostAt: new Date(this.lostAt).toISOString(), promotedAt: new Date(at).toISOString(), seconds: secs },
      });
    } else if (this.lostAt !== null && this.downAlerted) {
      this.clear(this.downKey!, { title: `Primary ${name} is back`, severity: 'ok', text: `${name} answers again and is still the leader; no failover happened.`, data: { alert: 'primary_back', node: name } });
    } else if (this.lastLeader !== null && name !== this.lastLeader) {
      const reply: Reply = { title: `Leader changed: ${this.lastLeader} → ${name}`, severity: 'info', text: `Patroni now runs ${name} as the leader (a switchover, or a failover the bot did not see start).`, data: { alert: 'leader_changed', from: this.lastLeader, node: name } };
      await this.event(said('leader_changed', name, name, reply, `${this.lastLeader} → ${name}`, '/cluster status'));
    }
    this.failedProbes = 0;
    this.lostAt = null;
    this.lostLeader = null;
    this.downAlerted = false;
    this.downKey = null;
    this.lastLeader = name;
  }

  /**
   * Is the leader alive? Its SQL first, under PATRONI_PROBE_TIMEOUT_MS (a frozen PostgreSQL keeps
   * its Patroni answering /cluster until the leader key expires); its own REST API when the bot has
   * no SQL view of it.
   */
  private async probe(leader: PatroniMember): Promise<ProbeResult> {
    if (!RUNNING.has(leader.state)) return { ok: false, why: `Patroni reports it ${leader.state || 'without a state'}` };
    const node = nodeFor(leader, this.services.config.nodes);
    if (node) {
      const s = await this.sql.sample(node);
      if (s.ok) {
        this.sqlSeen.add(node.name);
        if (s.inRecovery) return { ok: false, why: 'it is still read-only (promotion under way)' };
        return { ok: true, why: '', timeline: s.timeline, lsn: s.lsn, nextXid: s.nextXid, node };
      }
      // Unreachable over SQL from here only counts when the bot could reach it before.
      if (this.sqlSeen.has(node.name)) {
        if (s.timedOut && (await this.stillLeader(leader.name))) return { ok: false, hung: true, why: `leader ${leader.name} does not answer SQL (${s.message}); Patroni still reports it leader` };
        return { ok: false, why: `SQL: ${s.message}` };
      }
    }
    if (!leader.api_url) return { ok: true, why: '' };
    try {
      const own = await patroniClient(this.services).node(leader.api_url);
      return RUNNING.has(own.state) ? { ok: true, why: '' } : { ok: false, why: `its Patroni reports PostgreSQL ${own.state}` };
    } catch (e) {
      return { ok: false, why: `its Patroni REST API: ${(e as Error).message}` };
    }
  }

  /** Patroni's word now, not at the start of this look (a switchover may have moved the leader meanwhile). */
  private async stillLeader(name: string): Promise<boolean> {
    return patroniClient(this.services)
      .cluster()
      .then(({ cluster }) => cluster.members.find(isLeader)?.name === name)
      .catch(() => false);
  }

  /** Record the leader's timeline and LSN; on a new leader or timeline, say which seen writes its history lacks. */
  private async watchTimeline(name: string, node: NodeConfig, seen: { timeline: number; lsn: string; xid: number | null }, at: number): Promise<void> {
    const { timeline, lsn, xid } = seen;
    if (!this.ledger.isNew(timeline) && name === this.lastLeader) {
      this.ledger.see(name, timeline, lsn, xid, at);
      return;
    }
    const lineage = timeline > 1 ? await this.lineage(node, timeline) : new Map<number, string>();
    const start = [...lineage.entries()].sort((a, b) => b[0] - a[0])[0]?.[1] ?? null;
    const ranges = this.ledger.discardedBy(timeline, lineage, at);
    this.ledger.see(name, timeline, lsn, xid, at, start);
    if (!ranges.length) return;
    // The member that wrote the range first: it is the likeliest to still hold the WAL.
    const others = this.services.config.nodes.filter((n) => n.name !== node.name);
    const counts = await Promise.all(
      ranges.map((r) => countDiscarded(this.services, r, [...others.filter((n) => n.name === r.leader), ...others.filter((n) => n.name !== r.leader)])),
    );
    const reply = discardedWritesAlert(name, timeline, ranges, counts);
    await this.event(said('writes_discarded', `${name}:${timeline}`, name, reply, ranges.map((r) => `${r.from}–${r.to}`).join(', '), reply.fields?.find((f) => f.label === 'Next step')?.value ?? ''));
  }

  /** The leader's timeline history (where each ancestor timeline was left), or empty when unreadable. */
  private async lineage(node: NodeConfig, timeline: number): Promise<Lineage> {
    const file = `pg_wal/${timeline.toString(16).toUpperCase().padStart(8, '0')}.history`;
    const r = await this.sql.rows<{ h: string }>(node, 'SELECT pg_read_file($1) AS h', [file]);
    return r.ok ? parseHistory(r.rows[0].h) : new Map();
  }

  private async followEndpoint(leader: NodeConfig): Promise<void> {
    const r = await followLeader(this.services, leader);
    if (r?.ok) this.services.audit.record({ kind: 'auto', user: 'clusterbot', platform: 'system', command: 'patroni-watch', outcome: 'endpoint repointed', detail: r.line });
    for (const key of this.holding.keys()) if (key.startsWith('endpoint_not_repointed:') && (!r || r.ok || key !== `endpoint_not_repointed:${leader.name}`)) this.clear(key);
    if (r && !r.ok) {
      const reply: Reply = { title: `Write endpoint not on the leader ${leader.name}`, severity: 'crit', text: r.line, data: { alert: 'endpoint_not_repointed', node: leader.name } };
      this.hold(said('endpoint_not_repointed', leader.name, leader.name, reply, r.line, 'see /cluster status (Write endpoint) and the PgBouncer log under CLUSTERBOT_HOME'));
    }
  }

  /** A switchover, failover or restart this bot is running: its brief outages are not alerts. */
  private planned(): boolean {
    return Boolean(this.services.patroni.leaderChange ?? this.services.patroni.memberOp);
  }

  private watchPause(cluster: PatroniCluster): void {
    const paused = cluster.pause === true;
    if (paused) {
      const reply: Reply = {
        title: 'Patroni paused (maintenance on)',
        severity: 'warn',
        text: 'No automatic failover until it is resumed (/cluster maintenance off). Member and lag alerts are muted meanwhile.',
        data: { alert: 'patroni_paused' },
      };
      this.hold(said('patroni_paused', 'cluster', null, reply, 'pause: true', '/cluster maintenance off when the work is done'));
    } else {
      this.clear('patroni_paused:cluster', { title: 'Patroni resumed (maintenance off)', severity: 'ok', text: 'Automatic failover is on again.', data: { alert: 'patroni_resumed' } });
    }
    this.paused = paused;
  }

  private async watchMembers(cluster: PatroniCluster): Promise<void> {
    const limit = this.services.config.FAILOVER_MAX_LAG_BYTES;
    const present = new Set(cluster.members.map((m) => m.name));
    for (const name of this.seen) {
      if (present.has(name) || this.notRunning.has(name) || name === this.lostLeader) continue;
      this.notRunning.add(name);
      const reply: Reply = { title: `Patroni member ${name} is gone`, severity: 'warn', text: `${name} no longer registers in Patroni (its Patroni is not running, or it cannot reach the DCS).`, data: { alert: 'member_missing', node: name } };
      this.hold(said('member_not_running', name, name, reply, 'not registered in Patroni', `start patroni on ${name}'s host; /cluster status`));
    }
    for (const m of cluster.members) {
      this.seen.add(m.name);
      const running = RUNNING.has(m.state);
      // Transient states (starting, restarting) are common: alert on the second tick in a row.
      const strikes = running ? 0 : (this.strikes.get(m.name) ?? 0) + 1;
      this.strikes.set(m.name, strikes);
      if (!running && strikes >= 2 && !this.notRunning.has(m.name) && !(isLeader(m) && this.downAlerted)) {
        this.notRunning.add(m.name);
        const reply: Reply = { title: `Patroni member ${m.name} is ${m.state || 'not running'}`, severity: 'warn', text: `Patroni reports ${m.name} (${m.role}) as ${m.state || 'without a state'}. See /cluster status.`, data: { alert: 'member_stopped', node: m.name, state: m.state } };
        this.hold(said('member_not_running', m.name, m.name, reply, m.state || 'no state', '/cluster status; the member\'s PostgreSQL log on its host'));
      } else if (running && this.notRunning.delete(m.name)) {
        this.clear(`member_not_running:${m.name}`, { title: `Patroni member ${m.name} is running again`, severity: 'ok', text: `${m.name} runs as ${m.role}.`, data: { alert: 'member_running', node: m.name } });
      }
      const lag = typeof m.lag === 'number' ? m.lag : null;
      if (lag !== null && lag > limit && !this.lagging.has(m.name)) {
        this.lagging.add(m.name);
        const reply: Reply = { title: `${m.name} is ${formatBytes(lag)} behind the leader`, severity: 'warn', text: `More than FAILOVER_MAX_LAG_BYTES (${formatBytes(limit)}): Patroni will not pick it for a failover while it lags this much.`, data: { alert: 'lag', node: m.name, lagBytes: lag } };
        this.hold(said('failover_lag', m.name, m.name, reply, formatBytes(lag), `/cluster status; why ${m.name} falls behind (its log, its disk, the network)`, `FAILOVER_MAX_LAG_BYTES=${formatBytes(limit)}`));
      } else if (lag !== null && lag <= limit && this.lagging.delete(m.name)) {
        this.clear(`failover_lag:${m.name}`, { title: `${m.name} caught up`, severity: 'ok', text: `${m.name} is ${formatBytes(lag)} behind.`, data: { alert: 'lag_resolved', node: m.name } });
      }
    }
    await this.watchReplicas(cluster);
  }

  /** Every member but the leader stopped, failing to start or gone: the next fault loses the cluster. */
  private async watchReplicas(cluster: PatroniCluster): Promise<void> {
    const leader = cluster.members.find(isLeader)?.name ?? null;
    const replicas = [...this.seen].filter((n) => n !== leader);
    if (!replicas.length) return;
    const state = (n: string) => cluster.members.find((m) => m.name === n)?.state || 'gone';
    const running = replicas.filter((n) => RUNNING.has(state(n)));
    // Members cycle through "starting" and "running" while they retry: two looks in a row either way.
    this.noReplicaTicks = running.length ? Math.min(0, this.noReplicaTicks) - 1 : Math.max(0, this.noReplicaTicks) + 1;
    const states = replicas.map((n) => `${n} ${state(n)}`).join(', ');
    if (this.noReplicaTicks >= 2 && !this.noReplicaAlerted) {
      this.noReplicaAlerted = true;
      const reply: Reply = {
        title: 'No replica running',
        severity: 'crit',
        text: `${leader ?? 'The leader'} is the only member running (${states}): nothing can take over, and every acknowledged write exists once.`,
        fields: [{ label: 'Next step', value: `/cluster status; read the failing member's PostgreSQL log on its host (Patroni: "start failed"); /cluster rejoin ${replicas[0]} re-clones it from the leader` }],
        data: { alert: 'no_replica_running', leader, replicas: replicas.map((n) => ({ name: n, state: state(n) })) },
      };
      this.hold(said('no_replica_running', 'cluster', leader, reply, states, reply.fields![0].value));
    } else if (this.noReplicaTicks <= -2 && this.noReplicaAlerted) {
      this.noReplicaAlerted = false;
      this.clear('no_replica_running:cluster', { title: 'Resolved — No replica running', severity: 'ok', text: `Running again: ${running.join(', ')}.`, data: { alert: 'no_replica_running_resolved', running } });
    }
  }
}
