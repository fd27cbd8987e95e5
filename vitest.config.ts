// Vitest settings shared by every suite; the emulator-backed suites need the longer hook timeout to start up.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20000,
    hookTimeout: 30000,
    // One process per file, chosen: tests capture the process's output streams and read its own sockets from
    // the system's socket table, which other files' servers in a shared worker would confuse.
    isolate: true,
  },
});
