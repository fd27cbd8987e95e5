import { Match } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import {
  ALARMED_GUARDIAN_METRICS,
  GUARDIAN_METRICS,
  INGEST_REJECTED_MESSAGE,
  INGRESS_METRICS,
  PERSIST_METRICS,
} from '../../lib/definitions/metrics.js';
import { httpApiOf, logicalId, synthesize } from './support.js';

const withEverything = synthesize({
  aircallSecretName: 'aircall/credentials',
  alarmEmail: 'ops@example.com',
});
const bare = synthesize();

const alarmsOf = (template: typeof bare.template) =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm')) as {
    Properties: { MetricName: string; Namespace: string; Threshold: number; AlarmActions: unknown[] };
  }[];

describe('Alarms', () => {
  it('alarms on dead letters, stuck queues, webhook 5xx, throttling, rejected tokens, foreign writes and failing or throttled functions in every stack', () => {
    const metrics = alarmsOf(bare.template)
      .filter((a) => a.Properties.MetricName !== undefined)
      .map((a) => `${a.Properties.Namespace}/${a.Properties.MetricName}`);
    expect(metrics.sort()).toEqual(
      [
        'AWS/ApiGateway/5xx',
        'AWS/SQS/ApproximateAgeOfOldestMessage',
        // The media queue's.
        'AWS/SQS/ApproximateAgeOfOldestMessage',
        'AWS/SQS/ApproximateNumberOfMessagesVisible',
        // The media dead-letter queue's, from the media archive the stack has by default.
        'AWS/SQS/ApproximateNumberOfMessagesVisible',
        `${INGRESS_METRICS.namespace}/${INGRESS_METRICS.names.throttled}`,
        `${INGRESS_METRICS.namespace}/${INGRESS_METRICS.names.tokenRejected}`,
        `${PERSIST_METRICS.options.namespace}/${PERSIST_METRICS.names.foreignWritesRefused}`,
        // Persist's and the archive's.
        'AWS/Lambda/Errors',
        'AWS/Lambda/Errors',
        // Ingest's, persist's and the archive's.
        'AWS/Lambda/Throttles',
        'AWS/Lambda/Throttles',
        'AWS/Lambda/Throttles',
      ].sort(),
    );
  });

  it('watches the dead-letter queue from its first message', () => {
    bare.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(bare.stack.events.deadLetterQueue), 'QueueName'] },
        },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms again on each new dead letter, moved there by the redrive policy or sent by persist', () => {
    bare.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Id: 'expr_1', Expression: 'MAX([DIFF(visible), sent])', ReturnData: true }),
        Match.objectLike({
          Id: 'visible',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: 'ApproximateNumberOfMessagesVisible',
              Dimensions: [
                {
                  Name: 'QueueName',
                  Value: { 'Fn::GetAtt': [logicalId(bare.stack.events.deadLetterQueue), 'QueueName'] },
                },
              ],
            }),
            Stat: 'Maximum',
            Period: 60,
          }),
          ReturnData: false,
        }),
        Match.objectLike({
          Id: 'sent',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'NumberOfMessagesSent' }),
            Stat: 'Sum',
          }),
        }),
      ]),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on the first write persist refused because another account owns the item', () => {
    bare.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AircallWebhookStack',
      MetricName: PERSIST_METRICS.names.foreignWritesRefused,
      Dimensions: Object.entries(PERSIST_METRICS.dimensions).map(([Name, Value]) => ({ Name, Value })),
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('adds the guardian alarms when the stack has a guardian', () => {
    const metrics = alarmsOf(withEverything.template).map((a) => a.Properties.MetricName);
    expect(metrics).toEqual(
      expect.arrayContaining([
        'Errors',
        'Throttles',
        'Invocations',
        ...ALARMED_GUARDIAN_METRICS,
        'AccountsWithoutWebhooks',
      ]),
    );
  });

  it('alarms once any account is left without a registry row, and holds that state between runs', () => {
    withEverything.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: GUARDIAN_METRICS.options.namespace,
      MetricName: GUARDIAN_METRICS.names.accountsWithoutWebhooks,
      Dimensions: [{ Name: 'service', Value: 'guardian' }],
      Statistic: 'Maximum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
      AlarmActions: [{ Ref: logicalId(withEverything.stack.alarms.topic) }],
    });
  });

  it.each(ALARMED_GUARDIAN_METRICS)(
    'selects %s by the namespace and dimensions the guardian emits',
    (name) => {
      withEverything.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: GUARDIAN_METRICS.options.namespace,
        MetricName: name,
        Dimensions: Object.entries(GUARDIAN_METRICS.dimensions).map(([Name, Value]) => ({ Name, Value })),
      });
    },
  );

  it('notifies one TLS-only topic, which e-mails alarmEmail when it is set', () => {
    const topic = { Ref: logicalId(withEverything.stack.alarms.topic) };
    for (const alarm of alarmsOf(withEverything.template))
      expect(alarm.Properties.AlarmActions).toEqual([topic]);
    withEverything.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: topic,
    });
    bare.template.resourceCountIs('AWS::SNS::Subscription', 0);
    withEverything.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    withEverything.template.hasOutput('AlarmTopicArn', { Value: topic });
  });
});

