/**
 * The layer rules of docs/architecture.md, checked by test/unit/dependency-rules.test.ts
 * (`npx depcruise src commands`). Every import counts here, `import type` too: a cycle of types is
 * still two modules that cannot be understood apart. What src/present/ may not call is checked on
 * the code that runs, in .dependency-cruiser.values.cjs.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: one of these modules must not know the other (see docs/architecture.md).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-not-commands',
      severity: 'error',
      comment: 'src/ never imports the command tree: commands use src/, not the reverse. Only the composition root, src/app.ts, lists them.',
      from: { path: '^src/', pathNot: '^src/app\\.ts$' },
      to: { path: '^commands/' },
    },
    {
      name: 'runtime-not-cluster',
      severity: 'error',
      comment: 'src/runtime/ acts where the nodes run and never decides: it imports nothing of src/cluster/.',
      from: { path: '^src/runtime/' },
      to: { path: '^src/cluster/' },
    },
    {
      name: 'chat-no-operations',
      severity: 'error',
      comment: 'Chat adapters carry messages to and from the router; they run no cluster operation.',
      from: { path: '^src/chat/' },
      to: { path: '^src/(cluster|backup|runtime|patroni|db|monitor)/' },
    },
    {
      name: 'commands-ask-the-backend',
      severity: 'error',
      comment: 'A command asks ctx.backend for the cluster and never knows which backend it has: no runtime, no pools, no Patroni client, no backend implementation.',
      from: { path: '^commands/' },
      to: { path: '^src/(runtime|db|patroni)/|^src/backend/(?!backend\\.ts$)' },
    },
    {
      name: 'no-app-import',
      severity: 'error',
      comment: 'Nothing imports the composition root but the entry point (src/cli.ts): it hands each part what it needs.',
      from: { path: '^(src|commands)/', pathNot: '^src/cli\\.ts$' },
      to: { path: '^src/app\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // swc reads TypeScript (TypeScript 7 has no JavaScript API for dependency-cruiser's tsc parser).
    parser: 'swc',
  },
};
