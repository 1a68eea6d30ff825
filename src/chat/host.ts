// The parts of the bot a chat adapter works with, handed over by the entry point (src/cli.ts).
import type { AppServices } from '../core/command.js';
import type { Router } from '../core/router.js';
import type { HttpServer } from '../http/server.js';
import type { Notifier } from './notifier.js';

export interface AdapterHost {
  services: AppServices;
  router: Router;
  notifier: Notifier;
  /** The bot's one HTTP port (Slack's HTTP mode mounts its receiver here). */
  http: HttpServer;
}
