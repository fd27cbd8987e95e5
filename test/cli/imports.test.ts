// The CLI's module graph, as esbuild resolves it: no command loads an embedded emulator it does not start.

import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every package the entry point imports, directly or through the project's own modules. */
const packagesImportedBy = async (entryPoint: string): Promise<Set<string>> => {
  const { metafile } = await build({
    entryPoints: [entryPoint],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node24',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return new Set(
    Object.values(metafile.inputs)
      .flatMap((input) => input.imports)
      .filter((imported) => imported.external === true)
      .map((imported) => imported.path),
  );
};

describe('CLI imports', () => {
  it('loads neither dynalite nor fauxqs', async () => {
    const packages = await packagesImportedBy('cli/main.ts');

    expect(packages).toContain('@aws-sdk/lib-dynamodb');
    expect([...packages].filter((name) => /^(dynalite|fauxqs)(\/|$)/.test(name))).toEqual([]);
  });

  it('would be caught loading them: the local stack does', async () => {
    const packages = await packagesImportedBy('local/start.ts');

    expect([...packages].filter((name) => /^(dynalite|fauxqs)(\/|$)/.test(name)).sort()).toEqual([
      'dynalite',
      'fauxqs',
    ]);
  });
});
