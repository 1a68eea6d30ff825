// Low-level Docker plumbing for the docker runtime: exec with streamed output and stdin, one-off
// helper containers that share a stopped node's volumes, multiplexed-stream decoding.
import { mkdirSync } from 'node:fs';
import { PassThrough, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { chownTo, postgresOsUser } from './process.js';
import type { ExecOptions, ExecResult } from './runtime.js';

/** Split Docker's multiplexed (non-tty) log/attach format into stdout and stderr text. */
export function demux(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    const len = buf.readUInt32BE(i + 4);
    const chunk = buf.subarray(i + 8, i + 8 + len);
    (type === 2 ? err : out).push(chunk);
    i += 8 + len;
  }
  // Not multiplexed (a tty, or an engine that sent raw text): take it as it is.
  if (i === 0 && buf.length > 0 && (buf[0] > 2 || buf.length < 8)) return { stdout: buf.toString('utf8'), stderr: '' };
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

interface Collected {
  stdout: string;
  stderr: string;
  done: Promise<void>;
}

/** Collect a hijacked multiplexed stream, forwarding every chunk to onOutput as it arrives. */
function collect(docker: Docker, stream: NodeJS.ReadableStream, onOutput?: (chunk: string) => void): Collected {
  const result: Collected = { stdout: '', stderr: '', done: Promise.resolve() };
  const out = new PassThrough();
  const err = new PassThrough();
  out.on('data', (c: Buffer) => {
    const s = c.toString('utf8');
    result.stdout += s;
    onOutput?.(s);
  });
  err.on('data', (c: Buffer) => {
    const s = c.toString('utf8');
    result.stderr += s;
    onOutput?.(s);
  });
  docker.modem.demuxStream(stream, out, err);
  result.done = new Promise<void>((resolve) => {
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    stream.once('error', () => resolve());
  });
  return result;
}

function withTimeout<T>(p: Promise<T>, ms: number | undefined, what: string, onTimeout: () => void): Promise<T> {
  if (!ms) return p;
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`));
    }, ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Run a command in a running container, streaming its output; stdin is written then closed. */
export async function execIn(
  docker: Docker,
  container: Docker.Container,
  cmd: string[],
  opts: ExecOptions & { user?: string; env?: string[] } = {},
): Promise<ExecResult> {
  const exec = await container.exec({
    Cmd: cmd,
    User: opts.user ?? 'postgres',
    WorkingDir: '/tmp',
    Env: opts.env,
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: opts.stdin !== undefined,
    Tty: false,
  });
  const stream = (await exec.start({ hijack: true, stdin: opts.stdin !== undefined })) as Duplex;
  const c = collect(docker, stream, opts.onOutput);
  if (opts.stdin !== undefined) {
    stream.write(opts.stdin);
    stream.end();
  }
  await withTimeout(c.done, opts.timeoutMs, cmd[0], () => stream.destroy());
  const info = await exec.inspect();
  return { code: info.ExitCode ?? -1, stdout: c.stdout, stderr: c.stderr };
}

export interface HelperSpec {
  image: string;
  /** The node container whose volumes the helper mounts (it may be stopped). */
  volumesFrom?: string;
  /** Or volumes by name (`volume:/path`), for a node whose container is gone. */
  binds?: string[];
  network?: string;
  user?: string;
  cmd: string[];
  labels?: Record<string, string>;
}

/** A one-off container on a (stopped) node's volumes, removed afterwards: for work on its data. */
export async function runHelper(docker: Docker, spec: HelperSpec, opts: ExecOptions = {}): Promise<ExecResult> {
  const withStdin = opts.stdin !== undefined;
  const container = await docker.createContainer({
    Image: spec.image,
    Entrypoint: [],
    Cmd: spec.cmd,
    User: spec.user ?? 'postgres',
    WorkingDir: '/tmp',
    Labels: { 'clusterbot.helper': 'true', ...spec.labels },
    OpenStdin: withStdin,
    StdinOnce: withStdin,
    AttachStdin: withStdin,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: { VolumesFrom: spec.volumesFrom ? [spec.volumesFrom] : undefined, Binds: spec.binds, NetworkMode: spec.network ?? 'none', AutoRemove: false },
  });
  try {
    const stream = (await container.attach({ stream: true, stdin: withStdin, stdout: true, stderr: true, hijack: true })) as Duplex;
    const c = collect(docker, stream, opts.onOutput);
    await container.start();
    if (withStdin) {
      stream.write(opts.stdin);
      stream.end();
    }
    const waited = (await withTimeout(container.wait(), opts.timeoutMs, spec.cmd[0], () => {
      container.kill().catch(() => undefined);
    })) as { StatusCode: number };
    await Promise.race([c.done, new Promise((r) => setTimeout(r, 1000).unref())]);
    // The attach stream may lag behind the exit: the container's own log is the complete record.
    const logged = demux((await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer);
    for (const [streamed, full] of [[c.stdout, logged.stdout], [c.stderr, logged.stderr]] as const) {
      if (full.length > streamed.length && full.startsWith(streamed)) opts.onOutput?.(full.slice(streamed.length));
    }
    const longest = (a: string, b: string) => (b.length > a.length ? b : a);
    return { code: waited.StatusCode, stdout: longest(c.stdout, logged.stdout), stderr: longest(c.stderr, logged.stderr) };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * A named volume that is a bind of a host folder (made if missing, owned by the host's postgres
 * when we are root, unless `owner: false`). An existing volume of that name (e.g. made by
 * docker-compose) is used as it is.
 */
export async function ensureBindVolume(
  docker: Docker,
  name: string,
  dir: string,
  labels: Record<string, string>,
  opts: { mode?: number; owner?: boolean } = {},
): Promise<string> {
  try {
    await docker.getVolume(name).inspect();
    return name;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  mkdirSync(dir, { recursive: true, mode: opts.mode ?? 0o750 });
  let owner: ReturnType<typeof postgresOsUser> = null;
  try {
    owner = opts.owner === false ? null : postgresOsUser();
  } catch {
    // root without a postgres account: the folder stays root's; the nodes make their own subfolders
  }
  if (owner) chownTo(dir, owner);
  await docker.createVolume({ Name: name, Driver: 'local', DriverOpts: { type: 'none', o: 'bind', device: dir }, Labels: labels });
  return name;
}

/** Until PostgreSQL accepts connections in the container; a container that exits or crash-loops fails with `tail` (its last log lines). */
export async function waitPgReady(docker: Docker, name: string, container: Docker.Container, timeoutMs: number, tail: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const restarts = (await container.inspect()).RestartCount;
  for (;;) {
    const info = await container.inspect();
    // Exited, or crash-looping under the restart policy: say why instead of waiting.
    if ((!info.State.Running && !info.State.Restarting) || info.RestartCount > restarts) {
      throw new Error(`${name} exited during start (exit ${info.State.ExitCode}): ${await tail()}`);
    }
    if (info.State.Running) {
      const r = await execIn(docker, container, ['pg_isready', '-q', '-h', '/var/run/postgresql', '-U', 'postgres', '-d', 'postgres'], { timeoutMs: 5000 }).catch(() => null);
      if (r?.code === 0) return;
    }
    if (Date.now() > deadline) throw new Error(`${name} did not accept connections within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const isNotFound = (e: unknown) => (e as { statusCode?: number }).statusCode === 404;
export const isNotModified = (e: unknown) => (e as { statusCode?: number }).statusCode === 304;
