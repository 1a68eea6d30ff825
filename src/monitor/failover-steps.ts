// Failover step timings for /metrics. Deliberately free of prom-client, so the failover module can
// report steps without loading the metrics stack; the monitor's metrics subscribe when they load.
type StepListener = (step: string, seconds: number) => void;

const pending: Array<[string, number]> = [];
let listener: StepListener | null = null;

/** Record how long one failover/switchover step took (milliseconds). Safe with or without a monitor. */
export function observeFailoverStep(step: string, ms: number): void {
  if (listener) listener(step, ms / 1000);
  else {
    pending.push([step, ms / 1000]);
    if (pending.length > 1000) pending.shift();
  }
}

/** Receive every step timing, starting with those recorded before anyone listened. */
export function onFailoverStep(l: StepListener): void {
  listener = l;
  for (const [step, seconds] of pending.splice(0)) l(step, seconds);
}
