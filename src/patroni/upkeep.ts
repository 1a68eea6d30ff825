// What the native monitor does for /cluster lag and backup schedules, with the Patroni backend:
// every MONITOR_INTERVAL_SECONDS, one lag sample per replica into the same lag history file
// /cluster lag reads, and the "backup overdue" alert (posted once, then resolved).
import type { Reply } from '../chat/reply.js';
import type { Services } from '../core/context.js';
import { monitorFiles } from '../monitor/files.js';
import { LagHistory, sampleOf } from '../monitor/lag-history.js';

export class PatroniUpkeep {
  private readonly history: LagHistory;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private overdue: string | null = null;

  constructor(
    private readonly services: Services,
    private readonly post: (kind: string, reply: Reply) => Promise<void>,
  ) {
    const { config, log } = services;
    this.history = new LagHistory(monitorFiles(config).lagHistory, config.LAG_HISTORY_HOURS, config.MONITOR_INTERVAL_SECONDS, log);
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.once()
        .catch((err: unknown) => this.services.log.error({ err }, 'patroni upkeep failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.services.config.MONITOR_INTERVAL_SECONDS * 1000);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private async once(): Promise<void> {
    const [snap, overdue] = await Promise.all([
      this.services.snapshot(),
      this.services.backups ? this.services.backups.overdue().catch(() => null) : Promise.resolve(null),
    ]);
    this.history.add(sampleOf(snap));
    await this.watchOverdue(overdue);
  }

  private async watchOverdue(overdue: string | null): Promise<void> {
    if (overdue && !this.overdue) {
      await this.post('backup overdue', {
        title: 'Backup overdue',
        severity: 'warn',
        text: overdue,
        fields: [{ label: 'Next step', value: 'look at /cluster backups, then run /cluster backup full (or fix what made the scheduled one fail)' }],
        data: { alert: 'backup_overdue', detail: overdue },
      });
    } else if (!overdue && this.overdue) {
      await this.post('backup overdue resolved', { title: 'Backups on schedule again', severity: 'ok', text: 'A backup ran within its schedule.', data: { alert: 'backup_overdue_resolved' } });
    }
    this.overdue = overdue;
  }
}
