// Which chat adapters run: Slack and/or Discord when their tokens are configured, the terminal
// otherwise. Each platform adds its block here; both may run at once (alerts go to both).
import type { AdapterHost } from './host.js';
import type { Config } from '../config.js';
import type { ChatAdapter } from './adapter.js';

export interface StartedAdapters {
  adapters: ChatAdapter[];
  /** True when no chat platform is configured and the terminal REPL should open. */
  terminal: boolean;
}

export async function startChatAdapters(app: AdapterHost, config: Config): Promise<StartedAdapters> {
  const adapters: ChatAdapter[] = [];
  // Platform adapters register here (Slack, Discord), each started and added to app.notifier.
  if (config.SLACK_BOT_TOKEN) {
    // Loaded only when configured, so one-shot CLI runs never load Bolt.
    const { SlackAdapter } = await import('./slack/adapter.js');
    adapters.push(new SlackAdapter(app, config));
  }
  if (config.DISCORD_TOKEN) {
    // Loaded only when configured, so one-shot CLI runs never load discord.js.
    const { DiscordAdapter } = await import('./discord/discord-adapter.js');
    adapters.push(new DiscordAdapter(app));
  }
  for (const a of adapters) {
    await a.start();
    app.notifier.add(a);
  }
  return { adapters, terminal: adapters.length === 0 };
}
