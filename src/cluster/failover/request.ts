// What an operation is asked with: its kind and who asked, with the hooks that report its progress.
import type { StepListener } from './steps.js';

export type OperationKind = 'failover' | 'switchover' | 'rejoin' | 'follow';

export interface OperationRequest {
  /** Who confirmed (or ran) it, as shown to people. */
  by: string;
  /** Their id and platform, for the audit trail. */
  user?: { id: string; platform: string };
  /** The card is edited as each step starts and ends. */
  onStep?: StepListener;
  /** A free sentence for the card (e.g. "re-cloning…"). */
  onNote?: (line: string) => Promise<void>;
  /** How far the running step is (e.g. a catch-up's bytes); replaces the previous progress line. */
  onProgress?: (line: string) => Promise<void>;
}
