// A primary container that is alive but answers nothing, under a write load, with an independent
// watcher sampling every node for pg_is_in_recovery() = false all along: `docker pause` of the
// primary, then (roles swapped back by a rejoin) `docker network disconnect` of the new primary while
// the engine still answers. Each time the engine shows the node cannot answer (paused; on no network),
// so the confirmed failover fences it through the engine at once, with no probe (docker kill: works
// on a paused container and on a disconnected one), done at the engine's die event, and the card says so; the
// thaw (`docker unpause`, `docker start`, the network reconnected) never brings a second writable node.
// Last, a primary that answers while its children are frozen: the clean stop is cut after 1 s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reply } from '../../src/chat/reply.js';
import { principal } from '../helpers/cluster.js';
import { newDockerCluster, sh, upWithTwoReplicas, type DockerCluster } from '../helpers/docker.js';
import { WritableWatcher, WriteLoad } from '../helpers/load.js';
import { eventually } from '../helpers/wait.js';

interface Step {
  step: string;
  ms: number;
  ok: boolean;
  detail: string;
}

const stepsOf = (r: Reply) => (r.data as { steps?: Step[] } | undefined)?.steps ?? [];
/**
 * The card's fence line when the engine shows the node cannot answer (paused, or on no network): no
 * probe, docker kill at once, done at the engine's die event (before its network and mount teardown).
 */
const fencedByKill = (node: string, why: string) =>
  new RegExp(`^${node} is frozen \\(${why}\\) → docker kill \\(\\d+ ms\\), its container died \\(the engine's die event, exit 137: no process of it is left\\), fenced by marker in the fence directory, restart policy off once the engine has released the container`);

