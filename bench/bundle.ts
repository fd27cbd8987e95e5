// Bundles a handler as `cdk synth` does: esbuild with the options NodejsFunction gets from HANDLER_BUNDLING.

import { writeFile } from 'node:fs/promises';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { build } from 'esbuild';
import { HANDLER_BUNDLING } from '../lib/constructs/function-defaults.js';

/** The minified bundle of `entry`, written to `outfile` (`.mjs`, as NodejsFunction names an ESM bundle). */
export const bundleHandler = async (entry: string, outfile: string): Promise<number> => {
  const options = HANDLER_BUNDLING;
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: options.format === OutputFormat.ESM ? 'esm' : 'cjs',
    ...(options.target === undefined ? {} : { target: options.target }),
    minify: options.minify ?? false,
    keepNames: options.keepNames ?? false,
    sourcemap: options.sourceMap ?? false,
    ...(options.mainFields === undefined ? {} : { mainFields: [...options.mainFields] }),
    ...(options.banner === undefined ? {} : { banner: { js: options.banner } }),
    external: [...(options.externalModules ?? [])],
    write: false,
    logLevel: 'warning',
  });
  const [output] = result.outputFiles;
  if (output === undefined || result.outputFiles.length !== 1)
    throw new Error(`esbuild wrote ${result.outputFiles.length} files for ${entry}, expected one`);
  await writeFile(outfile, output.contents);
  return output.contents.length;
};

/** A bench-only script (a child process's entry), bundled to plain ESM that Node runs without a loader. */
export const bundleScript = async (entry: string, outfile: string): Promise<void> => {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    banner: { js: HANDLER_BUNDLING.banner ?? '' },
    logLevel: 'warning',
  });
};
