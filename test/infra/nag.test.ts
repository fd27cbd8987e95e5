// The cdk-nag gate: the real stack passes it, and a non-compliant resource provably stops synthesis.
import { Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { captureOutputSync } from '../support/capture.js';
import { nagApp, synthesize } from './support.js';

const packs = () => [new AwsSolutionsChecks(), new ServerlessChecks()];
const findingsOf = (scope: Parameters<AwsSolutionsChecks['validateScope']>[0]) =>
  packs().flatMap((pack) =>
    pack.validateScope(scope).violations.map((v) => ({ rule: v.ruleName, severity: v.severity })),
  );

// Bundled as `cdk synth` bundles, so this file also proves the local esbuild path works without Docker.
// synthesize() runs the packs as validation plugins and would throw on a finding.
const bundled = captureOutputSync(() => synthesize({}, { asCdkSynth: true }));
const real = bundled.result;

describe('the nag packs on the real stack', () => {
  it('report no unacknowledged finding', () => {
    expect(findingsOf(real.app)).toEqual([]);
  });

  it('run after each handler was bundled here, with the local esbuild', () => {
    expect(
      bundled.output.match(/^Bundling asset TestStack\/\w+\/\w+Function\/Code\/Stage\.\.\.$/gm),
    ).toHaveLength(3);
    expect(bundled.output).not.toMatch(/docker/i);
  });

  it('see the bundled ES module handlers', () => {
    const handlers = Object.values(real.template.findResources('AWS::Lambda::Function')).map(
      (fn) => fn.Properties.Handler,
    );
    expect(handlers).toEqual(['index.handler', 'index.handler', 'index.handler']);
  });
});

describe('the nag packs on the stack with a guardian that repairs gaps', () => {
  // The real stack above has no credentials secret, so no guardian: this one has, and synthesize() would throw too.
  const guarded = synthesize({ aircallSecretName: 'aircall/credentials' });

  it('report no unacknowledged finding', () => {
    expect(guarded.stack.guardian).toBeDefined();
    expect(findingsOf(guarded.app)).toEqual([]);
  });
});

describe('the nag packs on the stack behind a function URL', () => {
  // No HTTP API: the function URL, its public invoke permissions and the reserved concurrency face the packs instead.
  const behindUrl = synthesize({ ingress: 'function-url' });

  it('report no unacknowledged finding', () => {
    expect(behindUrl.template.findResources('AWS::Lambda::Url')).not.toEqual({});
    expect(findingsOf(behindUrl.app)).toEqual([]);
  });
});

describe('the nag gate', () => {
  it('stops synthesis on an error-level finding', () => {
    const { app, stack } = nagApp();
    new sqs.Queue(stack, 'PlainQueue');
    expect(findingsOf(app)).toEqual(
      expect.arrayContaining([
        { rule: 'AwsSolutions-SQS3', severity: 'error' },
        { rule: 'AwsSolutions-SQS4', severity: 'error' },
        { rule: 'Serverless-SQSRedrivePolicy', severity: 'error' },
      ]),
    );
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it('stops synthesis on a warning-level finding too', () => {
    const { app, stack } = nagApp();
    new logs.LogGroup(stack, 'KeptForever', { retention: logs.RetentionDays.INFINITE });
    expect(findingsOf(app)).toEqual([
      { rule: 'Serverless-CloudWatchLogGroupRetentionPeriod', severity: 'warning' },
    ]);
    expect(() => app.synth()).toThrow(/CloudWatchLogGroupRetentionPeriod/);
  });

  it('lets synthesis through once the finding is acknowledged on its construct', () => {
    const { app, stack } = nagApp();
    const group = new logs.LogGroup(stack, 'KeptForever', { retention: logs.RetentionDays.INFINITE });
    Validations.of(group).acknowledge({
      id: 'Serverless-CloudWatchLogGroupRetentionPeriod',
      reason: 'An audit log kept on purpose.',
    });
    expect(() => app.synth()).not.toThrow();
  });
});
