import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { GUARDIAN_TABLE_ACTIONS } from '../../lib/constructs/guardian.js';
import { arnOf, logicalId, policyStatements, synthesize } from './support.js';

const SECRET_NAME = 'aircall/credentials';
const CUSTOM_URL = 'https://hooks.example.com/aircall/webhook';
const { stack, template } = synthesize({
  aircallSecretName: SECRET_NAME,
  guardianSchedule: 'rate(10 minutes)',
  webhookUrls: [CUSTOM_URL],
});
const guardian = stack.guardian;
if (guardian === undefined) throw new Error('the guardian was not built');
const roleId = logicalId(guardian.guardianFunction.role ?? guardian.guardianFunction);

describe('Guardian', () => {
  it('is not built when no credentials secret is configured', () => {
    const bare = synthesize();
    expect(bare.stack.guardian).toBeUndefined();
    bare.template.resourceCountIs('AWS::Events::Rule', 0);
  });

  it('runs on the configured schedule, without retrying a failed run', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(10 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({ Arn: arnOf(guardian.guardianFunction), RetryPolicy: { MaximumRetryAttempts: 0 } }),
      ],
    });
  });

  it('may read its secret and maintain the registry, and nothing else', () => {
    const statements = policyStatements(template, roleId).filter(
      (statement) => !JSON.stringify(statement.Action).includes('logs:'),
    );
    expect(statements).toHaveLength(2);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: expect.objectContaining({ 'Fn::Join': expect.anything() }),
      }),
    );
    expect(JSON.stringify(statements)).toContain(`:secret:${SECRET_NAME}-??????`);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: [...GUARDIAN_TABLE_ACTIONS].sort(),
      Resource: arnOf(stack.tables.tables.webhooks),
    });
  });

  it('carries the secret name, the webhook URL and the registry in its environment, and no credential', () => {
    const resources = template.findResources('AWS::Lambda::Function');
    const fn = resources[logicalId(guardian.guardianFunction)] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    const variables = fn.Properties.Environment.Variables;
    expect(Object.keys(variables).sort()).toEqual([
      'AIRCALL_API_URL',
      'AIRCALL_SECRET_ID',
      'WEBHOOKS_TABLE',
      'WEBHOOK_URLS',
    ]);
    expect(variables.AIRCALL_SECRET_ID).toBe(SECRET_NAME);
    expect(variables.AIRCALL_API_URL).toBe('https://api.aircall.io/v1');
    const everyEnvironment = JSON.stringify(
      Object.values(resources).map((r) => r.Properties?.Environment ?? {}),
    );
    expect(everyEnvironment).not.toMatch(/api_token|access_token|apiToken|accessToken|AIRCALL_API_TOKEN/i);
  });

  it("keeps the webhooks on the API's own URL and on every configured custom domain, and says so in an output", () => {
    const resources = template.findResources('AWS::Lambda::Function');
    const fn = resources[logicalId(guardian.guardianFunction)] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    const endpoint = { 'Fn::GetAtt': [logicalId(stack.ingress.httpApi), 'ApiEndpoint'] };
    const expected = { 'Fn::Join': ['', [endpoint, `/aircall/webhook,${CUSTOM_URL}`]] };
    expect(fn.Properties.Environment.Variables.WEBHOOK_URLS).toEqual(expected);
    template.hasOutput('WebhookUrls', { Value: expected });
  });

  it('runs on arm64 with the house runtime and a timeout for slow Aircall answers', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: Match.absent(),
      Architectures: ['arm64'],
      Runtime: 'nodejs24.x',
      Timeout: 120,
      Environment: { Variables: Match.objectLike({ AIRCALL_SECRET_ID: SECRET_NAME }) },
    });
  });
});
