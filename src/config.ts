// The configuration schema: every key, its default, its validation and its description, in one place.
// `.env.example` documents the same keys (test/unit/config.test.ts keeps the two in step), and
// `npm run docs` writes docs/configuration.md from this schema (test/unit/config-docs.test.ts).
import { existsSync } from 'node:fs';
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
  CLUSTERBOT_HOME: z.string().default('./.clusterbot').describe('Where node data, logs, the audit trail and backups live.'),
  RUNTIME: z.enum(['local', 'docker']).default('local').describe('Where the nodes run: local (real postgres processes on this machine) or docker (containers).'),
  CLUSTER_NODES: nodeList.prefault('primary:5432,standby:5433,readonly:5434:nofailover').describe('The nodes as name[@host]:port[:nofailover], comma-separated; the first is initialised as the primary.'),
  PG_BIN: z.string().optional().describe('Folder of the PostgreSQL server binaries (postgres, initdb, pg_basebackup); default: pg_config --bindir, then /usr/lib/postgresql/<ver>/bin.'),
  PG_DATABASE: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('proyecto_db').describe('The cluster database.'),
  POSTGRES_ADMIN_USER: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('admin').describe('The admin role the bot connects as.'),
  POSTGRES_ADMIN_PASSWORD: secret.describe('Password of the admin role; required, at least 8 characters (scripts/start.sh generates it; or: openssl rand -hex 16).'),
  POSTGRES_REPLICATOR_PASSWORD: secret.describe('Password of the replicator role; required, at least 8 characters (scripts/start.sh generates it).'),
  PG_CONNECT_TIMEOUT_MS: positiveInt.default(1500).describe('One deadline for a round of node probes (status, failover preflight, monitor): all nodes are asked at once, connecting and querying included; a node silent by then shows "no answer (timed out after N ms)" (ms).'),
  PG_QUERY_TIMEOUT_MS: positiveInt.default(3000).describe('Query timeout of the bot\'s other queries to a node (ms); status probes end at PG_CONNECT_TIMEOUT_MS.'),
  BACKUP_DIR: z.string().optional().describe('The pgBackRest repository (pgbackrest/, WAL archive included); default: $CLUSTERBOT_HOME/backups. With RUNTIME=docker and the bot on the host, set it to the folder compose binds (./backups).'),

  // --- people and permissions ---
  TERMINAL_USER: z.string().optional().describe('Who you are in the terminal chat; default: your OS user name.'),
  TERMINAL_USER_LEVEL: level.default('admin').describe('The terminal user\'s level.'),
  ADMINS: list.prefault('').describe('Comma-separated ids: terminal user names, slack:U…, slack-group:S…, discord:…, discord-role:….'),
  OPERATORS: list.prefault('').describe('Comma-separated ids, as for ADMINS.'),
  VIEWERS: list.prefault('').describe('Comma-separated ids, as for ADMINS.'),
  PENDING_ACTION_TTL_SECONDS: positiveInt.default(120).describe('Seconds a confirmation button stays valid.'),
  REQUIRE_SECOND_APPROVER: bool.prefault('false').describe('true: whoever asked for a failover cannot confirm it themselves.'),
  RESET_ENABLED: bool.prefault('false').describe('true: /cluster reset may delete every node\'s data and start a fresh cluster (lab and staging clusters). Off by default, so a production cluster cannot be wiped from chat unless someone turned this on deliberately.'),

  // --- failover ---
  FAILOVER_MAX_LAG_BYTES: z.coerce.number().int().nonnegative().default(16 * 1024 * 1024).describe('A target replica further behind than this is refused unless `force` is given (16 MiB).'),
  FOLLOW_TIMEOUT_SECONDS: z.coerce.number().positive().max(3600).default(15).describe('After a failover, switchover, rejoin or follow, how long to wait for each re-pointed replica to stream from the new primary before the result says "done with warnings" (seconds).'),
  FENCE_PROBE_MS: positiveInt.max(10_000).default(500).describe('Fencing a node first asks it once (connect + SELECT 1) within this bound; a node that does not answer in time is killed at once (ms).'),
  FENCE_STOP_MS: positiveInt.max(60_000).default(1000).describe('A node being fenced that answers gets a clean fast shutdown for at most this long, then every process of it is killed (ms; the docker runtime rounds up to whole seconds).'),
  FAILOVER_CATCHUP_SECONDS: z.coerce.number().positive().max(3600).default(30).describe('How long a failover target may take to catch up from a more advanced surviving replica before promotion; past it nothing is promoted and the card asks again (seconds).'),
  TEST_PAUSE_AFTER_STEP: z.string().default('').describe('Test only — leave empty. After a failover, switchover, rejoin or follow step whose name starts with this text (e.g. "fence") has succeeded, wait TEST_PAUSE_MS before the next step: the window in which the operation-journal tests kill the bot.'),
  TEST_PAUSE_MS: z.coerce.number().int().nonnegative().max(600_000).default(0).describe('Test only — leave 0. How long TEST_PAUSE_AFTER_STEP pauses (ms); 0 never pauses.'),

  // --- synchronous replication and the write endpoint ---
  SYNC_MODE: z.enum(['off', 'on', 'strict']).default('off'),
  SYNC_DEGRADE_SECONDS: z.coerce.number().positive().max(3600).default(10),
  WRITE_ENDPOINT: bool.prefault('true'),
  WRITE_ENDPOINT_HOST: z.string().default('127.0.0.1'),
  WRITE_ENDPOINT_PORT: port.default(6432),
  PGBOUNCER_BIN: z.string().optional(),

  // --- read endpoint ---
  READ_ENDPOINT: bool.prefault('true'),
  READ_ENDPOINT_HOST: z.string().default('127.0.0.1'),
  READ_ENDPOINT_PORT: port.default(6433),
  READ_MAX_LAG_BYTES: z.coerce.number().int().nonnegative().default(16 * 1024 * 1024).describe('A replica further behind the primary than this leaves the read pool (bytes, 16 MiB; 0 = no byte limit).'),
  READ_MAX_LAG_SECONDS: z.coerce.number().nonnegative().default(30).describe('A replica whose replay is further behind than this leaves the read pool (seconds; 0 = no time limit).'),
  READ_FALLBACK_TO_PRIMARY: bool.prefault('true').describe('true: with no qualifying replica the read endpoint sends sessions to the primary; false: it refuses them.'),
  HAPROXY_BIN: z.string().optional(),

  // --- TLS (docs/tls.md) ---
  TLS_DIR: z.string().optional().describe('The cluster CA (ca.crt, ca.key) and the server certificates /cluster up issues (default: $CLUSTERBOT_HOME/tls). Every connection verifies the nodes against its ca.crt (sslmode=verify-full). With RUNTIME=docker the nodes mount it at /tls: set it to the folder compose binds (./tls) when the bot runs on the host.'),
  TLS_CERT_DAYS: positiveInt.max(3650).default(365).describe('Validity of the server certificates issued by /cluster up and /cluster tls rotate (days).'),
  TLS_EXPIRY_WARN_DAYS: z.coerce.number().int().nonnegative().default(14).describe('A node certificate that expires within this many days raises an alert (critical once it has expired); 0 switches the alert off.'),

  // --- monitoring and alerts ---
  MONITOR_INTERVAL_SECONDS: z.coerce.number().positive().max(3600).default(5).describe('How often the monitor reads every node (seconds; fractions allowed); a process exit is noticed at once.'),
  ALERT_REMINDER_MINUTES: z.coerce.number().positive().default(30).describe('A firing alert is repeated in its thread this often (minutes; fractions allowed).'),
  LAG_BYTES_WARN: z.coerce.number().int().nonnegative().default(16 * 1024 * 1024).describe('Replica lag behind the primary\'s current WAL position that warns (bytes, 16 MiB; 0 switches the level off).'),
  LAG_BYTES_CRIT: z.coerce.number().int().nonnegative().default(256 * 1024 * 1024).describe('Replica lag that is critical (bytes, 256 MiB; 0 switches the level off).'),
  LAG_SECONDS_WARN: z.coerce.number().nonnegative().default(60).describe('Replay delay of a replica that warns (seconds).'),
  LAG_SECONDS_CRIT: z.coerce.number().nonnegative().default(300).describe('Replay delay of a replica that is critical (seconds).'),
  NOT_STREAMING_WARN_SECONDS: z.coerce.number().nonnegative().default(15).describe('A replica up but whose WAL receiver has not been streaming for this long warns (seconds).'),
  NOT_STREAMING_CRIT_SECONDS: z.coerce.number().nonnegative().default(300).describe('A replica not streaming for this long is critical (seconds).'),
  ARCHIVER_FAILING_CRIT_MINUTES: z.coerce.number().nonnegative().default(10).describe('The WAL archiver alert turns critical after failing for this many minutes.'),
  DISK_USAGE_WARN: percent.default(80).describe('Disk usage (percent) of the filesystems holding node data, backups and the WAL archive that warns.'),
  DISK_USAGE_CRIT: percent.default(90).describe('Disk usage (percent) that is critical.'),
  HEALTH_REPORT_CRON: z
    .string()
    .refine((v) => v === 'off' || cron.validate(v), 'is not a cron expression such as "0 * * * *" (or off)')
    .default('0 * * * *').describe('The periodic health report: cron with 5 or 6 fields, or off.'),
  HEALTH_REPORT_CHANNEL: z.enum(['reports', 'alerts']).default('reports').describe('Where the health report goes: reports or alerts.'),
  LAG_HISTORY_HOURS: z.coerce.number().positive().max(24 * 31).default(24).describe('Lag history kept for /cluster lag (hours; at most 20,000 samples, persisted under CLUSTERBOT_HOME/monitor).'),
  // --- chat outbox (the bot's own posts, kept on disk until delivered) ---
  OUTBOX_MAX: positiveInt.default(1000).describe('Undelivered alerts, reports and backup cards are kept on disk (CLUSTERBOT_HOME/chat) until Slack/Discord takes them, also across a restart; past this many the oldest are dropped (non-critical first) and the channel is told how many.'),
  OUTBOX_RETRY_MAX_SECONDS: z.coerce.number().positive().max(3600).default(30).describe('Retries of an undelivered message back off (1 s, 2 s, 4 s…) up to this many seconds between tries.'),
  CHAT_API_TIMEOUT_MS: positiveInt.default(15_000).describe('How long one Slack/Discord API call may take before it counts as failed (the message stays queued).'),
  // --- slack ---
  SLACK_BOT_TOKEN: z.string().regex(/^xoxb-/, 'must be a bot token (xoxb-…)').optional().describe('Bot token (xoxb-…); Slack is on when it is set.'),
  SLACK_SIGNING_SECRET: z.string().min(8).optional().describe('HTTP mode: the app\'s signing secret (Basic Information → App Credentials).'),
  SLACK_APP_TOKEN: z.string().regex(/^xapp-/, 'must be an app-level token (xapp-…)').optional().describe('Socket Mode: an app-level token (xapp-…) with connections:write.'),
  SLACK_MODE: z.enum(['http', 'socket']).optional().describe('How Slack reaches the bot: http or socket; default: socket when SLACK_APP_TOKEN is set, else http.'),
  SLACK_API_URL: z.url().optional().describe('Web API base URL override (a proxy, or a local stand-in in tests); default Slack\'s own.'),
  SLACK_PATH: z.string().regex(/^\/[A-Za-z0-9/_-]*$/).default('/slack/events').describe('HTTP mode: path on HTTP_PORT that Slack posts slash commands and button clicks to.'),
  SLACK_ALERT_CHANNEL: z.string().optional().describe('Channel id (C…) for alerts.'),
  SLACK_REPORT_CHANNEL: z.string().optional().describe('Channel id (C…) for health reports.'),
  SLACK_BACKUP_CHANNEL: z.string().optional().describe('Channel id (C…) for backup reports; default: the report channel.'),
  SLACK_ALLOWED_CHANNELS: list.prefault('').describe('Comma-separated channel ids where /cluster is accepted; empty = every channel.'),
  SLACK_USER_GROUPS: bool.prefault('false').describe('true: also grant levels to Slack user groups (slack-group:S…); needs the usergroups:read scope.'),
  SLACK_MAX_BODY_BYTES: positiveInt.default(262_144).describe('Requests larger than this are refused with 413 (bytes).'),
  // --- discord ---
  DISCORD_TOKEN: z.string().optional().describe('Bot token (Developer Portal → your application → Bot → Reset Token); when set, clusterbot start serves Discord.'),
  DISCORD_APPLICATION_ID: snowflake.optional().describe('Application id (General Information); default: learned from the gateway on start.'),
  DISCORD_GUILD_ID: snowflake.optional().describe('Register /cluster in this server only (instant); empty = global registration (may take up to an hour).'),
  DISCORD_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as http://127.0.0.1:8090/api' }).optional().describe('REST base URL override, for proxies and tests (default: Discord\'s own); the gateway URL then comes from its /gateway/bot.'),
  DISCORD_ALLOWED_CHANNELS: list.pipe(z.array(snowflake)).prefault('').describe('Comma-separated channel ids where /cluster is taken; empty = every channel the bot can see. The alert/report/backup channels always take button clicks.'),
  DISCORD_ALERT_CHANNEL: snowflake.optional().describe('Channel id for alerts.'),
  DISCORD_REPORT_CHANNEL: snowflake.optional().describe('Channel id for health reports; default: the alert channel.'),
  DISCORD_BACKUP_CHANNEL: snowflake.optional().describe('Channel id for backup reports; default: the report channel.'),
  // --- backups ---
  BACKUP_FROM: z.enum(['replica', 'primary']).default('replica').describe('Take full backups from a healthy streaming replica (the primary when none is), or always from the primary.'),
  BACKUP_STANZA: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _').default('clusterbot').describe('The pgBackRest stanza (one per cluster) the bot creates and backs up.'),
  BACKUP_COMPRESS_TYPE: z.enum(['zst', 'lz4', 'gz']).default('zst').describe('pgBackRest compression of backups and archived WAL: zst (Zstandard), lz4 (fastest: choose it where backup time matters more than size — docs/performance.md) or gz.'),
  BACKUP_COMPRESS_LEVEL: z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number').optional().describe('pgBackRest compress-level of BACKUP_COMPRESS_TYPE (zst -7 to 22, lz4 -5 to 12, gz -1 to 9; higher: smaller and slower). Default: 1 with zst (on the bench data set as small as level 3 and faster: docs/performance.md), pgBackRest\'s own with lz4 (1) and gz (6).'),
  BACKUP_PROCESS_MAX: positiveInt.optional().describe('Parallel pgBackRest processes for backup, restore and verify; default: the machine\'s cores.'),
  BACKUP_RETENTION_FULL: positiveInt.default(2).describe('Full backups pgBackRest keeps (with their differential and incremental backups and the WAL they need); older ones are expired.'),
  BACKUP_AFTER_FAILOVER: z.enum(['offer', 'auto', 'off']).default('offer').describe('After a failover or switchover: offer a "Take a full backup now" button on the result card, take it automatically, or do nothing.'),
  BACKUP_SCHEDULES: bool.prefault('true').describe('Run the backup schedules while clusterbot start runs (false: only by command).'),
  BACKUP_FULL_CRON: cronExpression.default('0 2 * * 0').describe('Full backup schedule (node-cron, 5 fields or 6 with seconds first, bot\'s local time): weekly, Sunday 02:00.'),
  BACKUP_INCREMENTAL_CRON: cronExpression.default('0 3 * * *').describe('Incremental backup (pgBackRest incr: files changed since the previous backup) schedule: daily 03:00.'),
  BACKUP_PRUNE_CRON: cronExpression.default('0 4 * * *').describe('Retention (pgbackrest expire, BACKUP_RETENTION_FULL) schedule: daily 04:00.'),
  // --- off-machine repository (pgBackRest repo2 on S3-compatible storage; docs/backups-s3.md) ---
  BACKUP_S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lowercase letters, digits, . and -)').optional().describe('Bucket of the off-machine repository (pgBackRest repo2); setting it turns repo2 on, and then BACKUP_S3_ENDPOINT, the two keys and BACKUP_CIPHER_PASS are required. The bucket must exist.'),
  BACKUP_S3_ENDPOINT: z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'must be host or host:port, without https:// (e.g. s3.eu-west-1.amazonaws.com, minio.example.net:9000)').optional().describe('The S3 endpoint as host or host:port (HTTPS only; port 443 by default), e.g. s3.eu-west-1.amazonaws.com.'),
  BACKUP_S3_REGION: z.string().regex(/^[a-z0-9-]{2,32}$/, 'must be a region name such as eu-west-1').default('us-east-1').describe('The bucket\'s region (signed into every request; S3-compatible servers usually accept us-east-1).'),
  BACKUP_S3_ACCESS_KEY: z.string().min(3).optional().describe('Access key id of the S3 repository; masked everywhere.'),
  BACKUP_S3_SECRET_KEY: z.string().min(8).optional().describe('Secret access key of the S3 repository; masked everywhere, written only into the 0600 pgBackRest configuration file.'),
  BACKUP_S3_URI_STYLE: z.enum(['host', 'path']).default('host').describe('host: bucket.endpoint (AWS); path: endpoint/bucket (most self-hosted S3 servers, and any endpoint given as an IP address).'),
  BACKUP_S3_CA_FILE: z.string().optional().describe('A CA certificate file (PEM) that signs the S3 endpoint\'s certificate, for a private CA; default: the system\'s CAs. Certificates are always verified.'),
  BACKUP_S3_PATH: z.string().regex(/^\/[A-Za-z0-9._/-]*$/, 'must be an absolute path inside the bucket such as /clusterbot').default('/clusterbot').describe('Folder of the repository inside the bucket (repo2-path).'),
  BACKUP_S3_RETENTION_FULL: positiveInt.optional().describe('Full backups kept in the S3 repository; default: BACKUP_RETENTION_FULL.'),
  BACKUP_S3_TIMEOUT_SECONDS: positiveInt.max(600).default(10).describe('pgBackRest\'s io-timeout while repo2 is configured: how long one read or write may make no progress. pgBackRest retries an unreachable endpoint about 4 times this long, so a dead bucket fails a backup (and the overdue check) in tens of seconds instead of 4 minutes at the default 60.'),
  BACKUP_CIPHER_PASS: z.string().min(20, 'must be at least 20 characters (generate one: openssl rand -base64 48)').optional().describe('Passphrase of the repository encryption (aes-256-cbc); required with BACKUP_S3_BUCKET or BACKUP_ENCRYPT_LOCAL. Masked everywhere. Keep a copy off the machine: without it the backups cannot be restored.'),
  BACKUP_ENCRYPT_LOCAL: bool.prefault('false').describe('true: encrypt the local repository (repo1) too, with BACKUP_CIPHER_PASS. Set it before the first backup: an existing repository keeps the encryption it was created with.'),
  // --- patroni backend ---
  CLUSTER_BACKEND: z.enum(['native', 'patroni']).default('native').describe('native: clusterbot runs the nodes and promotes with pg_promote. patroni: Patroni (with etcd) runs them and clusterbot drives Patroni\'s REST API.'),
  PATRONI_URLS: list
    .prefault('')
    .refine((urls) => urls.every((u) => /^https?:\/\/[^\s/]+(\/.*)?$/.test(u)), 'must be a comma list of http(s)://host:port URLs of Patroni REST APIs').describe('Patroni backend: comma list of member REST endpoints, e.g. http://10.0.0.1:8008,http://10.0.0.2:8008. CLUSTER_NODES still names the members\' PostgreSQL endpoints for SQL cross-checks.'),
  PATRONI_USERNAME: z.string().optional().describe('Basic auth user of Patroni\'s REST API (restapi.authentication), when it is set.'),
  PATRONI_PASSWORD: z.string().optional().describe('Basic auth password of Patroni\'s REST API; masked everywhere.'),
  PATRONI_TIMEOUT_MS: positiveInt.default(3000).describe('Timeout of one Patroni REST call (ms).'),
  PATRONI_ACTION_TIMEOUT_SECONDS: positiveInt.default(60).describe('How long a switchover, failover, restart or reinitialize may take before it is reported as status unknown.'),
  PATRONI_WATCH_INTERVAL_MS: positiveInt.default(1000).describe('How often the Patroni watcher reads /cluster and probes the leader (ms).'),
  PATRONI_PROBE_TIMEOUT_MS: positiveInt.default(1000).describe('Deadline of the watcher\'s own SQL probe of the Patroni leader (ms): a leader that does not answer within it is alerted at once, while Patroni may still call it leader.'),
  // --- docker ---
  COMPOSE_PROJECT_NAME: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, - and _').default('clusterbot').describe('With RUNTIME=docker: the compose project whose postgresql-<node> services are the nodes (docker-compose reads the same key from .env).'),
  DOCKER_IMAGE: z.string().min(1).default('clusterbot/postgres:15').describe('The PostgreSQL node image (postgres/Dockerfile) used when the bot creates containers; build it with bash scripts/docker-prereqs.sh.'),
  DOCKER_SUBNET: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'must be an IPv4 CIDR such as 172.20.0.0/16').default('172.20.0.0/16').describe('Subnet of postgresql-network, and the only clients pg_hba.conf admits; change it if it clashes with one of your networks.'),
  DOCKER_FENCE_DIR: z.string().optional().describe('With RUNTIME=docker: the fence directory every node mounts read-only at /fence (default: $CLUSTERBOT_HOME/fence), so fencing a dead container starts nothing; a node that does not mount it is fenced on its data volume.'),

  // --- logs and HTTP ---
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level.'),
  LOG_TO: z.enum(['file', 'stderr']).default('file').describe('Where logs go: file ($CLUSTERBOT_HOME/logs/clusterbot.log) or stderr.'),
  HTTP_PORT: port.default(8080).describe('The bot\'s HTTP port: /metrics, /healthz and Slack\'s HTTP endpoint.'),
  HTTP_HOST: z.string().default('127.0.0.1').describe('Address the HTTP port listens on (0.0.0.0 when a proxy on another machine must reach it).'),
});

