// What runs gap repair on AWS: the guardian's schedule, timeout and concurrency, what it may read and write for the
// repair, the accounts table, persist's note of each account's latest event, and the alarm on a failed repair.
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { loadGuardianConfig } from '../../lambdas/guardian/config.js';
import { DEFAULT_CONFIG } from '../../lib/config.js';
import { Guardian } from '../../lib/constructs/guardian.js';
import { WebhookTables } from '../../lib/constructs/tables.js';
import { GUARDIAN_METRICS } from '../../lib/definitions/metrics.js';
import { GUARDIAN } from '../../lib/definitions/pipeline.js';
import { STATE_TABLES, TABLES } from '../../lib/definitions/tables.js';
import {
  arnOf,
  CDK_CONTEXT,
  httpApiOf,
  logicalId,
  normalize,
  policyStatements,
  type Statement,
  synthesize,
} from './support.js';

const SECRET_NAME = 'aircall/credentials';
const { stack, template } = synthesize({ aircallSecretName: SECRET_NAME });
const guardian = stack.guardian;
if (guardian === undefined) throw new Error('the guardian was not built');
const { guardianFunction } = guardian;
const { tables } = stack.tables;
const resources = template.toJSON().Resources;
const propertiesOf = (construct: Parameters<typeof logicalId>[0]) => {
  const resource = resources[logicalId(construct)];
  if (!resource) throw new Error(`no resource for ${construct.node.path}`);
  return resource.Properties;
};
const roleOf = (fn: typeof guardianFunction): string => {
  if (!fn.role) throw new Error(`${fn.node.path} has no role`);
  return logicalId(fn.role);
};

/** Each action on each resource the statements allow, one line apiece, so that merged statements compare too. */
const grants = (statements: readonly Statement[]): string[] =>
  statements
    .map(normalize)
    .flatMap(({ actions, resources: on }) => actions.flatMap((a) => on.map((r) => `${a} ${r}`)))
    .sort();
const grant = (action: string, resource: unknown): string => `${action} ${JSON.stringify(resource)}`;

/** Seconds between two runs of a `rate(...)` schedule expression. */
const rateSeconds = (expression: string): number => {
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (rate === null) throw new Error(`${expression} is not a rate expression`);
  const unit = { minute: 60, hour: 3600, day: 86_400 }[rate[2] as 'minute' | 'hour' | 'day'];
  return Number(rate[1]) * unit;
};

/**
 * The guardian as the stack builds it but without gap repair, at the same construct paths so the logical ids match:
 * what gap repair adds is the difference.
 */
const withoutGapRepair = () => {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] }, stackTraces: false });
  const probe = new Stack(app, 'ProbeStack');
  const probeTables = new WebhookTables(probe, 'Tables');
  new sqs.Queue(probe, 'EventsQueue');
  const bare = new Guardian(probe, 'Guardian', {
    webhooksTable: probeTables.tables.webhooks,
    secretName: SECRET_NAME,
    webhookUrls: ['https://hooks.example.com/aircall/webhook'],
  });
  return { guardian: bare, template: Template.fromStack(probe) };
};

describe('the guardian schedule', () => {
  const rules = Object.values(template.findResources('AWS::Events::Rule'));

  it('runs the guardian, and with it gap repair, every 5 minutes by default', () => {
    expect(DEFAULT_CONFIG.guardianSchedule).toBe('rate(5 minutes)');
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rules[0]?.Properties.State).toBe('ENABLED');
  });

  it('targets the guardian alone, and never retries a failed run', () => {
    const targets = rules[0]?.Properties.Targets as { Arn: unknown; RetryPolicy: unknown }[];
    expect(targets).toHaveLength(1);
    expect(targets[0]?.Arn).toEqual(arnOf(guardianFunction));
    expect(targets[0]?.RetryPolicy).toEqual({ MaximumRetryAttempts: 0 });
  });
});