describe('ingress alarms', () => {
  const { stack, template } = bare;
  const topic = { Ref: logicalId(stack.alarms.topic) };
  const apiId = { Ref: logicalId(httpApiOf(stack).httpApi) };

  it('alarms when over 10% of at least 20 webhook requests in five minutes are answered 4xx', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({
          Expression: 'IF(requests >= 20, 100 * FILL(clientErrors, 0) / requests, 0)',
          ReturnData: true,
        }),
        Match.objectLike({
          Id: 'clientErrors',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/ApiGateway',
              MetricName: '4xx',
              Dimensions: [{ Name: 'ApiId', Value: apiId }],
            },
            Period: 300,
            Stat: 'Sum',
          },
          ReturnData: false,
        }),
        Match.objectLike({
          Id: 'requests',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/ApiGateway',
              MetricName: 'Count',
              Dimensions: [{ Name: 'ApiId', Value: apiId }],
            },
            Period: 300,
            Stat: 'Sum',
          },
          ReturnData: false,
        }),
      ]),
      EvaluationPeriods: 1,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
    });
  });

  it('counts 429 answers from the JSON access log, where the status is a string', () => {
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: logicalId(httpApiOf(stack).accessLogGroup) },
      FilterPattern: '{ $.status = "429" }',
      MetricTransformations: [
        {
          MetricNamespace: INGRESS_METRICS.namespace,
          MetricName: INGRESS_METRICS.names.throttled,
          MetricValue: '1',
          Unit: 'Count',
        },
      ],
    });
    const format = JSON.parse(
      template.toJSON().Resources[logicalId(httpApiOf(stack).stage)].Properties.AccessLogSettings
        .Format as string,
    ) as Record<string, string>;
    expect(format.status).toBe('$context.status');
  });

  it('counts the 401s of ingest’s rejection line from its own log group', () => {
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: logicalId(stack.ingress.ingestFunction.logGroup) },
      FilterPattern: `{ ($.message = "${INGEST_REJECTED_MESSAGE}") && ($.status = 401) }`,
      MetricTransformations: [
        {
          MetricNamespace: INGRESS_METRICS.namespace,
          MetricName: INGRESS_METRICS.names.tokenRejected,
          MetricValue: '1',
          Unit: 'Count',
        },
      ],
    });
  });

  it.each([INGRESS_METRICS.names.throttled, INGRESS_METRICS.names.tokenRejected])(
    'alarms on %s from five in five minutes, quiet when nothing is logged',
    (metricName) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: INGRESS_METRICS.namespace,
        MetricName: metricName,
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 5,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
      });
    },
  );
});

