// Alarms: what must reach a person, on one SNS topic: dead letters, a stuck queue, failing or refused webhooks, failing
// or throttled functions, a failing or silent guardian.
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ALARMED_GUARDIAN_METRICS,
  FUNCTION_URL_METRICS,
  GUARDIAN_METRICS,
  INGEST_REJECTED_MESSAGE,
  INGEST_UNAVAILABLE_MESSAGE,
  INGRESS_METRICS,
  PERSIST_METRICS,
} from '../definitions/metrics.js';
import { ACCESS_LOG_STATUS_FIELD, type HttpApiEndpoint, type WebhookEndpoint } from './ingress.js';

export interface AlarmsProps {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * What receives the webhooks: the HTTP API, whose metrics and JSON access log (where throttled 429 answers are
   * counted) the webhook alarms watch, or ingest's function URL, whose metrics they watch instead.
   */
  readonly endpoint: WebhookEndpoint;
  /** The ingest function's log, where its token rejections (401) are counted. */
  readonly ingestLogGroup: logs.ILogGroup;
  /** The ingest function: behind the HTTP API its throttles are answered 5xx, behind a function URL 429. */
  readonly ingestFunction: lambda.IFunction;
  /** The guardian, when the stack has one. */
  readonly guardianFunction?: lambda.IFunction;
  /**
   * Subscribed to the alarm topic; without it the topic has no subscriber until someone adds one.
   * @default no subscription
   */
  readonly alarmEmail?: string;
  /**
   * Age of the oldest queued event that counts as a stuck pipeline.
   * @default Duration.minutes(15)
   */
  readonly maxBacklogAge?: Duration;
}

const FIVE_MINUTES = Duration.minutes(5);
/** Three ticks of the default guardian schedule: a guardian that has not run in this long has stopped running. */
export const GUARDIAN_SILENCE = Duration.minutes(15);
// Below this many requests in five minutes a share of 4xx says little: one stray request would be 100%.
const CLIENT_ERROR_RATE_MIN_REQUESTS = 20;

