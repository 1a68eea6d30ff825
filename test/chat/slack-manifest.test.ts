// The Slack app manifests in the repo: valid YAML that declares /cluster, interactivity and the scopes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';

interface Manifest {
  features: { bot_user: { display_name: string }; slash_commands: Array<{ command: string; url?: string; should_escape: boolean }> };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: { is_enabled: boolean; request_url?: string }; socket_mode_enabled: boolean };
}

const read = (file: string) => parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')) as Manifest;
const defaultPath = loadConfig({ POSTGRES_ADMIN_PASSWORD: 'a'.repeat(12), POSTGRES_REPLICATOR_PASSWORD: 'b'.repeat(12) }).SLACK_PATH;

describe('Slack app manifests', () => {
  it('HTTP mode: /cluster and interactivity both post to SLACK_PATH; scopes commands, chat:write, files:write', () => {
    const m = read('slack-manifest.yml');
    const [cmd] = m.features.slash_commands;
    expect(cmd.command).toBe('/cluster');
    expect(new URL(cmd.url!).pathname).toBe(defaultPath);
    expect(m.settings.interactivity.is_enabled).toBe(true);
    expect(new URL(m.settings.interactivity.request_url!).pathname).toBe(defaultPath);
    expect(m.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['commands', 'chat:write', 'files:write']));
    expect(m.settings.socket_mode_enabled).toBe(false);
  });

  it('Socket Mode variant: same command, interactivity and scopes, no URLs', () => {
    const m = read('slack-manifest.socket.yml');
    expect(m.features.slash_commands.map((c) => c.command)).toEqual(['/cluster']);
    expect(m.features.slash_commands[0].url).toBeUndefined();
    expect(m.settings.interactivity).toEqual({ is_enabled: true });
    expect(m.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['commands', 'chat:write', 'files:write']));
    expect(m.settings.socket_mode_enabled).toBe(true);
  });
});
