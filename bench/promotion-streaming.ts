// Scenario 3: promotion → every other replica streaming from the new primary (a 3-node cluster, so
// one other replica has to be re-pointed). Measured in the failover cycles of scenario 2, from the
// first write the new primary accepted to the moment its pg_stat_replication lists every other node
// as 'streaming'. Reference: the confirm → writable time of the same cycles (what a client waits).
import { failoverCycles } from './confirm-writable.js';
import { judge, round, stats, type Scenario } from './lib.js';
import { runtime } from './support.js';

export const promotionStreaming: Scenario = async ({ quick, log }) => {
  const { cycles, nodes } = await failoverCycles(quick, log);
  const st = stats(cycles.map((c) => c.promotionToStreamingMs));
  const ref = stats(cycles.map((c) => c.confirmToWriteMs));
  return [
    judge({
      scenario: 'promotion-streaming',
      figure: 'promotion → other replicas streaming from it',
      unit: 'ms',
      runtime: runtime(),
      stats: st,
      reference: { label: 'Confirm → first write (same cycles)', stats: ref },
      ratio: round(st.median / ref.median),
      goal: { on: 'median', op: '<=', value: 5000 },
      note: `${nodes}-node cluster, ${nodes - 2} other replica re-pointed per failover; promotion = first committed write on the new primary; streaming = listed in its pg_stat_replication`,
    }),
  ];
};
