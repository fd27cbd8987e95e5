// The second ingress: a Lambda function URL in front of the same ingest function, throttled by its reserved
// concurrency and watched by its own metrics; the default stack keeps its HTTP API.
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { FUNCTION_URL_METRICS, INGRESS_METRICS } from '../../lib/definitions/metrics.js';
import { arnOf, logicalId, normalize, policyStatements, synthesize } from './support.js';

// synthesize() runs the nag packs as validation plugins and throws on any unacknowledged finding.
const { app, stack, template } = synthesize({
  ingress: 'function-url',
  aircallSecretName: 'aircall/credentials',
});
const withDefaults = synthesize();
const resources = template.toJSON().Resources;
const outputs = template.toJSON().Outputs;
const { ingestFunction, endpoint } = stack.ingress;
if (endpoint.kind !== 'function-url') throw new Error('this stack has a function URL');
const { functionUrl } = endpoint;

const ingest = resources[logicalId(ingestFunction)].Properties;
const functionName = [{ Name: 'FunctionName', Value: { Ref: logicalId(ingestFunction) } }];
const alarm = (id: string) => {
  const found = stack.alarms.alarms.find((a) => a.node.id === id);
  if (found === undefined) throw new Error(`no alarm ${id}`);
  return resources[logicalId(found)].Properties as Record<string, unknown>;
};
const alarmIds = (built: typeof stack) => built.alarms.alarms.map((a) => a.node.id);

describe('the function URL ingress', () => {
  it('puts a function URL with no auth, buffered and without CORS in front of the ingest function', () => {
    template.resourceCountIs('AWS::Lambda::Url', 1);
    expect(resources[logicalId(functionUrl)].Properties).toEqual({
      AuthType: 'NONE',
      InvokeMode: 'BUFFERED',
      TargetFunctionArn: arnOf(ingestFunction),
    });
  });

  it('deploys no HTTP API, stage, route or access log', () => {
    for (const type of ['AWS::ApiGatewayV2::Api', 'AWS::ApiGatewayV2::Stage', 'AWS::ApiGatewayV2::Route'])
      template.resourceCountIs(type, 0);
    const logGroups = Object.keys(template.findResources('AWS::Logs::LogGroup'));
    expect(logGroups.filter((id) => id.startsWith('IngressAccessLogGroup'))).toEqual([]);
  });

  it('lets anyone invoke the URL, and the function only through its URL, as CDK grants for AuthType NONE', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission'))
      .map((p) => p.Properties)
      .filter((p) => JSON.stringify(p.FunctionName) === JSON.stringify(arnOf(ingestFunction)));
    expect(permissions).toEqual(
      expect.arrayContaining([
        {
          Action: 'lambda:InvokeFunctionUrl',
          FunctionName: arnOf(ingestFunction),
          FunctionUrlAuthType: 'NONE',
          Principal: '*',
        },
        {
          Action: 'lambda:InvokeFunction',
          FunctionName: arnOf(ingestFunction),
          InvokedViaFunctionUrl: true,
          Principal: '*',
        },
      ]),
    );
    expect(permissions).toHaveLength(2);
  });

  it('throttles with a reserved concurrency of 20 by default, since a function URL has no stage to throttle', () => {
    expect(ingest.ReservedConcurrentExecutions).toBe(20);
  });

  it('takes the reserved concurrency from ingestReservedConcurrency', () => {
    const configured = synthesize({ ingress: 'function-url', ingestReservedConcurrency: '50' });
    const fn = configured.template.toJSON().Resources[logicalId(configured.stack.ingress.ingestFunction)];
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(50);
  });

  it('has ingest answer the webhook path alone, since the URL routes every path to it', () => {
    expect(ingest.Environment.Variables.WEBHOOK_ROUTE_PATH).toBe('/aircall/webhook');
  });

  it('keeps the ingest role to sending to the events queue, reading the webhooks table and its own log', () => {
    if (ingestFunction.role === undefined) throw new Error('ingest has a role');
    const statements = policyStatements(template, logicalId(ingestFunction.role)).map(normalize);
    const allow = (actions: string[], resource: unknown) => ({
      effect: 'Allow',
      actions,
      resources: [JSON.stringify(resource)],
    });
    expect(statements).toEqual(
      expect.arrayContaining([
        allow(['sqs:SendMessage'], arnOf(stack.events.queue)),
        allow(['dynamodb:GetItem'], arnOf(stack.tables.tables.webhooks)),
        allow(['logs:CreateLogStream', 'logs:PutLogEvents'], arnOf(ingestFunction.logGroup)),
      ]),
    );
    expect(statements).toHaveLength(3);
  });
});

