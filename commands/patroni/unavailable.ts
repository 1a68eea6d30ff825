// Commands of the native backend that Patroni owns itself: a clear answer instead of "unknown command".
import { arg, defineCommand, type Command } from '../../src/core/command.js';
import { UserError } from '../../src/errors.js';

function unavailable(name: string, summary: string, instead: string): Command {
  return defineCommand({
    name,
    summary: `${summary} (not available with the Patroni backend)`,
    level: 'viewer',
    mutates: false,
    args: { what: arg.string('ignored', /^[\s\S]{0,200}$/, 'is too long') },
    async run() {
      throw new UserError(`/cluster ${name} is not available with the Patroni backend`, instead, 'precondition');
    },
  }) as Command;
}

export const unavailableCommands: Command[] = [
  unavailable('start', 'Start a node', 'Patroni starts PostgreSQL itself: start the patroni service on that host (systemctl start patroni), or /cluster restart <node>'),
  unavailable('stop', 'Stop a node', 'stop the patroni service on that host (systemctl stop patroni); to keep PostgreSQL up without Patroni acting, use /cluster maintenance on'),
  unavailable('up', 'Create and start every node', 'Patroni bootstraps the cluster: start patroni on each host (docker-compose.patroni.yml shows how)'),
  unavailable('down', 'Stop every node', 'stop the patroni service on every host, or use patronictl pause (/cluster maintenance on)'),
  unavailable('reset', "Delete every node's data and start a fresh cluster", "use Patroni's own tools: stop patroni on every member, patronictl remove <cluster>, delete each member's data directory, then start patroni again"),
  unavailable('follow', 'Point a replica at the current primary', 'Patroni re-points replicas at the leader on its own; a replica that cannot follow needs /cluster rejoin <node>'),
  unavailable('logs', "Tail a node's PostgreSQL log", "read Patroni's and PostgreSQL's logs on that host (journalctl -u patroni), or patronictl list for states"),
];
