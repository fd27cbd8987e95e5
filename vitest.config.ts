// Vitest settings shared by every suite; the emulator-backed suites need the longer hook timeout to start up.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 20000, hookTimeout: 30000 },
});