describe('the function URL stack outputs', () => {
  const url = { 'Fn::GetAtt': [logicalId(functionUrl), 'FunctionUrl'] };

  it('give the webhook URL as the function URL followed by the path, without a second slash', () => {
    expect(outputs.WebhookUrl.Value).toEqual({ 'Fn::Join': ['', [url, 'aircall/webhook']] });
  });

  it('list that URL among every webhook URL, and hand it to the guardian', () => {
    expect(outputs.WebhookUrls.Value).toEqual(outputs.WebhookUrl.Value);
    const guardian = stack.guardian;
    if (guardian === undefined) throw new Error('this stack has a guardian');
    const env = resources[logicalId(guardian.guardianFunction)].Properties.Environment.Variables;
    expect(env.WEBHOOK_URLS).toEqual(outputs.WebhookUrl.Value);
  });
});

describe('the function URL alarms', () => {
  it('replace the HTTP API alarms under the same names, and drop IngestThrottles for WebhookThrottled', () => {
    const ids = alarmIds(stack);
    expect(ids).toEqual(
      expect.arrayContaining(['WebhookServerErrors', 'WebhookClientErrorRate', 'WebhookThrottled']),
    );
    expect(ids).not.toContain('IngestThrottles');
    expect(alarmIds(withDefaults.stack)).toContain('IngestThrottles');
  });

  it('WebhookServerErrors fires on five 5xx answers of the function URL in five minutes', () => {
    expect(alarm('WebhookServerErrors')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: FUNCTION_URL_METRICS.serverErrors,
      Dimensions: functionName,
      Statistic: 'Sum',
      Period: 300,
      Threshold: 5,
      TreatMissingData: 'notBreaching',
    });
  });

  it('WebhookThrottled fires on five invocations throttled above the reserved concurrency in five minutes', () => {
    expect(alarm('WebhookThrottled')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Dimensions: functionName,
      Statistic: 'Sum',
      Period: 300,
      Threshold: 5,
      AlarmDescription: expect.stringContaining('429'),
    });
  });

  it('WebhookClientErrorRate divides the URL 4xx by its requests, from 20 requests up', () => {
    const { Metrics } = alarm('WebhookClientErrorRate') as {
      Metrics: { Id: string; Expression?: string; MetricStat?: { Metric: Record<string, unknown> } }[];
    };
    const metricOf = (id: string) => Metrics.find((m) => m.Id === id)?.MetricStat?.Metric;
    expect(Metrics.find((m) => m.Expression !== undefined)?.Expression).toBe(
      'IF(requests >= 20, 100 * FILL(clientErrors, 0) / requests, 0)',
    );
    expect(metricOf('clientErrors')).toEqual({
      Namespace: 'AWS/Lambda',
      MetricName: FUNCTION_URL_METRICS.clientErrors,
      Dimensions: functionName,
    });
    expect(metricOf('requests')).toEqual({
      Namespace: 'AWS/Lambda',
      MetricName: FUNCTION_URL_METRICS.requests,
      Dimensions: functionName,
    });
  });

  it('count token rejections, rejections and enqueue failures from the ingest log; nothing from an access log', () => {
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter')).map((f) => f.Properties);
    expect(filters.map((f) => f.MetricTransformations[0].MetricName).sort()).toEqual(
      [
        INGRESS_METRICS.names.tokenRejected,
        INGRESS_METRICS.names.rejected,
        INGRESS_METRICS.names.enqueueFailures,
      ].sort(),
    );
    for (const filter of filters)
      expect(filter.LogGroupName).toEqual({ Ref: logicalId(ingestFunction.logGroup) });
  });
});

describe('the function URL dashboard', () => {
  it('shows the URL’s requests, 4xx, 5xx and latency in place of the API’s', () => {
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0];
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const metric of Object.values(FUNCTION_URL_METRICS)) expect(body).toContain(`\\"${metric}\\"`);
    expect(body).not.toContain('AWS/ApiGateway');
  });
});

describe('the nag packs on the function URL stack', () => {
  it('report no unacknowledged finding', () => {
    const findings = [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
      pack.validateScope(app).violations.map((v) => v.ruleName),
    );
    expect(findings).toEqual([]);
  });
});

describe('the default stack', () => {
  it('keeps its HTTP API and has no function URL, no reserved concurrency and no route path for ingest', () => {
    withDefaults.template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    withDefaults.template.resourceCountIs('AWS::Lambda::Url', 0);
    const fn = withDefaults.template.toJSON().Resources[logicalId(withDefaults.stack.ingress.ingestFunction)];
    expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    expect(fn.Properties.Environment.Variables.WEBHOOK_ROUTE_PATH).toBeUndefined();
  });
});
