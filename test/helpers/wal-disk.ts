// A WAL disk of its own that can be filled: the node's pg_wal moved onto a small tmpfs (a link in the
// data directory, as a production WAL disk is mounted), then a filler file takes every free byte.
// Needs root (mount). unmount() always works, also after a failure, and is safe to call twice.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeConfig } from '../../src/config.js';
import type { LocalRuntime } from '../../src/runtime/local.js';

export interface WalDisk {
  mount: string;
  /** Fill the disk: a filler file grows until "No space left on device". */
  fill(): void;
  /** Free the filler again. */
  free(): void;
  freeBytes(): number;
  unmount(): void;
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: 'pipe' }).toString();

/** Stops `node`, moves its pg_wal onto a tmpfs `headroomMb` larger than what pg_wal holds now, starts it again. */
export async function walOnTmpfs(runtime: LocalRuntime, node: NodeConfig, headroomMb = 48): Promise<WalDisk> {
  if (process.getuid?.() !== 0) throw new Error('a WAL disk on tmpfs needs root (mount -t tmpfs)');
  const wal = `${runtime.paths(node).data}/pg_wal`;
  await runtime.stop(node, 'fast');
  const usedMb = Number(run('du', ['-sm', wal]).split('\t')[0]);
  const mount = mkdtempSync(join(tmpdir(), `clusterbot-wal-${node.name}-`));
  const owner = statSync(wal);
  run('mount', ['-t', 'tmpfs', '-o', `size=${usedMb + headroomMb}m,mode=0700,uid=${owner.uid},gid=${owner.gid}`, 'tmpfs', mount]);
  let mounted = true;
  const disk: WalDisk = {
    mount,
    fill() {
      try {
        run('dd', ['if=/dev/zero', `of=${mount}/filler`, 'bs=1M']);
      } catch (e) {
        if (!/No space left on device/.test(String((e as { stderr?: Buffer }).stderr))) throw e;
      }
    },
    free() {
      rmSync(`${mount}/filler`, { force: true });
    },
    freeBytes() {
      return Number(run('df', ['--output=avail', '-B1', mount]).trim().split('\n')[1]);
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      run('umount', ['-l', mount]);
      rmSync(mount, { recursive: true, force: true });
    },
  };
  try {
    run('sh', ['-c', 'cp -a "$1"/. "$2"/ && rm -rf "$1" && ln -s "$2" "$1" && chown -h "$3" "$1"', 'sh', wal, mount, `${owner.uid}:${owner.gid}`]);
    await runtime.start(node);
  } catch (e) {
    disk.unmount();
    throw e;
  }
  return disk;
}