type Raw = z.infer<typeof configSchema>;
type CompressType = Raw['BACKUP_COMPRESS_TYPE'];

/** BACKUP_COMPRESS_LEVEL when unset: zst at 1 (measured, docs/performance.md), pgBackRest's own level for lz4 and gz. */
export const COMPRESS_LEVEL_DEFAULT: Record<CompressType, number> = { zst: 1, lz4: 1, gz: 6 };
/** The compress-level range pgBackRest 2.45 accepts for each compress-type. */
const COMPRESS_LEVEL_RANGE: Record<CompressType, [number, number]> = { zst: [-7, 22], lz4: [-5, 12], gz: [-1, 9] };

export interface Config extends Omit<Raw, 'CLUSTER_NODES'> {
  nodes: NodeConfig[];
  home: string;
  backupDir: string;
  /** The pgBackRest repository repo1 (BACKUP_DIR/pgbackrest): backups and the WAL archive. */
  walArchiveDir: string;
  /** DOCKER_FENCE_DIR, resolved: where the docker runtime writes fence markers. */
  fenceDir: string;
  /** TLS_DIR, resolved: the cluster CA and the server certificates. */
  tlsDir: string;
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
  const problems = [...repositoryProblems(raw), ...compressionProblems(raw)];
  if (problems.length) {
    throw new UserError(`Invalid configuration — ${problems.join('; ')}`, 'Fix these keys in .env (every key is documented in .env.example).');
  }
  const secrets = [raw.POSTGRES_ADMIN_PASSWORD, raw.POSTGRES_REPLICATOR_PASSWORD];
  for (const s of [raw.BACKUP_CIPHER_PASS, raw.BACKUP_S3_SECRET_KEY, raw.BACKUP_S3_ACCESS_KEY]) if (s) secrets.push(s);
  for (const key of Object.keys(env)) {
    if (/(PASSWORD|TOKEN|SECRET)$/.test(key) && env[key] && env[key]!.length >= 6) secrets.push(env[key]!);
  }
  return {
    ...rest,
    nodes: CLUSTER_NODES,
    home,
    backupDir,
    walArchiveDir: `${backupDir}/pgbackrest`,
    fenceDir: resolve(raw.DOCKER_FENCE_DIR ?? `${home}/fence`),
    tlsDir: resolve(raw.TLS_DIR ?? `${home}/tls`),
    terminalUser: raw.TERMINAL_USER ?? safeUserName(),
    secrets: [...new Set(secrets)],
  };
}

