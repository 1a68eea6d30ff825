/**
 * src/present/ only renders: on the code that runs (TypeScript through babel, which erases
 * `import type` as tsc does), it imports no operation. Cards read the result types of operations;
 * they never call one. Run: `npx depcruise -c .dependency-cruiser.values.cjs src commands`.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'present-only-renders',
      severity: 'error',
      comment: 'src/present/ makes cards from results: it calls no operation (cluster, backup, runtime, db, patroni, monitor) and asks no confirmation. Pure readings of results are fine: lsn.ts (formatting), failover/outcome.ts, backup/summary.ts.',
      from: { path: '^src/present/' },
      to: { path: ['^src/(cluster|backup|runtime|db|patroni|monitor|http)/', '^src/core/(confirm|router|pending)\\.ts$'], pathNot: ['^src/cluster/lsn\\.ts$', '^src/cluster/failover/outcome\\.ts$', '^src/backup/summary\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    babelConfig: { fileName: '.dependency-cruiser.babel.json' },
  },
};
