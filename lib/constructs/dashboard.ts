// PipelineDashboard: one CloudWatch dashboard of the whole pipeline, from the webhook to the tables and the archive,
// with the state of every alarm.
import { Aws, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { type CustomMetricGroup, DefaultDashboardFactory, MonitoringFacade } from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import {
  FUNCTION_URL_METRICS,
  GUARDIAN_METRICS,
  METRICS_NAMESPACE,
  PERSIST_METRICS,
} from '../definitions/metrics.js';
import type { WebhookEndpoint } from './ingress.js';

/** A queue and its dead-letter queue, under the name the dashboard shows. */
export interface WatchedQueue {
  readonly name: string;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
}

export interface PipelineDashboardProps {
  /** What receives the webhooks: the HTTP API, or ingest's function URL. */
  readonly endpoint: WebhookEndpoint;
  /** The functions, by the name the dashboard shows, in pipeline order. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly queues: readonly WatchedQueue[];
  /** The tables, by name. */
  readonly tables: Readonly<Record<string, dynamodb.ITable>>;
  /** Every alarm of the stack, shown in one status widget. */
  readonly alarms: readonly cloudwatch.IAlarm[];
  /**
   * Whether the guardian's metrics (gaps opened, objects reconciled) are shown.
   * @default false
   */
  readonly guardian?: boolean;
}

const FIVE_MINUTES = Duration.minutes(5);
// One alarm status widget holds at most 100 alarms; the stack has about 30.
const ALARM_STATUS_WIDGET_MAX = 100;

/** Every series of a per-account metric, one line per account, found by a CloudWatch SEARCH. */
const perAccount = (service: string, metricName: string, label: string): cloudwatch.MathExpression =>
  new cloudwatch.MathExpression({
    expression:
      `SEARCH('{${METRICS_NAMESPACE},account,service} service="${service}" MetricName="${metricName}"', ` +
      `'Sum', ${FIVE_MINUTES.toSeconds()})`,
    // A search takes no metrics; the label is the account each line shows.
    usingMetrics: {},
    label,
    period: FIVE_MINUTES,
  });

const serviceMetric = (
  dimensions: Readonly<Record<string, string>>,
  metricName: string,
  label: string,
): cloudwatch.Metric =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { ...dimensions },
    period: FIVE_MINUTES,
    statistic: 'Sum',
    label,
  });

/** What the facade's HTTP API widgets show, from the metrics Lambda publishes for a function URL. */
const functionUrlWidgets = (fn: lambda.IFunction) => {
  const metric = (metricName: string, label: string, statistic = 'Sum'): cloudwatch.Metric =>
    fn.metric(metricName, { period: FIVE_MINUTES, statistic, label });
  const groups: CustomMetricGroup[] = [
    { title: 'Requests', metrics: [metric(FUNCTION_URL_METRICS.requests, 'requests')] },
    {
      title: 'Errors',
      metrics: [
        metric(FUNCTION_URL_METRICS.clientErrors, '4xx'),
        metric(FUNCTION_URL_METRICS.serverErrors, '5xx'),
      ],
    },
    {
      title: 'Latency',
      metrics: [
        metric(FUNCTION_URL_METRICS.latency, 'p50', 'p50'),
        metric(FUNCTION_URL_METRICS.latency, 'p99', 'p99'),
      ],
    },
  ];
  return {
    alarmFriendlyName: 'WebhookFunctionUrl',
    humanReadableName: 'Webhook function URL',
    metricGroups: groups,
  };
};

/**
 * Built with cdk-monitoring-constructs' MonitoringFacade, for its per-resource widgets (rates, latency percentiles,
 * error and throttle counts, queue age and time to drain, table capacity and throttles) and links to each resource.
 * It creates no alarm here: the stack's alarms stay in their constructs, named and described as the README lists
 * them, and the dashboard shows them all in one status widget. Only the dashboard is created, not the facade's
 * summary and alarm dashboards, under a name made of the stack and its region (dashboard names are account-wide).
 */
export class PipelineDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    if (props.alarms.length > ALARM_STATUS_WIDGET_MAX)
      throw new Error(
        `${props.alarms.length} alarms do not fit one status widget (${ALARM_STATUS_WIDGET_MAX})`,
      );
    const factory = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: `${Aws.STACK_NAME}-${Aws.REGION}`,
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
    });
    const facade = new MonitoringFacade(this, 'Facade', { dashboardFactory: factory });

    facade.addLargeHeader('Alarms');
    facade.addWidget(
      new cloudwatch.AlarmStatusWidget({
        title: 'Every alarm of the stack',
        alarms: [...props.alarms],
        width: 24,
        height: Math.max(3, Math.ceil(props.alarms.length / 4) + 1),
      }),
    );

    facade.addLargeHeader('Webhook endpoint');
    if (props.endpoint.kind === 'http-api')
      facade.monitorApiGatewayV2HttpApi({
        api: props.endpoint.httpApi,
        humanReadableName: 'Webhook HTTP API',
      });
    else facade.monitorCustom(functionUrlWidgets(props.endpoint.ingestFunction));

    facade.addLargeHeader('Functions');
    for (const [name, fn] of Object.entries(props.functions))
      facade.monitorLambdaFunction({ lambdaFunction: fn, humanReadableName: `${name} function` });

    facade.addLargeHeader('Queues');
    for (const watched of props.queues)
      facade.monitorSqsQueueWithDlq({
        queue: watched.queue,
        deadLetterQueue: watched.deadLetterQueue,
        humanReadableName: watched.name,
      });

    facade.addLargeHeader('Tables');
    for (const [name, table] of Object.entries(props.tables))
      facade.monitorDynamoTable({ table, humanReadableName: `${name} table` });

    const { names: persist } = PERSIST_METRICS;
    const metricGroups: CustomMetricGroup[] = [
      {
        title: 'Events stored, per account',
        metrics: [perAccount(PERSIST_METRICS.options.serviceName, persist.eventsStored, 'events stored')],
      },
      {
        title: 'Write units consumed, per account',
        metrics: [perAccount(PERSIST_METRICS.options.serviceName, persist.writeUnitsConsumed, 'write units')],
      },
      {
        title: 'Foreign writes refused',
        metrics: [serviceMetric(PERSIST_METRICS.dimensions, persist.foreignWritesRefused, 'refused')],
      },
    ];
    if (props.guardian === true) {
      const { names: guardian } = GUARDIAN_METRICS;
      metricGroups.push({
        title: 'Gap repair',
        metrics: [
          serviceMetric(GUARDIAN_METRICS.dimensions, guardian.gapsOpened, 'gaps opened'),
          serviceMetric(GUARDIAN_METRICS.dimensions, guardian.objectsReconciled, 'objects reconciled'),
        ],
      });
    }
    facade.monitorCustom({
      alarmFriendlyName: 'PipelineMetrics',
      humanReadableName: 'Pipeline metrics',
      metricGroups,
    });

    const { dashboard } = factory;
    if (dashboard === undefined) throw new Error('the dashboard factory created no dashboard');
    this.dashboard = dashboard;
  }
}
