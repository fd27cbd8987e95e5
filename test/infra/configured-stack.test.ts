// A stack built from non-default configuration: every key that shapes the template takes effect.
import { describe, expect, it } from 'vitest';
import { TABLE_NAMES } from '../../lib/definitions/tables.js';
import { httpApiOf, logicalId, synthesize } from './support.js';

const { stack, template } = synthesize({
  webhookPath: '/hooks/aircall-v2',
  throttlingRateLimit: '20',
  throttlingBurstLimit: 40,
  tokenCacheSeconds: 0,
  maxPayloadBytes: '16384',
  eventRetentionDays: 0,
  timestampMarginSeconds: 60,
  logRetentionDays: 7,
  removalPolicy: 'destroy',
});
const resources = template.toJSON().Resources;
const propertiesOf = (construct: Parameters<typeof logicalId>[0]) =>
  resources[logicalId(construct)].Properties;

describe('the configured stack', () => {
  it('routes the configured path and gives it in the webhook URL', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
    expect(routes.map((r) => r.RouteKey)).toEqual(['POST /hooks/aircall-v2']);
    expect(JSON.stringify(template.toJSON().Outputs.WebhookUrl.Value)).toContain('"/hooks/aircall-v2"');
  });

  it('throttles at the configured rate and burst', () => {
    expect(propertiesOf(httpApiOf(stack).stage).DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 20,
      ThrottlingBurstLimit: 40,
    });
  });

  it('passes the token cache lifetime to ingest, and the event retention and timestamp margin to persist', () => {
    expect(propertiesOf(stack.ingress.ingestFunction).Environment.Variables.TOKEN_CACHE_SECONDS).toBe('0');
    expect(propertiesOf(stack.persistence.persistFunction).Environment.Variables).toMatchObject({
      EVENT_RETENTION_DAYS: '0',
      TIMESTAMP_MARGIN_SECONDS: '60',
    });
  });

  it('passes the payload cap to ingest', () => {
    expect(propertiesOf(stack.ingress.ingestFunction).Environment.Variables.MAX_PAYLOAD_BYTES).toBe('16384');
  });

  it("deletes every table with the stack when removalPolicy is 'destroy'", () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(TABLE_NAMES.length);
    for (const table of tables)
      expect([table.DeletionPolicy, table.UpdateReplacePolicy]).toEqual(['Delete', 'Delete']);
  });

  it("deletes every queue with the stack when removalPolicy is 'destroy'", () => {
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    // The events queue, the media job queue and the dead-letter queue of each.
    expect(queues).toHaveLength(4);
    for (const queue of queues)
      expect([queue.DeletionPolicy, queue.UpdateReplacePolicy]).toEqual(['Delete', 'Delete']);
  });

  it('keeps every log group for the configured days, and deletes them with the stack', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.map((g) => [g.Properties.RetentionInDays, g.DeletionPolicy])).toEqual([
      [7, 'Delete'],
      [7, 'Delete'],
      [7, 'Delete'],
      [7, 'Delete'],
    ]);
  });
});
