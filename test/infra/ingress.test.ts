// The public side: one POST route on a throttled, access-logged HTTP API stage, and the stack outputs.
import { describe, expect, it } from 'vitest';
import { arnOf, httpApiOf, logicalId, synthesize } from './support.js';

const { stack, template } = synthesize();
const stage = template.toJSON().Resources[logicalId(httpApiOf(stack).stage)].Properties;
const outputs = template.toJSON().Outputs;

describe('Ingress', () => {
  it('routes only POST /aircall/webhook, to the ingest function with payload format 2.0', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
    expect(routes.map((r) => r.RouteKey)).toEqual(['POST /aircall/webhook']);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: arnOf(stack.ingress.ingestFunction),
    });
  });

  it('serves on the $default stage, deployed automatically', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    expect(stage).toMatchObject({ StageName: '$default', AutoDeploy: true });
  });

  it('throttles the stage at 50 requests a second with bursts of 100 by default', () => {
    expect(stage.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
  });

  it('writes a JSON access log line per request to its own log group, never the body', () => {
    const { AccessLogSettings } = stage;
    expect(AccessLogSettings.DestinationArn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^IngressAccessLogGroup/), 'Arn'],
    });
    expect(JSON.parse(AccessLogSettings.Format)).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      routeKey: '$context.routeKey',
      integrationLatency: '$context.integrationLatency',
    });
    expect(AccessLogSettings.Format).not.toMatch(/body|querystring/i);
  });
});

describe('the stack outputs', () => {
  it('name the webhook URL, every table, every queue, the media bucket, the alarm topic and the dashboard', () => {
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'WebhookUrl',
        'WebhookUrls',
        'CallsTableName',
        'EventsTableName',
        'UsersTableName',
        'NumbersTableName',
        'ContactsTableName',
        'WebhooksTableName',
        'AccountsTableName',
        'EventsQueueUrl',
        'DeadLetterQueueUrl',
        'AlarmTopicArn',
        'DashboardName',
        'MediaBucketName',
        'MediaQueueUrl',
        'MediaDeadLetterQueueUrl',
      ].sort(),
    );
  });

  it('give the webhook URL as the API endpoint followed by the path', () => {
    const endpoint = { 'Fn::GetAtt': [logicalId(httpApiOf(stack).httpApi), 'ApiEndpoint'] };
    expect(outputs.WebhookUrl.Value).toEqual({ 'Fn::Join': ['', [endpoint, '/aircall/webhook']] });
    // Without custom domains, the list of every webhook URL holds that one alone.
    expect(outputs.WebhookUrls.Value).toEqual(outputs.WebhookUrl.Value);
  });

  it('give each table by reference and each queue by URL', () => {
    expect(outputs.CallsTableName.Value).toEqual({ Ref: logicalId(stack.tables.tables.calls) });
    expect(outputs.WebhooksTableName.Value).toEqual({ Ref: logicalId(stack.tables.tables.webhooks) });
    expect(outputs.EventsQueueUrl.Value).toEqual({ Ref: logicalId(stack.events.queue) });
    expect(outputs.DeadLetterQueueUrl.Value).toEqual({ Ref: logicalId(stack.events.deadLetterQueue) });
  });
});
