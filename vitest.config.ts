import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 3,
    testTimeout: 120_000,
    // A deadline, not a duration: three Patroni clusters starting at once on a loaded 2-core machine need minutes.
    hookTimeout: 420_000,
    reporters: ['default'],
  },
});
