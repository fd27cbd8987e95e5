import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { GUARDIAN_TABLE_ACTIONS } from '../../lib/constructs/guardian.js';
import { STATE_TABLES } from '../../lib/definitions/tables.js';
import {
  arnOf,
  httpApiOf,
  logicalId,
  normalize,
  policyStatements,
  type Statement,
  secretArn,
  synthesize,
} from './support.js';

const SECRET_NAME = 'aircall/credentials';
const CUSTOM_URL = 'https://hooks.example.com/aircall/webhook';
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const { stack, template } = synthesize({
  aircallSecretName: SECRET_NAME,
  guardianSchedule: 'rate(10 minutes)',
  webhookUrls: [CUSTOM_URL],
});
const guardian = stack.guardian;
if (guardian === undefined) throw new Error('the guardian was not built');
const roleId = logicalId(guardian.guardianFunction.role ?? guardian.guardianFunction);

/** The guardian's statements but its log's: the secret, the registry, and the four of gap repair. */
const expectedStatements = (built: typeof stack): Statement[] => {
  const { tables } = built.tables;
  return [
    {
      Effect: 'Allow',
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      Resource: secretArn(SECRET_NAME),
    },
    { Effect: 'Allow', Action: [...GUARDIAN_TABLE_ACTIONS].sort(), Resource: arnOf(tables.webhooks) },
    {
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      Resource: arnOf(tables.accounts),
    },
    {
      Effect: 'Allow',
      Action: 'dynamodb:BatchGetItem',
      Resource: STATE_TABLES.map((name) => arnOf(tables[name])),
    },
    { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arnOf(built.events.queue) },
  ];
};
const sortedStatements = (statements: readonly Statement[]) =>
  statements.map(normalize).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

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

  it('may read its secret, maintain the registry and repair gaps, and nothing else', () => {
    const statements = policyStatements(template, roleId).filter(
      (statement) => !JSON.stringify(statement.Action).includes('logs:'),
    );
    expect(sortedStatements(statements)).toEqual(sortedStatements(expectedStatements(stack)));
    expect(statements.filter((statement) => 'Condition' in statement)).toEqual([]);
  });

  it('runs one pass at a time: reserved concurrency 1', () => {
    const fn = template.toJSON().Resources[logicalId(guardian.guardianFunction)];
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(1);
  });

  it('never retries an asynchronous invocation, and drops a tick not run within a minute', () => {
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(guardian.guardianFunction) },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('gets no kms permission while the secret uses the AWS-managed key', () => {
    expect(JSON.stringify(policyStatements(template, roleId))).not.toContain('kms:');
  });

  it('carries the secret name, the webhook URL, the registry and what gap repair reads in its environment, and no credential', () => {
    const resources = template.findResources('AWS::Lambda::Function');
    const fn = resources[logicalId(guardian.guardianFunction)] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    const variables = fn.Properties.Environment.Variables;
    expect(Object.keys(variables).sort()).toEqual([
      'ACCOUNTS_TABLE',
      'AIRCALL_API_URL',
      'AIRCALL_SECRET_ID',
      'CALLS_TABLE',
      'CONTACTS_TABLE',
      'EVENTS_QUEUE_URL',
      'NUMBERS_TABLE',
      'USERS_TABLE',
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
    const endpoint = { 'Fn::GetAtt': [logicalId(httpApiOf(stack).httpApi), 'ApiEndpoint'] };
    const expected = { 'Fn::Join': ['', [endpoint, `/aircall/webhook,${CUSTOM_URL}`]] };
    expect(fn.Properties.Environment.Variables.WEBHOOK_URLS).toEqual(expected);
    template.hasOutput('WebhookUrls', { Value: expected });
  });

  it('runs on arm64 with the house runtime and a timeout that leaves a pass time to read gaps', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: Match.absent(),
      Architectures: ['arm64'],
      Runtime: 'nodejs24.x',
      Timeout: 270,
      Environment: { Variables: Match.objectLike({ AIRCALL_SECRET_ID: SECRET_NAME }) },
    });
  });
});

describe('Guardian with a customer-managed key for its secret', () => {
  const keyed = synthesize({ aircallSecretName: SECRET_NAME, aircallSecretKmsKeyArn: KEY_ARN });
  const keyedGuardian = keyed.stack.guardian;
  if (keyedGuardian === undefined) throw new Error('the guardian was not built');
  const statements = policyStatements(
    keyed.template,
    logicalId(keyedGuardian.guardianFunction.role ?? keyedGuardian.guardianFunction),
  ).filter((statement) => !JSON.stringify(statement.Action).includes('logs:'));

  it('may decrypt with that key only, only through Secrets Manager, and only for its own secret', () => {
    const kms = statements.filter((statement) => JSON.stringify(statement.Action).includes('kms:'));
    expect(kms).toEqual([
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: KEY_ARN,
        Condition: {
          StringEquals: {
            'kms:ViaService': {
              'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
            },
          },
          StringLike: {
            'kms:EncryptionContext:SecretARN': secretArn(SECRET_NAME),
          },
        },
      },
    ]);
  });

  it('keeps the secret, registry and gap repair statements as they were, and nothing more', () => {
    const others = statements.filter((statement) => !JSON.stringify(statement.Action).includes('kms:'));
    expect(others).toHaveLength(5);
    expect(sortedStatements(others)).toEqual(sortedStatements(expectedStatements(keyed.stack)));
  });

  it('passes the nag packs, which synthesis runs as a gate', () => {
    expect(() =>
      synthesize({ aircallSecretName: SECRET_NAME, aircallSecretKmsKeyArn: KEY_ARN }),
    ).not.toThrow();
  });
});
