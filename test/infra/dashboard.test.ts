// The pipeline dashboard: one per stack, showing every function, queue, table, custom metric and alarm.
import { describe, expect, it } from 'vitest';
import { GUARDIAN_METRICS, PERSIST_METRICS } from '../../lib/definitions/metrics.js';
import { TABLE_NAMES } from '../../lib/definitions/tables.js';
import { httpApiOf, logicalId, type Synthesized, synthesize } from './support.js';

const guarded = synthesize({ aircallSecretName: 'aircall/credentials' });
const bare = synthesize({ archiveMedia: false });

/** The dashboard body as one string, with each token written as the JSON of its reference. */
const bodyOf = ({ template }: Synthesized): string => {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  return body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
};
const ref = (id: string) => JSON.stringify({ Ref: id });
const queueName = (id: string) => JSON.stringify({ 'Fn::GetAtt': [id, 'QueueName'] });

describe('the pipeline dashboard', () => {
  const { stack } = guarded;
  const body = bodyOf(guarded);
  const { archive, media, guardian } = stack;
  if (archive === undefined || media === undefined || guardian === undefined)
    throw new Error('this stack has an archive and a guardian');

  it.each([
    ['ingest', () => stack.ingress.ingestFunction],
    ['persist', () => stack.persistence.persistFunction],
    ['archive', () => archive.archiveFunction],
    ['guardian', () => guardian.guardianFunction],
  ])('shows the %s function’s invocations, errors, throttles and duration', (_, fn) => {
    const name = ref(logicalId(fn()));
    expect(body).toContain(name);
    for (const metric of ['Invocations', 'Errors', 'Throttles', 'Duration']) expect(body).toContain(metric);
  });

  it.each([
    ['events queue', () => stack.events.queue],
    ['events dead-letter queue', () => stack.events.deadLetterQueue],
    ['media queue', () => media.queue],
    ['media dead-letter queue', () => media.deadLetterQueue],
  ])('shows the depth and oldest age of the %s', (_, queue) => {
    expect(body).toContain(queueName(logicalId(queue())));
    expect(body).toContain('ApproximateNumberOfMessagesVisible');
    expect(body).toContain('ApproximateAgeOfOldestMessage');
  });

  it('shows the webhook API’s requests, 4xx, 5xx and latency', () => {
    expect(body).toContain(ref(logicalId(httpApiOf(stack).httpApi)));
    for (const metric of ['"Count"', '"4xx"', '"5xx"', '"Latency"']) expect(body).toContain(metric);
  });

  it.each(TABLE_NAMES)('shows the consumed capacity and throttles of the %s table', (name) => {
    expect(body).toContain(ref(logicalId(stack.tables.tables[name])));
    expect(body).toContain('ConsumedWriteCapacityUnits');
    expect(body).toContain('WriteThrottleEvents');
  });

  it('shows the stack’s own metrics, the per-account ones by a search over accounts', () => {
    for (const name of [PERSIST_METRICS.names.eventsStored, PERSIST_METRICS.names.writeUnitsConsumed])
      expect(body).toContain(
        `{AircallWebhookStack,account,service} service=\\"persist\\" MetricName=\\"${name}\\"`,
      );
    for (const name of [
      PERSIST_METRICS.names.foreignWritesRefused,
      GUARDIAN_METRICS.names.gapsOpened,
      GUARDIAN_METRICS.names.objectsReconciled,
    ])
      expect(body).toContain(`"${name}"`);
  });

  it('shows the state of every alarm of the stack in one widget', () => {
    const alarms = Object.keys(guarded.template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(20);
    expect(body.match(/"type":"alarm"/g)).toHaveLength(1);
    const shown = [...body.matchAll(/\{"Fn::GetAtt":\["(\w+)","Arn"\]\}/g)].map((match) => match[1]);
    expect(shown.sort()).toEqual([...alarms].sort());
  });

  it('is named after the stack and its region, and given as the DashboardName output', () => {
    const [id, dashboard] =
      Object.entries(guarded.template.findResources('AWS::CloudWatch::Dashboard'))[0] ?? [];
    expect(dashboard?.Properties.DashboardName).toEqual({
      'Fn::Join': ['', [{ Ref: 'AWS::StackName' }, '-', { Ref: 'AWS::Region' }]],
    });
    guarded.template.hasOutput('DashboardName', { Value: { Ref: id } });
  });

  it('creates no alarm of its own', () => {
    const own = Object.keys(guarded.template.findResources('AWS::CloudWatch::Alarm')).filter((id) =>
      id.startsWith('Dashboard'),
    );
    expect(own).toEqual([]);
  });
});

describe('the dashboard of a stack without media archive or guardian', () => {
  const body = bodyOf(bare);

  it('shows neither an archive, a media queue nor the guardian’s metrics', () => {
    expect(bare.stack.archive).toBeUndefined();
    expect(body).not.toContain(GUARDIAN_METRICS.names.gapsOpened);
    const functions = Object.keys(bare.template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(2);
    for (const fn of functions) expect(body).toContain(ref(fn));
  });
});