describe('the guardian function', () => {
  const fn = propertiesOf(guardianFunction);

  it('gives a pass 270 seconds, ending before the next tick', () => {
    expect(fn.Timeout).toBe(270);
    expect(fn.Timeout).toBe(GUARDIAN.timeoutSeconds);
    const schedule = Object.values(template.findResources('AWS::Events::Rule'))[0]?.Properties
      .ScheduleExpression as string;
    expect(fn.Timeout).toBeLessThan(rateSeconds(schedule));
  });

  it('runs one pass at a time, so one reconcile at a time reads an account and moves its cursor', () => {
    expect(fn.ReservedConcurrentExecutions).toBe(1);
  });

  it('drops, rather than retries or queues, a tick that could not run', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(guardianFunction) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('learns the events queue, the accounts table and the four state tables from its environment', () => {
    expect(fn.Environment.Variables).toEqual({
      WEBHOOKS_TABLE: { Ref: logicalId(tables.webhooks) },
      AIRCALL_SECRET_ID: SECRET_NAME,
      WEBHOOK_URLS: {
        'Fn::Join': [
          '',
          [{ 'Fn::GetAtt': [logicalId(httpApiOf(stack).httpApi), 'ApiEndpoint'] }, '/aircall/webhook'],
        ],
      },
      AIRCALL_API_URL: 'https://api.aircall.io/v1',
      EVENTS_QUEUE_URL: { Ref: logicalId(stack.events.queue) },
      ACCOUNTS_TABLE: { Ref: logicalId(tables.accounts) },
      CALLS_TABLE: { Ref: logicalId(tables.calls) },
      USERS_TABLE: { Ref: logicalId(tables.users) },
      NUMBERS_TABLE: { Ref: logicalId(tables.numbers) },
      CONTACTS_TABLE: { Ref: logicalId(tables.contacts) },
    });
  });

  it('gets an environment that turns gap repair on in the handler, every table named', () => {
    const variables = fn.Environment.Variables as Record<string, unknown>;
    // Each token stands for the physical name or URL CloudFormation puts there.
    const deployed = Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [
        name,
        typeof value === 'string' ? value : name === 'WEBHOOK_URLS' ? 'https://x.example/h' : `<${name}>`,
      ]),
    );
    expect(loadGuardianConfig(deployed).gapRepair).toEqual({
      eventsQueueUrl: '<EVENTS_QUEUE_URL>',
      accountsTable: '<ACCOUNTS_TABLE>',
      stateTables: {
        calls: '<CALLS_TABLE>',
        users: '<USERS_TABLE>',
        numbers: '<NUMBERS_TABLE>',
        contacts: '<CONTACTS_TABLE>',
      },
    });
  });
});

describe('the guardian role for gap repair', () => {
  const statements = policyStatements(template, roleOf(guardianFunction));
  const allowed = grants(statements);

  it('gains exactly the accounts record, batch reads of the state tables and sends to the events queue', () => {
    const bare = withoutGapRepair();
    const before = grants(policyStatements(bare.template, roleOf(bare.guardian.guardianFunction)));
    expect(allowed.filter((g) => !before.includes(g))).toEqual(
      [
        grant('dynamodb:GetItem', arnOf(tables.accounts)),
        grant('dynamodb:UpdateItem', arnOf(tables.accounts)),
        ...STATE_TABLES.map((name) => grant('dynamodb:BatchGetItem', arnOf(tables[name]))),
        grant('sqs:SendMessage', arnOf(stack.events.queue)),
      ].sort(),
    );
    expect(before.filter((g) => !allowed.includes(g))).toEqual([]);
    const bareFunction = bare.template.toJSON().Resources[logicalId(bare.guardian.guardianFunction)];
    expect(Object.keys(bareFunction.Properties.Environment.Variables).sort()).toEqual([
      'AIRCALL_API_URL',
      'AIRCALL_SECRET_ID',
      'WEBHOOKS_TABLE',
      'WEBHOOK_URLS',
    ]);
  });

  it('gives each gap repair grant in a statement of its own, without conditions or wildcards', () => {
    const repair = statements
      .filter((s) => !JSON.stringify(s).includes(logicalId(tables.webhooks)))
      .filter((s) => !JSON.stringify(s.Action).match(/logs:|secretsmanager:/));
    expect(repair).toEqual(
      expect.arrayContaining([
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          Resource: arnOf(tables.accounts),
        },
        {
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Resource: arnOf(stack.events.queue),
        },
      ]),
    );
    expect(repair).toHaveLength(3);
    const batch = repair.find((s) => s.Action === 'dynamodb:BatchGetItem');
    expect(normalize(batch ?? { Effect: '', Action: [], Resource: [] })).toEqual(
      normalize({
        Effect: 'Allow',
        Action: 'dynamodb:BatchGetItem',
        Resource: STATE_TABLES.map((name) => arnOf(tables[name])),
      }),
    );
    expect(JSON.stringify(statements)).not.toContain('*');
    expect(statements.filter((s) => 'Condition' in s)).toEqual([]);
  });

  it.each(STATE_TABLES)('may only batch-read the %s table: no put, update, delete or write', (name) => {
    const on = JSON.stringify(arnOf(tables[name]));
    expect(allowed.filter((g) => g.endsWith(` ${on}`))).toEqual([`dynamodb:BatchGetItem ${on}`]);
  });

  it('may not touch the event log at all', () => {
    const on = JSON.stringify(arnOf(tables.events));
    expect(allowed.filter((g) => g.endsWith(` ${on}`))).toEqual([]);
  });

  it('may read and update the accounts record, and never put or delete it', () => {
    const on = JSON.stringify(arnOf(tables.accounts));
    expect(allowed.filter((g) => g.endsWith(` ${on}`))).toEqual([
      `dynamodb:GetItem ${on}`,
      `dynamodb:UpdateItem ${on}`,
    ]);
  });

  it('may send to the events queue only, never to its dead-letter queue nor receive from either', () => {
    expect(allowed.filter((g) => g.startsWith('sqs:'))).toEqual([
      grant('sqs:SendMessage', arnOf(stack.events.queue)),
    ]);
  });
});

