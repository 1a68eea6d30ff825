// The Patroni watcher: reads /cluster (and probes the leader over REST and SQL) every
// PATRONI_WATCH_INTERVAL_MS and posts what changed to the alerts channel — the leader lost,
// Patroni's own promotion with the measured time, leader changes, stopped members, lag, pause.
// Self-contained: it needs only services and a notifier, not the native monitor. It also runs the
// upkeep the native monitor would for backups and /cluster lag (src/patroni/upkeep.ts).
import type { Reply } from '../chat/reply.js';
import type { Notifier } from '../chat/notifier.js';
import type { Services } from '../core/context.js';
import { formatBytes } from '../cluster/lsn.js';
import { COMMAND_BUTTON_PREFIX } from '../core/router.js';
import { isLeader, type PatroniCluster, type PatroniMember } from './client.js';
import { nodeFor, patroniClient } from './snapshot.js';
import { PatroniUpkeep } from './upkeep.js';

export interface PatroniWatch {
  stop(): Promise<void>;
  /** Watch cycles finished so far: "has it looked again since X?" without guessing a duration. */
  readonly ticks: number;
}

const RUNNING = new Set(['running', 'streaming']);
const hms = (ms: number) => new Date(ms).toISOString().slice(11, 19);

interface LeaderProbe {
  ok: boolean;
  why: string;
}

/** Start watching when CLUSTER_BACKEND=patroni; null otherwise. */
export function startPatroniWatch(app: { services: Services; notifier: Notifier }): PatroniWatch | null {
  if (app.services.config.CLUSTER_BACKEND !== 'patroni') return null;
  const watcher = new Watcher(app.services, app.notifier);
  watcher.start();
  return watcher;
}

class Watcher implements PatroniWatch {
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
  private readonly upkeep: PatroniUpkeep;

  constructor(
    private readonly services: Services,
    private readonly notifier: Notifier,
  ) {
    this.upkeep = new PatroniUpkeep(services, notifier);
  }

  start(): void {
    this.upkeep.start();
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
    await Promise.all([this.ticking, this.upkeep.stop()]);
  }

  private async post(kind: string, reply: Reply): Promise<void> {
    this.services.log.info({ kind, title: reply.title }, 'patroni watch alert');
    this.services.audit.record({ kind: 'auto', user: 'clusterbot', platform: 'system', command: 'patroni-watch', outcome: kind, detail: reply.title });
    await this.notifier.post('alerts', reply);
  }

  private async tick(): Promise<void> {
    const at = Date.now();
    let cluster: PatroniCluster;
    try {
      cluster = (await patroniClient(this.services).cluster()).cluster;
    } catch (e) {
      if (!this.unreachable) {
        this.unreachable = true;
        await this.post('patroni unreachable', { title: 'Patroni API unreachable', severity: 'crit', text: `${(e as Error).message}. The bot cannot see leader changes until a member answers.` });
      }
      return;
    }
    if (this.unreachable) {
      this.unreachable = false;
      await this.post('patroni reachable', { title: 'Patroni API reachable again', severity: 'ok', text: 'The bot sees the cluster again.' });
    }
    await this.watchPause(cluster);
    await this.watchLeader(cluster, at);
    if (!this.paused && !this.planned()) await this.watchMembers(cluster);
  }

  private async watchLeader(cluster: PatroniCluster, at: number): Promise<void> {
    const leader = cluster.members.find(isLeader);
    const probe: LeaderProbe = leader ? await this.probe(leader) : { ok: false, why: 'the cluster has no leader key' };
    if (!probe.ok) {
      if (this.failedProbes++ === 0) this.lostAt = at;
      this.lostLeader ??= leader?.name ?? this.lastLeader;
      // One failed probe can be a hiccup; two in a row, or no leader at all, is a lost leader.
      if (!this.downAlerted && !this.planned() && (this.failedProbes >= 2 || !leader)) {
        this.downAlerted = true;
        const name = this.lostLeader ?? 'unknown';
        const ttl = this.paused ? 'Patroni is PAUSED, so it will not fail over on its own.' : 'Patroni promotes a replica once the leader key expires (ttl), unless it is paused.';
        await this.post('primary down', {
          title: `Primary down: ${name}`,
          severity: 'crit',
          text: `The Patroni leader ${name} stopped answering at ${hms(this.lostAt!)} UTC (${probe.why}). ${ttl}`,
          fields: [{ label: 'Next step', value: 'watch for the promotion message here; /cluster status; /cluster failover forces a candidate now' }],
          buttons: [{ actionId: `${COMMAND_BUTTON_PREFIX}/cluster failover`, label: 'Start failover…', style: 'danger' }],
          data: { alert: 'primary_down', node: name, lostAt: new Date(this.lostAt!).toISOString() },
        });
      }
      return;
    }
    const name = leader!.name;
    if (this.lostAt !== null && this.downAlerted && name !== this.lostLeader) {
      const secs = (at - this.lostAt) / 1000;
      await this.post('patroni promoted', {
        title: `Patroni promoted ${name} at ${hms(at)}, ${secs.toFixed(1)} s after the leader was lost`,
        severity: 'warn',
        text: `${this.lostLeader ?? 'The old leader'} stopped answering at ${hms(this.lostAt)} UTC; Patroni failed over on its own and ${name} now accepts writes. The old leader rejoins as a replica when its Patroni comes back (else /cluster rejoin ${this.lostLeader ?? '<node>'}).`,
        data: { alert: 'patroni_promoted', node: name, from: this.lostLeader, lostAt: new Date(this.lostAt).toISOString(), promotedAt: new Date(at).toISOString(), seconds: secs },
      });
    } else if (this.lostAt !== null && this.downAlerted) {
      await this.post('primary back', { title: `Primary ${name} is back`, severity: 'ok', text: `${name} answers again and is still the leader; no failover happened.`, data: { alert: 'primary_back', node: name } });
    } else if (this.lastLeader !== null && name !== this.lastLeader) {
      await this.post('leader changed', { title: `Leader changed: ${this.lastLeader} → ${name}`, severity: 'info', text: `Patroni now runs ${name} as the leader (a switchover, or a failover the bot did not see start).`, data: { alert: 'leader_changed', from: this.lastLeader, node: name } });
    }
    this.failedProbes = 0;
    this.lostAt = null;
    this.lostLeader = null;
    this.downAlerted = false;
    this.lastLeader = name;
  }