export class Alarms extends Construct {
  public readonly topic: sns.Topic;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'aircall-webhook-stack alarms',
      enforceSSL: true,
    });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, and the messages ' +
        'carry only alarm names and states, never event data.',
    });
    if (props.alarmEmail !== undefined) {
      const subscription = this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'An alarm e-mail that cannot be delivered loses nothing: the alarm stays in ALARM in CloudWatch, and a ' +
          'dead-letter queue of undelivered alarm e-mails would itself need an alarm.',
      });
    }

    this.add('DeadLetters', {
      alarmDescription:
        'Events persist could not store after every retry are in the dead-letter queue: inspect, fix, redrive.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: FIVE_MINUTES,
        statistic: 'Maximum',
      }),
      threshold: 1,
    });
    // Depth alone stays in ALARM while old dead letters wait, and so hides the next one: this fires again on each
    // arrival, whether the redrive policy moved it (depth grows) or persist sent it there itself (a send).
    this.add('DeadLetterArrivals', {
      alarmDescription:
        'A new event reached the dead-letter queue (its failure_reason attribute says why): inspect, fix, redrive.',
      metric: new cloudwatch.MathExpression({
        label: 'dead letters arrived',
        expression: 'MAX([DIFF(visible), sent])',
        usingMetrics: {
          visible: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
          }),
          sent: props.deadLetterQueue.metricNumberOfMessagesSent({
            period: Duration.minutes(1),
            statistic: 'Sum',
          }),
        },
        period: Duration.minutes(1),
      }),
      threshold: 1,
    });
    this.add('EventsBacklog', {
      alarmDescription: 'The oldest queued event has waited too long: persist is failing or throttled.',
      metric: props.queue.metricApproximateAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }),
      threshold: (props.maxBacklogAge ?? Duration.minutes(15)).toSeconds(),
    });
    if (props.endpoint.kind === 'http-api') this.watchHttpApi(props.endpoint, props.ingestFunction);
    else this.watchFunctionUrl(props.ingestFunction);
    this.add('WebhookTokenRejected', {
      alarmDescription:
        'Ingest answered 401 to webhooks with a missing or unknown token, and enqueued nothing: a webhook the ' +
        'registry does not hold (yet), a token rotated at Aircall, or someone probing the endpoint.',
      metric: this.countLogLines('TokenRejectedFilter', {
        logGroup: props.ingestLogGroup,
        filterPattern: logs.FilterPattern.all(
          logs.FilterPattern.stringValue('$.message', '=', INGEST_REJECTED_MESSAGE),
          logs.FilterPattern.numberValue('$.status', '=', 401),
        ),
        metricName: INGRESS_METRICS.names.tokenRejected,
      }),
      threshold: 5,
    });
    // Counts without an alarm, for the dashboard and for queries: what ingest accepted, refused and could not queue.
    // Accepted requests are counted from the access log, which only the HTTP API writes.
    if (props.endpoint.kind === 'http-api')
      this.countLogLines('AcceptedFilter', {
        logGroup: props.endpoint.accessLogGroup,
        filterPattern: logs.FilterPattern.stringValue(`$.${ACCESS_LOG_STATUS_FIELD}`, '=', '200'),
        metricName: INGRESS_METRICS.names.accepted,
      });
    this.countLogLines('RejectedFilter', {
      logGroup: props.ingestLogGroup,
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', INGEST_REJECTED_MESSAGE),
      metricName: INGRESS_METRICS.names.rejected,
      // The status, not the reason: a reason may name a size, and each distinct value would be a metric of its own.
      dimensions: { status: '$.status' },
    });
    this.countLogLines('EnqueueFailuresFilter', {
      logGroup: props.ingestLogGroup,
      filterPattern: logs.FilterPattern.all(
        logs.FilterPattern.stringValue('$.message', '=', INGEST_UNAVAILABLE_MESSAGE),
        logs.FilterPattern.stringValue('$.reason', '=', 'enqueue failed'),
      ),
      metricName: INGRESS_METRICS.names.enqueueFailures,
    });
    this.add('ForeignWritesRefused', {
      alarmDescription:
        'Persist refused state writes for items another account owns: one account sent events for ids of ' +
        'another (a forgery, or a misrouted webhook). Its log line "foreign write refused" names the sender, the item and the event.',
      metric: new cloudwatch.Metric({
        namespace: PERSIST_METRICS.options.namespace,
        metricName: PERSIST_METRICS.names.foreignWritesRefused,
        dimensionsMap: PERSIST_METRICS.dimensions,
        period: FIVE_MINUTES,
        statistic: 'Sum',
      }),
      threshold: 1,
    });
    if (props.guardianFunction !== undefined) {
      this.add('GuardianErrors', {
        alarmDescription: 'The guardian failed outright: deactivated webhooks are not being re-enabled.',
        metric: props.guardianFunction.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
      });
      this.add('GuardianThrottles', {
        alarmDescription:
          'Lambda throttled the guardian: a tick came while a pass still ran (a schedule shorter than a pass) and ' +
          'was dropped. Lengthen guardianSchedule to 5 minutes or more.',
        metric: props.guardianFunction.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
      });
      // Errors and the guardian's own metrics say nothing when it does not run at all (the schedule rule disabled or
      // deleted, invocations refused): so no invocation in three ticks, and no data, is an alarm too.
      this.add('GuardianSilent', {
        alarmDescription:
          'The guardian has not run for 15 minutes: deactivated webhooks are not re-enabled and gaps not repaired. ' +
          'Check that its EventBridge schedule rule is enabled and that the function can be invoked; a ' +
          'guardianSchedule longer than 5 minutes trips this too.',
        metric: props.guardianFunction.metricInvocations({ period: GUARDIAN_SILENCE, statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      for (const name of ALARMED_GUARDIAN_METRICS) {
        this.add(name, {
          alarmDescription: `The guardian reported ${name}: see its log for the account and the reason.`,
          metric: new cloudwatch.Metric({
            namespace: GUARDIAN_METRICS.options.namespace,
            metricName: name,
            dimensionsMap: GUARDIAN_METRICS.dimensions,
            period: FIVE_MINUTES,
            statistic: 'Sum',
          }),
          threshold: 1,
        });
      }
      // Accounts appear only at run time, so the guardian counts those left without a row itself, and one alarm on
      // that count covers them all: no alarm per account, no query over the account dimension.
      this.add(GUARDIAN_METRICS.names.accountsWithoutWebhooks, {
        alarmDescription:
          'An Aircall account has no row left in the token registry: ingest refuses every delivery it sends. ' +
          'The guardian log names the account (registered: 0); its RegisteredWebhooks metric shows when it dropped.',
        metric: new cloudwatch.Metric({
          namespace: GUARDIAN_METRICS.options.namespace,
          metricName: GUARDIAN_METRICS.names.accountsWithoutWebhooks,
          dimensionsMap: GUARDIAN_METRICS.dimensions,
          period: FIVE_MINUTES,
          statistic: 'Maximum',
        }),
        threshold: 1,
        // A state, not an event: between two runs nothing is known, so the alarm keeps what the last run said.
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      });
    }
  }

  /** The webhook alarms behind the HTTP API: its 5xx, its share of 4xx, and the stage's 429 from the access log. */
  private watchHttpApi(endpoint: HttpApiEndpoint, ingestFunction: lambda.IFunction): void {
    const { httpApi } = endpoint;
    this.add('IngestThrottles', {
      alarmDescription:
        'Lambda throttled ingest (the account has no concurrency left, or its limit is too low): those webhooks ' +
        'were answered 5xx and Aircall retries them. Raise the account concurrency limit or find what uses it.',
      metric: ingestFunction.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
    });
    this.add('WebhookServerErrors', {
      alarmDescription:
        'The webhook answered 5xx: Aircall retries, and deactivates the webhook if it goes on.',
      metric: httpApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 5,
    });
    this.add('WebhookClientErrorRate', {
      alarmDescription:
        'Over 10% of webhook requests were answered 4xx: events refused as unstorable (400, 413, 415), unknown ' +
        'tokens, throttling or stray requests. Aircall counts each as a failed delivery; the ingest log says why.',
      metric: this.clientErrorRate(
        httpApi.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum' }),
        httpApi.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' }),
      ),
      threshold: 10,
    });
    // Counted from logs, not published by ingest: its hot path stays one SendMessage.
    this.add('WebhookThrottled', {
      alarmDescription:
        'API Gateway answered 429 to webhook requests above throttlingRateLimit or throttlingBurstLimit: Aircall ' +
        'retries, and deactivates the webhook if it goes on. Raise the limits, or find the flood.',
      metric: this.countLogLines('ThrottledFilter', {
        logGroup: endpoint.accessLogGroup,
        filterPattern: logs.FilterPattern.stringValue(`$.${ACCESS_LOG_STATUS_FIELD}`, '=', '429'),
        metricName: INGRESS_METRICS.names.throttled,
      }),
      threshold: 5,
    });
  }

  /**
   * The same webhook alarms behind a function URL, from the metrics Lambda publishes for it: no access log, and no
   * stage, so the throttle is ingest's reserved concurrency and a throttled invocation is the 429 Aircall gets.
   */
  private watchFunctionUrl(ingestFunction: lambda.IFunction): void {
    const urlMetric = (metricName: string): cloudwatch.Metric =>
      ingestFunction.metric(metricName, { period: FIVE_MINUTES, statistic: 'Sum' });
    this.add('WebhookServerErrors', {
      alarmDescription:
        'The webhook function URL answered 5xx (ingest failed or timed out): Aircall retries, and deactivates the ' +
        'webhook if it goes on. The ingest log says why.',
      metric: urlMetric(FUNCTION_URL_METRICS.serverErrors),
      threshold: 5,
    });
    this.add('WebhookClientErrorRate', {
      alarmDescription:
        'Over 10% of webhook requests were answered 4xx: events refused as unstorable (400, 413, 415), unknown ' +
        'tokens, throttling (429) or stray requests (404). Aircall counts each as a failed delivery; the ingest log ' +
        'says why.',
      metric: this.clientErrorRate(
        urlMetric(FUNCTION_URL_METRICS.clientErrors),
        urlMetric(FUNCTION_URL_METRICS.requests),
      ),
      threshold: 10,
    });
    this.add('WebhookThrottled', {
      alarmDescription:
        'Lambda throttled ingest above its reserved concurrency (ingestReservedConcurrency): the function URL ' +
        'answered 429, Aircall retries, and deactivates the webhook if it goes on. Raise ' +
        'ingestReservedConcurrency, or find the flood.',
      metric: ingestFunction.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 5,
    });
  }

  /** Percent of requests answered 4xx, 0 below a handful of requests (where one stray request would be 100%). */
  private clientErrorRate(
    clientErrors: cloudwatch.IMetric,
    requests: cloudwatch.IMetric,
  ): cloudwatch.IMetric {
    return new cloudwatch.MathExpression({
      label: 'webhook 4xx, % of requests',
      expression: `IF(requests >= ${CLIENT_ERROR_RATE_MIN_REQUESTS}, 100 * FILL(clientErrors, 0) / requests, 0)`,
      usingMetrics: { clientErrors, requests },
      period: FIVE_MINUTES,
    });
  }

  /**
   * Alarms on a queue consumer (persist, the archive): `<name>Errors` on any failed invocation, `<name>Throttles` on
   * any throttled one (its reserved concurrency should make that impossible), each saying what to do.
   */
  public watchConsumer(
    name: string,
    fn: lambda.IFunction,
    descriptions: { readonly errors: string; readonly throttles: string },
  ): void {
    this.add(`${name}Errors`, {
      alarmDescription: descriptions.errors,
      metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
    });
    this.add(`${name}Throttles`, {
      alarmDescription: descriptions.throttles,
      metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
    });
  }

  /** A count of the log lines that match, as a metric filter publishes it, summed over five minutes. */
  private countLogLines(
    id: string,
    props: {
      logGroup: logs.ILogGroup;
      filterPattern: logs.IFilterPattern;
      metricName: string;
      dimensions?: Record<string, string>;
    },
  ): cloudwatch.IMetric {
    const filter = new logs.MetricFilter(this, id, {
      logGroup: props.logGroup,
      filterPattern: props.filterPattern,
      metricNamespace: INGRESS_METRICS.namespace,
      metricName: props.metricName,
      metricValue: '1',
      unit: cloudwatch.Unit.COUNT,
      ...(props.dimensions === undefined ? {} : { dimensions: props.dimensions }),
    });
    return filter.metric({ period: FIVE_MINUTES, statistic: 'Sum' });
  }

  private add(
    id: string,
    props: {
      alarmDescription: string;
      metric: cloudwatch.IMetric;
      threshold: number;
      comparisonOperator?: cloudwatch.ComparisonOperator;
      treatMissingData?: cloudwatch.TreatMissingData;
    },
  ): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data means nothing happened: no dead letters, no requests, no guardian run to report on.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
