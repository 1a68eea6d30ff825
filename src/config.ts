// The configuration schema: every key, its default and its validation, in one place.
// `.env.example` documents the same keys; test/unit/config.test.ts keeps the two in step.
import { resolve } from 'node:path';
import { userInfo } from 'node:os';
import { z } from 'zod';
import { UserError } from './errors.js';

export const NODE_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

export interface NodeConfig {
  name: string;
  host: string;
  port: number;
  /** May this node be promoted? The initial primary and plain replicas: yes; "nofailover" nodes: never. */
  failover: boolean;
  /** Index in CLUSTER_NODES; the first node is the one initialised as primary. */
  index: number;
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));
const port = z.coerce.number({ error: 'must be a port number' }).int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const list = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));
const level = z.enum(['viewer', 'operator', 'admin']);
const secret = z.string().min(8, 'must be at least 8 characters (generate one: openssl rand -hex 16)');

const nodeList = z.string().transform((value, ctx) => {
  const nodes: NodeConfig[] = [];
  for (const [index, raw] of value.split(',').map((s) => s.trim()).filter(Boolean).entries()) {
    const m = /^([^@:\s]+)(?:@([^:\s]+))?:(\d{1,5})(?::(failover|nofailover))?$/.exec(raw);
    if (!m || !NODE_NAME.test(m[1]) || Number(m[3]) < 1 || Number(m[3]) > 65535) {
      ctx.addIssue({ code: 'custom', message: `"${raw}" is not name[@host]:port[:nofailover] (name: lowercase letters, digits, - or _)` });
      return z.NEVER;
    }
    nodes.push({ name: m[1], host: m[2] ?? '127.0.0.1', port: Number(m[3]), failover: m[4] !== 'nofailover', index });
  }
  if (nodes.length < 1) ctx.addIssue({ code: 'custom', message: 'needs at least one node' });
  const names = new Set(nodes.map((n) => n.name));
  if (names.size !== nodes.length) ctx.addIssue({ code: 'custom', message: 'node names must be unique' });
  const endpoints = new Set(nodes.map((n) => `${n.host}:${n.port}`));
  if (endpoints.size !== nodes.length) ctx.addIssue({ code: 'custom', message: 'two nodes share host:port' });
  return nodes;
});

export const configSchema = z.object({
  // --- cluster and runtime ---
  CLUSTERBOT_HOME: z.string().default('./.clusterbot'),
  RUNTIME: z.enum(['local', 'docker']).default('local'),
  CLUSTER_NODES: nodeList.prefault('primary:5432,standby:5433,readonly:5434:nofailover'),
  PG_BIN: z.string().optional(),
  PG_DATABASE: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('proyecto_db'),
  POSTGRES_ADMIN_USER: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('admin'),
  POSTGRES_ADMIN_PASSWORD: secret,
  POSTGRES_REPLICATOR_PASSWORD: secret,
  PG_CONNECT_TIMEOUT_MS: positiveInt.default(1500),
  PG_QUERY_TIMEOUT_MS: positiveInt.default(3000),
  BACKUP_DIR: z.string().optional(),

  // --- people and permissions ---
  TERMINAL_USER: z.string().optional(),
  TERMINAL_USER_LEVEL: level.default('admin'),
  ADMINS: list.prefault(''),
  OPERATORS: list.prefault(''),
  VIEWERS: list.prefault(''),
  PENDING_ACTION_TTL_SECONDS: positiveInt.default(120),
  REQUIRE_SECOND_APPROVER: bool.prefault('false'),

  // --- failover ---
  FAILOVER_MAX_LAG_BYTES: z.coerce.number().int().nonnegative().default(16 * 1024 * 1024),

  // --- docker ---
  COMPOSE_PROJECT_NAME: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, - and _').default('clusterbot'),
  DOCKER_IMAGE: z.string().min(1).default('clusterbot/postgres:15'),
  DOCKER_SUBNET: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be an IPv4 CIDR such as 172.20.0.0/16').default('172.20.0.0/16'),

  // --- logs and HTTP ---
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_TO: z.enum(['file', 'stderr']).default('file'),
  HTTP_PORT: port.default(8080),
  HTTP_HOST: z.string().default('127.0.0.1'),
});

type Raw = z.infer<typeof configSchema>;

export interface Config extends Omit<Raw, 'CLUSTER_NODES'> {
  nodes: NodeConfig[];
  home: string;
  backupDir: string;
  walArchiveDir: string;
  terminalUser: string;
  /** Every secret value, for masking in logs and chat. */
  secrets: string[];
}

/** Parse an environment into a Config; every bad key is listed in one UserError. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`);
    throw new UserError(
      `Invalid configuration — ${problems.join('; ')}`,
      'Fix these keys in .env (every key is documented in .env.example).',
    );
  }
  const raw = parsed.data;
  const { CLUSTER_NODES, ...rest } = raw;
  const home = resolve(raw.CLUSTERBOT_HOME);
  const backupDir = resolve(raw.BACKUP_DIR ?? `${home}/backups`);
  const secrets = [raw.POSTGRES_ADMIN_PASSWORD, raw.POSTGRES_REPLICATOR_PASSWORD];
  for (const key of Object.keys(env)) {
    if (/(PASSWORD|TOKEN|SECRET)$/.test(key) && env[key] && env[key]!.length >= 6) secrets.push(env[key]!);
  }
  return {
    ...rest,
    nodes: CLUSTER_NODES,
    home,
    backupDir,
    walArchiveDir: `${backupDir}/wal_archive`,
    terminalUser: raw.TERMINAL_USER ?? safeUserName(),
    secrets: [...new Set(secrets)],
  };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'terminal';
  }
}

export function nodeByName(config: Config, name: string) {
  return config.nodes.find((n) => n.name === name);
}
