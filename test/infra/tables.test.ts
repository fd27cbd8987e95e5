// The DynamoDB tables as deployed: built from TABLES, with PITR, encryption, on-demand billing and the removal policy.
import { describe, expect, it } from 'vitest';
import { type KeyAttribute, TABLE_NAMES, TABLES } from '../../lib/definitions/tables.js';
import { logicalId, type Synthesized, synthesize } from './support.js';

const retained = synthesize();

const tableResource = ({ stack, template }: Synthesized, name: (typeof TABLE_NAMES)[number]) => {
  const resource = template.toJSON().Resources[logicalId(stack.tables.tables[name])];
  if (!resource) throw new Error(`no resource for table ${name}`);
  return resource;
};

const keySchema = (partitionKey: KeyAttribute, sortKey?: KeyAttribute) => [
  { AttributeName: partitionKey.name, KeyType: 'HASH' },
  ...(sortKey ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' }] : []),
];

describe('WebhookTables', () => {
  it('builds exactly one table per definition', () => {
    retained.template.resourceCountIs('AWS::DynamoDB::Table', TABLE_NAMES.length);
  });

  describe.each(TABLE_NAMES)('the %s table', (name) => {
    const definition = TABLES[name];
    const { Properties: props, DeletionPolicy, UpdateReplacePolicy } = tableResource(retained, name);

    it('has the keys of its definition', () => {
      expect(props.KeySchema).toEqual(keySchema(definition.partitionKey, definition.sortKey));
    });

    it('declares the type of every key attribute of the table and its indexes', () => {
      const keys = [
        definition.partitionKey,
        definition.sortKey,
        ...definition.indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
      ].filter((key): key is KeyAttribute => key !== undefined);
      const expected = [
        ...new Map(keys.map((k) => [k.name, { AttributeName: k.name, AttributeType: k.type }])).values(),
      ];
      expect(props.AttributeDefinitions).toEqual(expect.arrayContaining(expected));
      expect(props.AttributeDefinitions).toHaveLength(expected.length);
    });

    it('has the global secondary indexes of its definition, projections included', () => {
      const expected = definition.indexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: keySchema(index.partitionKey, index.sortKey),
        Projection:
          index.projection.type === 'INCLUDE'
            ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection.nonKeyAttributes] }
            : { ProjectionType: index.projection.type },
      }));
      expect(props.GlobalSecondaryIndexes ?? []).toEqual(expected);
    });

    it('expires items by its TTL attribute, when it has one', () => {
      const expected = definition.timeToLiveAttribute
        ? { AttributeName: definition.timeToLiveAttribute, Enabled: true }
        : undefined;
      expect(props.TimeToLiveSpecification).toEqual(expected);
    });

    it('bills on demand, keeps point-in-time recovery and encrypts with the AWS-managed key', () => {
      expect(props.BillingMode).toBe('PAY_PER_REQUEST');
      expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(props.SSESpecification).toEqual({ SSEEnabled: true });
    });

    it('gets no hard-coded physical name', () => {
      expect(props.TableName).toBeUndefined();
    });

    it('is retained when the stack goes, by default', () => {
      expect(DeletionPolicy).toBe('Retain');
      expect(UpdateReplacePolicy).toBe('Retain');
    });
  });
});
