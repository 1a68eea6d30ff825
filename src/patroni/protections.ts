// Which of Patroni's protections against a stalled leader coming back are on, from what its REST
// API publishes: the dynamic configuration (GET /config) and each member's version and watchdog
// failure (GET /patroni). docs/patroni.md, "Frozen leaders and protections", says what each does.
import type { Services } from '../core/context.js';
import { formatBytes } from '../cluster/lsn.js';
import type { PatroniMember } from './client.js';
import { patroniClient } from './snapshot.js';

export interface Protection {
  name: string;
  state: 'on' | 'off' | 'unknown';
  detail: string;
}

/** Patroni 3.0.3 stopped a leader whose etcd3 lease expired from overwriting the new leader's key (patroni/patroni#2689). */
const CAS_FIXED = [3, 0, 3];

export function versionAtLeast(version: string, min: number[]): boolean {
  const v = version.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < min.length; i++) if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) > min[i];
  return true;
}

export async function patroniProtections(services: Services, members: PatroniMember[]): Promise<Protection[]> {
  const client = patroniClient(services);
  // A frozen member's /patroni waits on its PostgreSQL: ask all at once, under a short deadline.
  const quick = Math.min(services.config.PATRONI_TIMEOUT_MS, 1500);
  const [config, own] = await Promise.all([
    client.dynamicConfig().catch((e: unknown) => e as Error),
    Promise.all(members.filter((m) => m.api_url).map((m) => client.node(m.api_url!, quick).then((n) => ({ name: m.name, n }), () => null))),
  ]);
  const answered = own.filter((x) => x !== null);
  const version = answered.find((x) => x.n.patroni?.version)?.n.patroni?.version ?? null;
  const failedWatchdog = answered.filter((x) => x.n.watchdog_failed).map((x) => x.name);
  const out: Protection[] = [
    failedWatchdog.length
      ? { name: 'watchdog', state: 'off', detail: `required but not active on ${failedWatchdog.join(', ')}` }
      : { name: 'watchdog', state: 'unknown', detail: 'Patroni publishes it only when a required one fails; a member without /dev/watchdog cannot be reset when it stalls' },
    version === null
      ? { name: 'leader key compare-and-swap', state: 'unknown', detail: 'no member reported its Patroni version' }
      : versionAtLeast(version, CAS_FIXED)
        ? { name: 'leader key compare-and-swap', state: 'on', detail: `Patroni ${version}` }
        : { name: 'leader key compare-and-swap', state: 'unknown', detail: `Patroni ${version}: safe with the etcd v2 API (etcd:), not with etcd3, where a leader that stalled past its TTL takes the key back` },
  ];
  if (config instanceof Error) return [...out, { name: 'dynamic configuration', state: 'unknown', detail: config.message }];
  const flag = (key: string, on: string, off: string): Protection => ({ name: key, state: config[key] === true ? 'on' : 'off', detail: config[key] === true ? on : off });
  const lag = typeof config.maximum_lag_on_failover === 'number' ? config.maximum_lag_on_failover : null;
  return [
    ...out,
    flag('check_timeline', 'a member behind the cluster timeline never wins a leader race', 'a member on an older timeline may win a leader race'),
    flag('synchronous_mode', 'only the synchronous standby is promoted: no acknowledged write lost in a failover', 'asynchronous: a failover loses what the replica had not received (/cluster sync on)'),
    flag('synchronous_mode_strict', 'no write is acknowledged without a synchronous standby', 'with no synchronous standby left the leader acknowledges alone'),
    { name: 'maximum_lag_on_failover', state: lag === null ? 'off' : 'on', detail: lag === null ? 'not set' : `${formatBytes(lag)}: a replica further behind is never promoted` },
    flag('failsafe_mode', 'the leader keeps running through a DCS outage while it reaches every member', 'a DCS outage demotes the leader (safe, not available)'),
  ];
}

/** One line for the status card: what is off or unknown, then what is on. */
export function protectionsLine(list: Protection[]): string {
  const off = list.filter((p) => p.state !== 'on').map((p) => `${p.name} ${p.state.toUpperCase()} (${p.detail})`);
  const on = list.filter((p) => p.state === 'on').map((p) => p.name);
  return [off.length ? `off or unknown: ${off.join('; ')}` : 'all on', on.length ? `on: ${on.join(', ')}` : ''].filter(Boolean).join(' — ');
}
