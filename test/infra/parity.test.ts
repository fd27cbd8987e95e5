import { describe, expect, it } from 'vitest';
import { ARCHIVE, MEDIA_QUEUE } from '../../lib/definitions/archive.js';
import { TABLE_NAMES, TABLES } from '../../lib/definitions/tables.js';
import {
  toCreateTableInput,
  toDeadLetterQueueAttributes,
  toEventsQueueAttributes,
} from '../../local/provision.js';
import { logicalId, synthesize } from './support.js';

const { stack, template } = synthesize();
const resources = template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
const propertiesOf = (id: string): Record<string, unknown> => {
  const resource = resources[id];
  if (resource === undefined) throw new Error(`no resource ${id} in the template`);
  return resource.Properties;
};

const byName = <T extends { AttributeName?: string; IndexName?: string }>(
  items: readonly T[] | undefined,
): T[] =>
  [...(items ?? [])].sort((a, b) =>
    (a.AttributeName ?? a.IndexName ?? '').localeCompare(b.AttributeName ?? b.IndexName ?? ''),
  );

describe('local stack and deployed stack', () => {
  describe.each(TABLE_NAMES)('the %s table', (name) => {
    const local = toCreateTableInput(TABLES[name], `local-${name}`);
    const deployed = propertiesOf(logicalId(stack.tables.tables[name]));

    it('has the same key schema and attribute definitions', () => {
      expect(local.KeySchema).toEqual(deployed.KeySchema);
      expect(byName(local.AttributeDefinitions)).toEqual(byName(deployed.AttributeDefinitions as []));
    });

    it('has the same global secondary indexes and projections', () => {
      expect(byName(local.GlobalSecondaryIndexes)).toEqual(byName(deployed.GlobalSecondaryIndexes as []));
    });

    it('bills the same way', () => {
      expect(local.BillingMode).toBe(deployed.BillingMode);
    });
  });

  it('gives the events queue the same visibility, retention, size and redrive', () => {
    const deployed = propertiesOf(logicalId(stack.events.queue));
    const local = toEventsQueueAttributes('arn:local:dlq');
    expect(Number(local.VisibilityTimeout)).toBe(deployed.VisibilityTimeout);
    expect(Number(local.MessageRetentionPeriod)).toBe(deployed.MessageRetentionPeriod);
    expect(Number(local.MaximumMessageSize)).toBe(deployed.MaximumMessageSize);
    const localRedrive = JSON.parse(local.RedrivePolicy ?? '{}');
    const deployedRedrive = deployed.RedrivePolicy as { maxReceiveCount: number };
    expect(localRedrive.maxReceiveCount).toBe(deployedRedrive.maxReceiveCount);
  });

  it('keeps dead letters as long as the deployed dead-letter queue', () => {
    const deployed = propertiesOf(logicalId(stack.events.deadLetterQueue));
    const local = toDeadLetterQueueAttributes();
    expect(Number(local.MessageRetentionPeriod)).toBe(deployed.MessageRetentionPeriod);
  });

  it('gives the media queue and its dead-letter queue the deployed settings', () => {
    const { media } = stack;
    if (media === undefined) throw new Error('the default stack archives media');
    const deployed = propertiesOf(logicalId(media.queue));
    const local = toEventsQueueAttributes('arn:local:media-dlq', MEDIA_QUEUE);
    expect(Number(local.VisibilityTimeout)).toBe(deployed.VisibilityTimeout);
    expect(Number(local.MessageRetentionPeriod)).toBe(deployed.MessageRetentionPeriod);
    expect(Number(local.MaximumMessageSize)).toBe(deployed.MaximumMessageSize);
    expect(JSON.parse(local.RedrivePolicy ?? '{}').maxReceiveCount).toBe(
      (deployed.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount,
    );
    const deployedDead = propertiesOf(logicalId(media.deadLetterQueue));
    expect(Number(toDeadLetterQueueAttributes(MEDIA_QUEUE).MessageRetentionPeriod)).toBe(
      deployedDead.MessageRetentionPeriod,
    );
  });

  it('feeds the archive the batches the local stack feeds it, at the same default concurrency', () => {
    const mappings = Object.values(resources).filter(
      (resource) =>
        (resource as { Type?: string }).Type === 'AWS::Lambda::EventSourceMapping' &&
        JSON.stringify(resource.Properties.EventSourceArn).includes(
          logicalId(stack.media?.queue ?? stack.events.queue),
        ),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties).toMatchObject({
      BatchSize: ARCHIVE.batchSize,
      ScalingConfig: { MaximumConcurrency: ARCHIVE.maxConcurrency },
    });
  });
});