/** The backup repository keys that only make sense together: repo2 needs all of its settings and a passphrase. */
function repositoryProblems(raw: Raw): string[] {
  const problems: string[] = [];
  const s3Keys = ['BACKUP_S3_BUCKET', 'BACKUP_S3_ENDPOINT', 'BACKUP_S3_ACCESS_KEY', 'BACKUP_S3_SECRET_KEY'] as const;
  const given = s3Keys.filter((k) => raw[k] !== undefined);
  if (given.length > 0) {
    for (const k of s3Keys) if (raw[k] === undefined) problems.push(`${k}: required for the S3 repository (${given.join(', ')} given)`);
  }
  if (!raw.BACKUP_CIPHER_PASS && (given.length > 0 || raw.BACKUP_ENCRYPT_LOCAL)) {
    problems.push(`BACKUP_CIPHER_PASS: required with ${given.length > 0 ? 'the S3 repository' : 'BACKUP_ENCRYPT_LOCAL=true'} (the repository is encrypted; generate one: openssl rand -base64 48)`);
  }
  // The node containers write their own pgBackRest configuration (postgres/), which carries no repo2:
  // their archive-push would fail. RUNTIME=docker hands the passphrase to its nodes in a 0600 file
  // (src/backup/pgbackrest/site.ts); Patroni in compose does not yet. Patroni members on this machine
  // carry the bot's repositories in theirs (docs/patroni-backups.md); a member without them fails the backup.
  const composePatroni = raw.CLUSTER_BACKEND === 'patroni';
  const where = raw.RUNTIME === 'docker' ? (composePatroni ? 'CLUSTER_BACKEND=patroni and RUNTIME=docker' : 'RUNTIME=docker') : null;
  if (where && (given.length > 0 || (raw.BACKUP_ENCRYPT_LOCAL && composePatroni))) {
    problems.push(`${given.length > 0 ? 'BACKUP_S3_BUCKET' : 'BACKUP_ENCRYPT_LOCAL'}: ${given.length > 0 ? 'the S3 repository works' : 'repository encryption works'} with RUNTIME=local for now (native nodes, or Patroni members on this machine)${given.length > 0 ? '' : ' and with native RUNTIME=docker'}, not with ${where} — unset ${given.length > 0 ? 'them' : 'it'}, or see docs/backups-s3.md`);
  }
  if (raw.BACKUP_S3_CA_FILE && !existsSync(resolve(raw.BACKUP_S3_CA_FILE))) problems.push(`BACKUP_S3_CA_FILE: ${raw.BACKUP_S3_CA_FILE} does not exist`);
  return problems;
}

/** A compress-level pgBackRest would refuse for the compress-type (it would say so only when a backup or archive-push runs). */
function compressionProblems(raw: Raw): string[] {
  const level = raw.BACKUP_COMPRESS_LEVEL;
  const [min, max] = COMPRESS_LEVEL_RANGE[raw.BACKUP_COMPRESS_TYPE];
  if (level === undefined || (level >= min && level <= max)) return [];
  return [`BACKUP_COMPRESS_LEVEL: ${level} is out of range for BACKUP_COMPRESS_TYPE=${raw.BACKUP_COMPRESS_TYPE} (${min} to ${max})`];
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
