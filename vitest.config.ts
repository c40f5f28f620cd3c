import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Native addons (gl, webgpu) and gpu.js worker pools behave best in separate processes.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // ink-testing-library's lastFrame() goes blank under CI=true (STACK-NOTES.md).
    env: { CI: 'false' },
  },
});
