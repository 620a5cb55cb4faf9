import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/isolate-git-config.ts'],
    // Real git and real processes: generous on a loaded 2-core CI machine.
    testTimeout: process.env.CI ? 60_000 : 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
