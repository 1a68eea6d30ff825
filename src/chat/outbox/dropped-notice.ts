// What the channel is told when OUTBOX_MAX made the outbox drop its oldest undelivered messages.
import type { Reply } from '../reply.js';

export function droppedNotice(platform: 'Slack' | 'Discord', count: number): Reply {
  return {
    title: `${count} older queued message${count === 1 ? ' was' : 's were'} dropped`,
    severity: 'warn',
    text: `${platform} was unreachable for long enough that more than OUTBOX_MAX messages queued up; clusterbot kept the newest (critical alerts first) and dropped the ${count} oldest. /cluster status shows the state now; /cluster history lists what happened.`,
  };
}
