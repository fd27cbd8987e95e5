// The bench's command line: `--quick` for a short run, `--json <file>` to write the figures as JSON.

export interface BenchArgs {
  readonly quick: boolean;
  /** Where the figures are written as JSON; none when absent. */
  readonly jsonPath: string | undefined;
}

export const USAGE = 'usage: npm run bench -- [--quick] [--json <file>]';

export const parseBenchArgs = (argv: readonly string[]): BenchArgs => {
  let quick = false;
  let jsonPath: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--json') {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new Error(`--json needs a file name; ${USAGE}`);
      jsonPath = next;
      i += 1;
    } else if (arg?.startsWith('--json=')) {
      const value = arg.slice('--json='.length);
      if (value === '') throw new Error(`--json needs a file name; ${USAGE}`);
      jsonPath = value;
    } else throw new Error(`unknown argument "${arg}"; ${USAGE}`);
  }
  return { quick, jsonPath };
};

/** How much each section does: `--quick` keeps the whole run under two minutes on a 2-core machine. */
export interface BenchSizes {
  readonly coldRuns: number;
  /** Warm invocations per measured handler, after as many again to warm it up. */
  readonly warmEvents: number;
  /** Webhooks through the local pipeline, and as many raw sends and writes for each floor. */
  readonly pipelineEvents: number;
  readonly concurrency: number;
}

export const benchSizes = (quick: boolean): BenchSizes =>
  quick
    ? { coldRuns: 7, warmEvents: 5_000, pipelineEvents: 1_000, concurrency: 16 }
    : { coldRuns: 15, warmEvents: 20_000, pipelineEvents: 3_000, concurrency: 16 };