describe('function alarms', () => {
  const { stack, template } = withEverything;
  const topic = { Ref: logicalId(stack.alarms.topic) };
  const { archive, guardian } = stack;
  if (archive === undefined || guardian === undefined)
    throw new Error('this stack has an archive and a guardian');
  const functionName = (fn: IConstruct) => [{ Name: 'FunctionName', Value: { Ref: logicalId(fn) } }];
  const alarm = (id: string) => {
    const found = withEverything.stack.alarms.alarms.find((a) => a.node.id === id);
    if (found === undefined) throw new Error(`no alarm ${id}`);
    return template.toJSON().Resources[logicalId(found)].Properties as Record<string, unknown>;
  };

  it.each([
    ['PersistErrors', 'Errors', () => stack.persistence.persistFunction],
    ['ArchiveErrors', 'Errors', () => archive.archiveFunction],
    ['IngestThrottles', 'Throttles', () => stack.ingress.ingestFunction],
    ['PersistThrottles', 'Throttles', () => stack.persistence.persistFunction],
    ['ArchiveThrottles', 'Throttles', () => archive.archiveFunction],
    ['GuardianThrottles', 'Throttles', () => guardian.guardianFunction],
  ])('%s fires on one %s of its function in five minutes, quiet without data', (id, metricName, fn) => {
    expect(alarm(id)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: metricName,
      Dimensions: functionName(fn()),
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
      AlarmDescription: expect.stringMatching(/\S/),
    });
  });

  it('GuardianSilent fires when the guardian was not invoked in 15 minutes, and when there is no data at all', () => {
    expect(alarm('GuardianSilent')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: functionName(guardian.guardianFunction),
      Statistic: 'Sum',
      Period: 900,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [topic],
    });
  });

  it('has no guardian alarm in a stack without a guardian', () => {
    const ids = bare.stack.alarms.alarms.map((a) => a.node.id);
    expect(ids).toEqual(expect.arrayContaining(['PersistErrors', 'IngestThrottles']));
    expect(ids.filter((id) => id.startsWith('Guardian'))).toEqual([]);
    expect(alarmsOf(bare.template).filter((a) => a.Properties.MetricName === 'Invocations')).toEqual([]);
  });

  it('says what to do in every alarm of the stack', () => {
    for (const resource of Object.values(template.findResources('AWS::CloudWatch::Alarm')))
      expect(String(resource.Properties.AlarmDescription).length).toBeGreaterThan(40);
  });

  it('alarms on the events queue once its oldest event is 15 minutes old', () => {
    expect(alarm('EventsBacklog')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.events.queue), 'QueueName'] } },
      ],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 900,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [topic],
    });
  });
});

describe('the ingress counts', () => {
  const filters = Object.values(
    bare.template.findResources('AWS::Logs::MetricFilter') as Record<
      string,
      { Properties: Record<string, unknown> }
    >,
  ).map((resource) => resource.Properties);
  const byName = (name: string) =>
    filters.find(
      (f) => (f.MetricTransformations as { MetricName: string }[] | undefined)?.[0]?.MetricName === name,
    );

  it('counts the webhooks answered 200 from the access log', () => {
    expect(byName('WebhooksAccepted')).toMatchObject({
      FilterPattern: expect.stringContaining('200'),
      LogGroupName: { Ref: logicalId(httpApiOf(bare.stack).accessLogGroup) },
    });
  });

  it('counts ingest’s refusals by status, never by their free-text reason', () => {
    expect(byName('WebhooksRejected')).toMatchObject({
      FilterPattern: expect.stringContaining('webhook rejected'),
      MetricTransformations: [
        expect.objectContaining({ Dimensions: [{ Key: 'status', Value: '$.status' }] }),
      ],
    });
  });

  it('counts the webhooks answered 503 because the queue would not take them', () => {
    expect(byName('EnqueueFailures')).toMatchObject({
      FilterPattern: expect.stringMatching(/webhook not accepted.*enqueue failed/),
    });
  });
});
