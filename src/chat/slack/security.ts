// Checks in front of Bolt's HTTP receiver. Bolt verifies the signature and refuses timestamps
// more than 5 minutes old, but accepts ones from the future, and its middleware never sees the
// headers — so the timestamp window and the size limit are enforced here, before Bolt reads the
// body. Every refusal (ours, or Bolt's 401 for a bad signature) goes to the audit trail.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Audit } from '../../core/audit.js';
import type { Logger } from '../../core/logger.js';

export const MAX_SKEW_SECONDS = 300;

export interface GuardOptions {
  audit: Audit;
  log: Logger;
  maxBodyBytes: number;
  now?: () => number;
}

export type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** Why a request must be refused before Bolt sees it, or null when it may pass. */
export function precheck(headers: IncomingMessage['headers'], maxBodyBytes: number, nowSeconds: number): { status: 401 | 413; reason: string } | null {
  const length = Number(headers['content-length'] ?? 0);
  if (Number.isFinite(length) && length > maxBodyBytes) return { status: 413, reason: `body of ${length} bytes is over the ${maxBodyBytes}-byte limit` };
  const raw = headers['x-slack-request-timestamp'];
  const ts = Number(Array.isArray(raw) ? raw[0] : raw);
  if (!raw || !Number.isInteger(ts)) return { status: 401, reason: 'no request timestamp' };
  const skew = ts - nowSeconds;
  if (skew < -MAX_SKEW_SECONDS) return { status: 401, reason: `timestamp ${-skew} s old (limit ${MAX_SKEW_SECONDS} s)` };
  if (skew > MAX_SKEW_SECONDS) return { status: 401, reason: `timestamp ${skew} s in the future (limit ${MAX_SKEW_SECONDS} s)` };
  if (!headers['x-slack-signature']) return { status: 401, reason: 'no signature' };
  return null;
}

/** Wrap Bolt's request listener with the timestamp/size checks and audit every refusal. */
export function guardSlackRequests(listener: Listener, opts: GuardOptions): Listener {
  const now = opts.now ?? (() => Date.now() / 1000);
  const refuse = (req: IncomingMessage, status: number, reason: string) => {
    opts.audit.record({
      kind: 'refusal',
      user: 'unknown',
      platform: 'slack',
      outcome: status === 413 ? 'request too large' : 'request not authentic',
      detail: { status, reason, path: (req.url ?? '').split('?')[0], from: req.socket.remoteAddress },
    });
    opts.log.warn({ status, reason }, 'slack: request refused');
  };
  return (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('POST only\n');
      return;
    }
    const bad = precheck(req.headers, opts.maxBodyBytes, Math.floor(now()));
    if (bad) {
      refuse(req, bad.status, bad.reason);
      // Drain what the client is still sending, then close: nothing of it is read or parsed.
      req.resume();
      res.writeHead(bad.status, { connection: 'close' }).end();
      return;
    }
    // Bolt answers 401 for a bad signature and 413 for a chunked body over the limit.
    res.once('finish', () => {
      if (res.statusCode === 401 || res.statusCode === 413) {
        refuse(req, res.statusCode, res.statusCode === 401 ? 'signature does not match' : `body over the ${opts.maxBodyBytes}-byte limit`);
      }
    });
    listener(req, res);
  };
}
