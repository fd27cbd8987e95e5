// What every handler Lambda shares: runtime, architecture, bundling, its own log group and a role scoped to it.
import { fileURLToPath } from 'node:url';
import type { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The newest Node.js runtime this aws-cdk-lib knows (cdk-nag's LambdaLatestVersion checks the same list). */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;
const ESBUILD_TARGET = 'node24';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The entry file of a handler under lambdas/, e.g. `lambdas/ingest/handler.ts`. */
export const handlerEntry = (name: string): string =>
  fileURLToPath(new URL(`../../lambdas/${name}/handler.ts`, import.meta.url));

/**
 * ESM output: the handlers may use top-level await during init, and the SDK's ES module builds tree-shake
 * smaller. The banner gives bundled CommonJS dependencies the `require` that ESM lacks.
 * No source maps: `--enable-source-maps` slows cold starts and every thrown error; `keepNames` keeps
 * class and function names readable in minified stack traces instead.
 */
export const HANDLER_BUNDLING: BundlingOptions = {
  forceDockerBundling: false,
  minify: true,
  keepNames: true,
  sourceMap: false,
  target: ESBUILD_TARGET,
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  banner:
    "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  // Everything is bundled, the AWS SDK v3 clients included: one file loads faster than the runtime's SDK.
  externalModules: [],
  // Warnings and errors only: `npm run bench` reports the bundle sizes esbuild would print on every synth.
  logLevel: LogLevel.WARNING,
};

export interface HandlerFunctionProps {
  /** Entry file of the handler, exporting `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Size of the function's /tmp.
   * @default 512 MiB, what Lambda gives every function
   */
  readonly ephemeralStorageSize?: Size;
  /**
   * Invocations set aside for this function out of the account's concurrency: no other function can take them,
   * and the function never runs more at once.
   * @default none reserved: the function shares the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A Lambda function with the house defaults. Its role may only write to its own log group, instead of the
 * account-wide logs permissions of the AWSLambdaBasicExecutionRole managed policy; callers grant the rest.
 */
export function createHandlerFunction(
  scope: Construct,
  id: string,
  props: HandlerFunctionProps,
): NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
    retention: props.logRetention,
    removalPolicy: props.removalPolicy,
  });
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of ${id}`,
  });
  logGroup.grantWrite(role);

  return new NodejsFunction(scope, id, {
    entry: props.entry,
    handler: 'handler',
    description: props.description,
    runtime: HANDLER_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    ...(props.ephemeralStorageSize === undefined ? {} : { ephemeralStorageSize: props.ephemeralStorageSize }),
    ...(props.reservedConcurrentExecutions === undefined
      ? {}
      : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
    environment: { ...props.environment },
    role,
    logGroup,
    // JSON platform logs too (START/END/REPORT), so one Logs Insights query reads everything.
    loggingFormat: lambda.LoggingFormat.JSON,
    projectRoot: REPO_ROOT,
    depsLockFilePath: `${REPO_ROOT}package-lock.json`,
    bundling: HANDLER_BUNDLING,
  });
}