describe('the accounts table', () => {
  const table = resources[logicalId(tables.accounts)];

  it('is keyed by the account name, a string, with no sort key, index or expiry', () => {
    expect(TABLES.accounts.partitionKey).toEqual({ name: 'account', type: 'S' });
    expect(table.Properties.KeySchema).toEqual([{ AttributeName: 'account', KeyType: 'HASH' }]);
    expect(table.Properties.AttributeDefinitions).toEqual([{ AttributeName: 'account', AttributeType: 'S' }]);
    expect(table.Properties.GlobalSecondaryIndexes).toBeUndefined();
    expect(table.Properties.TimeToLiveSpecification).toBeUndefined();
  });

  it('bills on demand, keeps point-in-time recovery and encrypts, as the other tables do', () => {
    const calls = resources[logicalId(tables.calls)];
    for (const props of [table.Properties, calls.Properties]) {
      expect(props.BillingMode).toBe('PAY_PER_REQUEST');
      expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(props.SSESpecification).toEqual({ SSEEnabled: true });
    }
  });

  it('is retained with the stack by default, as the other tables are, and has no hard-coded name', () => {
    expect([table.DeletionPolicy, table.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    expect(table.Properties.TableName).toBeUndefined();
    template.hasOutput('AccountsTableName', { Value: { Ref: logicalId(tables.accounts) } });
  });

  it('is reached by persist and the guardian alone', () => {
    const on = JSON.stringify(arnOf(tables.accounts));
    const roles = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.PolicyDocument).includes(on))
      .flatMap((policy) => policy.Properties.Roles as unknown[]);
    expect(roles.map((r) => JSON.stringify(r)).sort()).toEqual(
      [{ Ref: roleOf(stack.persistence.persistFunction) }, { Ref: roleOf(guardianFunction) }]
        .map((r) => JSON.stringify(r))
        .sort(),
    );
  });
});

describe('persist and the accounts table', () => {
  const { persistFunction } = stack.persistence;

  it('may only update the accounts record, in one statement of its own', () => {
    const statements = policyStatements(template, roleOf(persistFunction)).filter((s) =>
      JSON.stringify(s.Resource).includes(logicalId(tables.accounts)),
    );
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'dynamodb:UpdateItem', Resource: arnOf(tables.accounts) },
    ]);
  });

  it('learns the accounts table from its environment', () => {
    expect(propertiesOf(persistFunction).Environment.Variables.ACCOUNTS_TABLE).toEqual({
      Ref: logicalId(tables.accounts),
    });
  });
});

describe('the GapRepairFailures alarm', () => {
  const alarmsNamed = (t: typeof template, name: string) =>
    Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter(
      (alarm) => alarm.Properties.MetricName === name,
    );

  it('fires on the first account whose gap could not be read, and notifies the alarm topic', () => {
    const alarms = alarmsNamed(template, GUARDIAN_METRICS.names.gapRepairFailures);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      Namespace: GUARDIAN_METRICS.options.namespace,
      MetricName: 'GapRepairFailures',
      Dimensions: [{ Name: 'service', Value: 'guardian' }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: logicalId(stack.alarms.topic) }],
    });
  });

  it('is not made without a guardian', () => {
    expect(alarmsNamed(synthesize().template, GUARDIAN_METRICS.names.gapRepairFailures)).toEqual([]);
  });
});
