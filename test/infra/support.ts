// Shared fixtures of the infrastructure tests: the app context of cdk.json and a stack synthesized under the nag gate.
import { readFileSync } from 'node:fs';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { AircallWebhookStack } from '../../lib/aircall-webhook-stack.js';
import { parseConfig } from '../../lib/config.js';
import type { HttpApiEndpoint } from '../../lib/constructs/ingress.js';
import { applyNagPacks } from '../../lib/nag.js';

const cdkJson: { context: Record<string, unknown> } = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
);

/** The same feature flags `cdk synth` uses, so the tests see the template that deploys. */
export const CDK_CONTEXT: Readonly<Record<string, unknown>> = cdkJson.context;

export interface Synthesized {
  readonly app: App;
  readonly stack: AircallWebhookStack;
  readonly template: Template;
}

export interface SynthesizeOptions {
  /**
   * Synthesize as `cdk synth` does: handlers bundled with esbuild, CloudFormation's built-in template checks,
   * construct stack traces. Off, the template is the same but for asset hashes, in a fraction of the time.
   * @default false
   */
  readonly asCdkSynth?: boolean;
}

/**
 * Builds the stack from raw configuration, with the cdk-nag packs on, and synthesizes it: any unacknowledged
 * finding throws here. Call it once per file, at module level.
 */
export function synthesize(
  rawConfig: Record<string, unknown> = {},
  options: SynthesizeOptions = {},
): Synthesized {
  const app = options.asCdkSynth
    ? new App({ context: { ...CDK_CONTEXT } })
    : new App({
        // CDK's own switch to skip bundling: each esbuild run costs seconds and none of these tests reads the code.
        context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] },
        builtinCloudFormationValidation: false,
        stackTraces: false,
        treeMetadata: false,
      });
  const stack = new AircallWebhookStack(app, 'TestStack', { config: parseConfig(rawConfig) });
  applyNagPacks(app);
  return { app, stack, template: Template.fromStack(stack) };
}

/** A fresh app with the repository's flags and the nag packs, for stacks built inside a test. */
export function nagApp(): { app: App; stack: Stack } {
  const app = new App({ context: { ...CDK_CONTEXT } });
  applyNagPacks(app);
  return { app, stack: new Stack(app, 'ProbeStack') };
}

/** The HTTP API of a stack deployed with it (the default ingress); throws for a function URL stack. */
export function httpApiOf(stack: AircallWebhookStack): HttpApiEndpoint {
  const { endpoint } = stack.ingress;
  if (endpoint.kind !== 'http-api')
    throw new Error(`${stack.stackName} has no HTTP API: its ingress is ${endpoint.kind}`);
  return endpoint;
}

/** Logical id of the CloudFormation resource behind an L2 construct. */
export function logicalId(construct: IConstruct): string {
  const resource = construct.node.defaultChild;
  if (!(resource instanceof CfnElement))
    throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(construct).getLogicalId(resource);
}

/** `{ "Fn::GetAtt": [id, "Arn"] }`, the way the template references a resource's ARN. */
export const arnOf = (construct: IConstruct): unknown => ({ 'Fn::GetAtt': [logicalId(construct), 'Arn'] });

export interface Statement {
  readonly Effect: string;
  readonly Action: string | readonly string[];
  readonly Resource: unknown;
}

/** Statements of every inline policy in the template, or of those attached to one role. */
export function policyStatements(template: Template, roleLogicalId?: string): Statement[] {
  const filter = roleLogicalId ? { Properties: { Roles: [{ Ref: roleLogicalId }] } } : undefined;
  return Object.values(template.findResources('AWS::IAM::Policy', filter)).flatMap(
    (policy): Statement[] => policy.Properties.PolicyDocument.Statement,
  );
}

/** A statement reduced to what it allows, with actions and resources as sorted lists, for order-free equality. */
export function normalize(statement: Statement): { effect: string; actions: string[]; resources: string[] } {
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
  return {
    effect: statement.Effect,
    actions: list(statement.Action).map(String).sort(),
    resources: list(statement.Resource)
      .map((r) => JSON.stringify(r))
      .sort(),
  };
}

/** `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-??????`, as the template spells it. */
export const secretArn = (name: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':secretsmanager:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:secret:${name}-??????`,
    ],
  ],
});