  /** Is the leader alive? Its own REST API, and SQL writability when the bot has reached it before. */
  private async probe(leader: PatroniMember): Promise<LeaderProbe> {
    if (!RUNNING.has(leader.state)) return { ok: false, why: `Patroni reports it ${leader.state || 'without a state'}` };
    if (leader.api_url) {
      try {
        const own = await patroniClient(this.services).node(leader.api_url);
        if (!RUNNING.has(own.state)) return { ok: false, why: `its Patroni reports PostgreSQL ${own.state}` };
      } catch (e) {
        return { ok: false, why: `its Patroni REST API: ${(e as Error).message}` };
      }
    }
    const node = nodeFor(leader, this.services.config.nodes);
    if (!node) return { ok: true, why: '' };
    try {
      const r = await this.services.pools.query<{ ro: boolean }>(node, 'SELECT pg_is_in_recovery() AS ro');
      this.sqlSeen.add(node.name);
      if (r.rows[0].ro) return { ok: false, why: 'it is still read-only (promotion under way)' };
      return { ok: true, why: '' };
    } catch (e) {
      await this.services.pools.reset(node);
      // Unreachable over SQL from here only counts when the bot could reach it before.
      return this.sqlSeen.has(node.name) ? { ok: false, why: `SQL: ${(e as Error).message}` } : { ok: true, why: '' };
    }
  }

  /** A switchover, failover or restart this bot is running: its brief outages are not alerts. */
  private planned(): boolean {
    return Boolean(this.services.patroni.leaderChange ?? this.services.patroni.memberOp);
  }

  private async watchPause(cluster: PatroniCluster): Promise<void> {
    const paused = cluster.pause === true;
    if (this.paused !== null && paused !== this.paused) {
      await this.post(paused ? 'paused' : 'resumed', {
        title: paused ? 'Patroni paused (maintenance on)' : 'Patroni resumed (maintenance off)',
        severity: paused ? 'warn' : 'ok',
        text: paused ? 'No automatic failover until it is resumed (/cluster maintenance off). Member and lag alerts are muted meanwhile.' : 'Automatic failover is on again.',
        data: { alert: paused ? 'patroni_paused' : 'patroni_resumed' },
      });
    }
    this.paused = paused;
  }

  private async watchMembers(cluster: PatroniCluster): Promise<void> {
    const limit = this.services.config.FAILOVER_MAX_LAG_BYTES;
    const present = new Set(cluster.members.map((m) => m.name));
    for (const name of this.seen) {
      if (present.has(name) || this.notRunning.has(name) || name === this.lostLeader) continue;
      this.notRunning.add(name);
      await this.post('member missing', { title: `Patroni member ${name} is gone`, severity: 'warn', text: `${name} no longer registers in Patroni (its Patroni is not running, or it cannot reach the DCS).`, data: { alert: 'member_missing', node: name } });
    }
    for (const m of cluster.members) {
      this.seen.add(m.name);
      const running = RUNNING.has(m.state);
      // Transient states (starting, restarting) are common: alert on the second tick in a row.
      const strikes = running ? 0 : (this.strikes.get(m.name) ?? 0) + 1;
      this.strikes.set(m.name, strikes);
      if (!running && strikes >= 2 && !this.notRunning.has(m.name) && !(isLeader(m) && this.downAlerted)) {
        this.notRunning.add(m.name);
        await this.post('member stopped', { title: `Patroni member ${m.name} is ${m.state || 'not running'}`, severity: 'warn', text: `Patroni reports ${m.name} (${m.role}) as ${m.state || 'without a state'}. See /cluster status.`, data: { alert: 'member_stopped', node: m.name, state: m.state } });
      } else if (running && this.notRunning.delete(m.name)) {
        await this.post('member running', { title: `Patroni member ${m.name} is running again`, severity: 'ok', text: `${m.name} runs as ${m.role}.`, data: { alert: 'member_running', node: m.name } });
      }
      const lag = typeof m.lag === 'number' ? m.lag : null;
      if (lag !== null && lag > limit && !this.lagging.has(m.name)) {
        this.lagging.add(m.name);
        await this.post('lag', { title: `${m.name} is ${formatBytes(lag)} behind the leader`, severity: 'warn', text: `More than FAILOVER_MAX_LAG_BYTES (${formatBytes(limit)}): Patroni will not pick it for a failover while it lags this much.`, data: { alert: 'lag', node: m.name, lagBytes: lag } });
      } else if (lag !== null && lag <= limit && this.lagging.delete(m.name)) {
        await this.post('lag resolved', { title: `${m.name} caught up`, severity: 'ok', text: `${m.name} is ${formatBytes(lag)} behind.`, data: { alert: 'lag_resolved', node: m.name } });
      }
    }
  }
}