describe('a hung primary container (docker pause, docker network disconnect)', () => {
  let c: DockerCluster;
  let watcher: WritableWatcher;
  const snapshot = () => c.app.services.snapshot();
  const nodeOf = async (name: string) => (await snapshot()).nodes.find((n) => n.name === name)!;

  /** The failover card for `target`, confirmed: the fence step of `old`. */
  async function failOver(old: string, target: string): Promise<Step> {
    const card = await c.run(`/cluster failover ${target}`);
    expect(card.failed, card.text).toBeFalsy();
    const done = await c.press(card.buttons![0].actionId, principal('alice'));
    const steps = stepsOf(done);
    expect(done.failed, `${done.title}\n${done.text}\n${JSON.stringify(steps, null, 1)}`).toBeFalsy();
    expect(done.title).toMatch(new RegExp(`^Failover (done|done with warnings) — ${target} is the primary`));
    console.info(`[docker hung] ${old} → ${target}: ${steps.map((s) => `${s.step}=${s.ms}ms`).join(', ')}\n  fence: ${steps.find((s) => s.step === `fence ${old}`)?.detail}`);
    return steps.find((s) => s.step === `fence ${old}`)!;
  }

  async function onlyWritable(node: string): Promise<void> {
    await watcher.moreSamples(20);
    expect(watcher.splitBrain, 'samples with two writable nodes').toEqual([]);
    expect(watcher.samples.at(-1)?.writable).toEqual([node]);
  }

  beforeAll(async () => {
    c = await newDockerCluster('hung');
    await upWithTwoReplicas(c);
    await c.sql('primary', 'CREATE TABLE proyecto.carga (id bigint PRIMARY KEY, nodo text NOT NULL, at timestamptz NOT NULL DEFAULT now())');
    watcher = new WritableWatcher(c.config).start();
  });
  afterAll(async () => {
    await watcher?.stop();
    await c?.destroy();
  });

  it('docker pause of the primary under write load → failover confirmed → fenced by docker kill; unpause and start never give two writable nodes', async () => {
    const load = new WriteLoad(c.config, 1).start();
    const primary = await c.container('primary');
    try {
      await load.waitAcked(100);
      await sh('docker', ['pause', primary]);
      const fence = await failOver('primary', 'standby');
      expect(fence.detail).toMatch(fencedByKill('primary', 'its container is paused'));
      await load.waitAcked(50); // the load found the new primary
    } finally {
      await load.stop();
    }
    // The rest of the fence, once the engine has released the container: its restart policy off.
    await eventually('the restart policy of the killed container off', async () => (await sh('docker', ['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', primary])).stdout.trim(), (p) => p === 'no', { timeoutMs: 60_000 });
    // The thaw an operator (or an orchestrator) might try: unpause has nothing left to unpause.
    await expect(sh('docker', ['unpause', primary])).rejects.toThrow(/not paused|not running/);
    await sh('docker', ['start', primary]);
    await eventually('the old primary answering again', () => nodeOf('primary'), (n) => n.up, { timeoutMs: 120_000 });
    expect((await nodeOf('primary')).role).not.toBe('primary');
    await onlyWritable('standby');
  });

  it('docker network disconnect of the primary (the engine still answers) → fenced through the engine; reconnected and started, it stays read-only', async () => {
    const rejoin = await c.run('/cluster rejoin primary', principal('olga'));
    expect(rejoin.failed, `${rejoin.title}\n${rejoin.text}`).toBeFalsy();
    await eventually('primary streaming from standby', () => nodeOf('primary'), (n) => n.streaming && n.upstream === 'standby', { timeoutMs: 60_000 });
    const load = new WriteLoad(c.config, 1_000_000).start();
    const standby = await c.container('standby');
    try {
      await load.waitAcked(100);
      await sh('docker', ['network', 'disconnect', c.runtime.networkName, standby]);
      const fence = await failOver('standby', 'primary');
      expect(fence.detail).toMatch(fencedByKill('standby', 'its container is cut off from every network'));
      await load.waitAcked(50);
    } finally {
      await load.stop();
    }
    await sh('docker', ['network', 'connect', c.runtime.networkName, standby]);
    await sh('docker', ['start', standby]);
    await eventually('the old primary answering again', () => nodeOf('standby'), (n) => n.up, { timeoutMs: 120_000 });
    expect((await nodeOf('standby')).role).not.toBe('primary');
    await onlyWritable('primary');
  });

  it('the primary answers but its children are frozen (SIGSTOP inside the container): the fast stop is cut after 1 s by the engine\'s SIGKILL', async () => {
    const rejoin = await c.run('/cluster rejoin standby', principal('olga'));
    expect(rejoin.failed, `${rejoin.title}\n${rejoin.text}`).toBeFalsy();
    await eventually('standby streaming from primary', () => nodeOf('standby'), (n) => n.streaming && n.upstream === 'primary', { timeoutMs: 60_000 });
    const load = new WriteLoad(c.config, 2_000_000).start();
    try {
      await load.waitAcked(100);
      // Every child of the postmaster, as root inside the node's container (its own pid namespace).
      const freeze = 'pm=$(head -n1 "$PGDATA/postmaster.pid"); n=0; for d in /proc/[0-9]*; do set -- $(cat "$d/stat" 2>/dev/null); if [ "$4" = "$pm" ]; then kill -STOP "${d#/proc/}" && n=$((n+1)); fi; done; echo "$n"';
      const { stdout } = await sh('docker', ['exec', '-u', 'root', await c.container('primary'), 'sh', '-c', freeze]);
      expect(Number(stdout.trim()), 'children frozen').toBeGreaterThan(3);
      const fence = await failOver('primary', 'standby');
      // Frozen children never let the fast shutdown finish: docker stop -t 1 ends in the engine's SIGKILL.
      expect(fence.detail).toMatch(/^primary (answered in \d+ ms → fast stop \(no exit within 1 s\), then the engine's SIGKILL \(\d+ ms\)|did not answer in \d+ ms[^→]* → docker kill \(\d+ ms\)), its container (is not running \(exited, exit 137\)|died \(the engine's die event, exit 137: no process of it is left\)), fenced by marker in the fence directory/);
      await load.waitAcked(50);
    } finally {
      await load.stop();
    }
    await onlyWritable('standby');
  });
});
