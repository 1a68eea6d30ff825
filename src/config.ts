// The configuration schema: every key, its default and its validation, in one place.
// `.env.example` documents the same keys; test/unit/config.test.ts keeps the two in step.
import { resolve } from 'node:path';
import { userInfo } from 'node:os';
import cron from 'node-cron';
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
const percent = z.coerce.number({ error: 'must be a percentage' }).min(0, 'must be a percentage (0-100)').max(100, 'must be a percentage (0-100)');
const snowflake = z.string().regex(/^\d{5,25}$/, 'must be a Discord id (digits; Developer Mode → right-click → Copy ID)');
const cronExpression = z.string().refine((v) => cron.validate(v), {
  error: 'is not a cron expression (5 fields "min hour day month weekday", or 6 with seconds first), e.g. "0 3 * * *"',
});
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

  // --- monitoring and alerts ---
  MONITOR_INTERVAL_SECONDS: z.coerce.number().positive().max(3600).default(5),
  ALERT_REMINDER_MINUTES: z.coerce.number().positive().default(30),
  LAG_BYTES_WARN: z.coerce.number().int().nonnegative().default(16 * 1024 * 1024),
  LAG_BYTES_CRIT: z.coerce.number().int().nonnegative().default(256 * 1024 * 1024),
  LAG_SECONDS_WARN: z.coerce.number().nonnegative().default(60),
  LAG_SECONDS_CRIT: z.coerce.number().nonnegative().default(300),
  NOT_STREAMING_WARN_SECONDS: z.coerce.number().nonnegative().default(15),
  NOT_STREAMING_CRIT_SECONDS: z.coerce.number().nonnegative().default(300),
  ARCHIVER_FAILING_CRIT_MINUTES: z.coerce.number().nonnegative().default(10),
  DISK_USAGE_WARN: percent.default(80),
  DISK_USAGE_CRIT: percent.default(90),
  HEALTH_REPORT_CRON: z
    .string()
    .refine((v) => v === 'off' || cron.validate(v), 'is not a cron expression such as "0 * * * *" (or off)')
    .default('0 * * * *'),
  HEALTH_REPORT_CHANNEL: z.enum(['reports', 'alerts']).default('reports'),
  LAG_HISTORY_HOURS: z.coerce.number().positive().max(24 * 31).default(24),
  // --- slack ---
  SLACK_BOT_TOKEN: z.string().regex(/^xoxb-/, 'must be a bot token (xoxb-…)').optional(),
  SLACK_SIGNING_SECRET: z.string().min(8).optional(),
  SLACK_APP_TOKEN: z.string().regex(/^xapp-/, 'must be an app-level token (xapp-…)').optional(),
  SLACK_MODE: z.enum(['http', 'socket']).optional(),
  SLACK_API_URL: z.url().optional(),
  SLACK_PATH: z.string().regex(/^\/[A-Za-z0-9/_-]*$/).default('/slack/events'),
  SLACK_ALERT_CHANNEL: z.string().optional(),
  SLACK_REPORT_CHANNEL: z.string().optional(),
  SLACK_BACKUP_CHANNEL: z.string().optional(),
  SLACK_ALLOWED_CHANNELS: list.prefault(''),
  SLACK_USER_GROUPS: bool.prefault('false'),
  SLACK_MAX_BODY_BYTES: positiveInt.default(262_144),
  // --- discord ---
  DISCORD_TOKEN: z.string().optional(),
  DISCORD_APPLICATION_ID: snowflake.optional(),
  DISCORD_GUILD_ID: snowflake.optional(),
  DISCORD_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as http://127.0.0.1:8090/api' }).optional(),
  DISCORD_ALLOWED_CHANNELS: list.pipe(z.array(snowflake)).prefault(''),
  DISCORD_ALERT_CHANNEL: snowflake.optional(),
  DISCORD_REPORT_CHANNEL: snowflake.optional(),
  DISCORD_BACKUP_CHANNEL: snowflake.optional(),
  // --- backups ---
  BACKUP_FROM: z.enum(['replica', 'primary']).default('replica'),
  BACKUP_COMPRESSION_LEVEL: z.coerce.number().int().min(1).max(9).default(6),
  BACKUP_RETENTION_DAYS: positiveInt.default(7),
  BACKUP_SCHEDULES: bool.prefault('true'),
  BACKUP_FULL_CRON: cronExpression.default('0 2 * * 0'),
  BACKUP_INCREMENTAL_CRON: cronExpression.default('0 3 * * *'),
  BACKUP_PRUNE_CRON: cronExpression.default('0 4 * * *'),
  // --- patroni backend ---
  CLUSTER_BACKEND: z.enum(['native', 'patroni']).default('native'),
  PATRONI_URLS: list
    .prefault('')
    .refine((urls) => urls.every((u) => /^https?:\/\/[^\s/]+(\/.*)?$/.test(u)), 'must be a comma list of http(s)://host:port URLs of Patroni REST APIs'),
  PATRONI_USERNAME: z.string().optional(),
  PATRONI_PASSWORD: z.string().optional(),
  PATRONI_TIMEOUT_MS: positiveInt.default(3000),
  PATRONI_ACTION_TIMEOUT_SECONDS: positiveInt.default(60),
  PATRONI_WATCH_INTERVAL_MS: positiveInt.default(1000),
  // --- docker ---
  COMPOSE_PROJECT_NAME: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, - and _').default('clusterbot'),
  DOCKER_IMAGE: z.string().min(1).default('clusterbot/postgres:15'),
  DOCKER_SUBNET: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be an IPv4 CIDR such as 172.20.0.0/16').default('172.20.0.0/16'),
  /** The fence directory every node mounts read-only at /fence (default: $CLUSTERBOT_HOME/fence). */
  DOCKER_FENCE_DIR: z.string().optional(),

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
  /** DOCKER_FENCE_DIR, resolved: where the docker runtime writes fence markers. */
  fenceDir: string;
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
    fenceDir: resolve(raw.DOCKER_FENCE_DIR ?? `${home}/fence`),
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
