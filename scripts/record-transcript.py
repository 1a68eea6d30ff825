#!/usr/bin/env python3
"""Record the README's terminal transcript: `clusterbot start` on the embedded default (local
runtime, terminal chat) in a pseudo-terminal, then status, a failover, a rejoin, status, exit.

  sudo python3 scripts/record-transcript.py /home/dba/.clusterbot > /tmp/transcript.txt

The home must be new (the start initialises the cluster) and reachable by the postgres OS user;
the default ports (5432-5434, 6432, 6433, 8080) must be free. Afterwards the cluster is stopped and
the home deleted. Colours and line-editing codes are removed; nothing else is changed.
"""
import os
import pty
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANSI = re.compile(r'\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r')


def main() -> None:
    home = sys.argv[1] if len(sys.argv) > 1 else '/home/dba/.clusterbot'
    if os.path.exists(home):
        sys.exit(f'{home} exists: the transcript starts from a new home')
    os.makedirs(os.path.dirname(home), mode=0o755, exist_ok=True)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(('CLUSTER', 'POSTGRES_', 'SLACK_', 'DISCORD_'))
    } | {
        'CLUSTERBOT_HOME': home,
        'TERMINAL_USER': os.path.basename(os.path.dirname(home)) or 'dba',
        'POSTGRES_ADMIN_PASSWORD': secrets.token_hex(16),
        'POSTGRES_REPLICATOR_PASSWORD': secrets.token_hex(16),
        'NO_COLOR': '1',
    }
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(REPO)
        os.execvpe('node', ['node', 'bin/clusterbot.js', 'start'], env)
    out = bytearray()

    def text(since: int = 0) -> str:
        return ANSI.sub('', out[since:].decode('utf8', 'replace'))

    def wait_for(pattern: str, since: int = 0, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        while not re.search(pattern, text(since)):
            if time.time() > deadline:
                sys.stderr.write(text())
                sys.exit(f'timed out waiting for {pattern!r}')
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    out.extend(os.read(fd, 65536))
                except OSError:
                    return

    def say(line: str, then: str, timeout: float = 120) -> None:
        since = len(out)
        os.write(fd, f'{line}\r'.encode())
        wait_for(then, since, timeout)

    PROMPT = r'\nclusterbot> $'
    try:
        wait_for(r'Type /cluster help[^\n]*' + PROMPT)
        say('/cluster status', r'read \d+ nodes in [^\n]*' + PROMPT)
        say('/cluster failover', r'\(type the number\)' + PROMPT)
        mark = len(out)
        say('1', r'Failover done[\s\S]*' + PROMPT)
        wait_for(r'alert node_down:primary[^\n]*\n', mark, 60)
        mark = len(out)
        say('/cluster rejoin primary', r'Rejoin primary done[\s\S]*' + PROMPT)
        wait_for(r'alert node_down:primary[^\n]*resolved[^\n]*\n', mark, 60)
        say('/cluster status', r'read \d+ nodes in [^\n]*' + PROMPT)
        say('exit', r'bye\.[^\n]*\n', 30)
    finally:
        sys.stdout.write(text())
        if os.waitpid(pid, os.WNOHANG) == (0, 0):
            time.sleep(2)  # the bot is closing after "bye", or a step timed out
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
        cli = ['node', 'bin/clusterbot.js', 'run']
        subprocess.run([*cli, '/cluster down', '--confirm'], cwd=REPO, env=env, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == '__main__':
    main()
