// WebhookTables: every DynamoDB table of TABLES, built generically so the deployed keys, indexes and TTL match the local stack.
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  type IndexDefinition,
  type KeyAttribute,
  TABLES,
  type TableDefinition,
  type TableName,
} from '../definitions/tables.js';

export interface WebhookTablesProps {
  /**
   * What happens to the tables, and the data in them, when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** `calls` -> `Calls`: the stem of construct ids and output names. */
export const pascalCase = (name: string): string => `${name.charAt(0).toUpperCase()}${name.slice(1)}`;

const attribute = (key: KeyAttribute): dynamodb.Attribute => ({
  name: key.name,
  type: key.type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING,
});

const indexProps = (index: IndexDefinition): dynamodb.GlobalSecondaryIndexProps => {
  const keys = {
    indexName: index.indexName,
    partitionKey: attribute(index.partitionKey),
    ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
  };
  switch (index.projection.type) {
    case 'ALL':
      return { ...keys, projectionType: dynamodb.ProjectionType.ALL };
    case 'KEYS_ONLY':
      return { ...keys, projectionType: dynamodb.ProjectionType.KEYS_ONLY };
    case 'INCLUDE':
      return {
        ...keys,
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: [...index.projection.nonKeyAttributes],
      };
  }
};

/**
 * `CallsTable`, or `CallsTableV2` from a table's second revision on: a new construct id is a new table, so that a
 * layout DynamoDB cannot change in place is created whole, beside the older table (kept, under the default removal
 * policy), into which `migrate` copies its items.
 */
export const tableConstructId = (definition: TableDefinition): string =>
  `${pascalCase(definition.name)}Table${definition.revision === undefined ? '' : `V${definition.revision}`}`;

/**
 * The `Table` L2 (AWS::DynamoDB::Table) rather than `TableV2` (AWS::DynamoDB::GlobalTable): the stack is
 * single-region, and a plain table maps one to one onto the CreateTable call the local stack makes.
 */
export class WebhookTables extends Construct {
  public readonly tables: Readonly<Record<TableName, dynamodb.Table>>;

  constructor(scope: Construct, id: string, props: WebhookTablesProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const build = (definition: TableDefinition): dynamodb.Table => {
      const table = new dynamodb.Table(this, tableConstructId(definition), {
        partitionKey: attribute(definition.partitionKey),
        ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
        ...(definition.timeToLiveAttribute ? { timeToLiveAttribute: definition.timeToLiveAttribute } : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy,
      });
      for (const index of definition.indexes) table.addGlobalSecondaryIndex(indexProps(index));
      return table;
    };
    // Spelled out per name so that a table added to TableName without being built here fails to compile.
    this.tables = {
      calls: build(TABLES.calls),
      events: build(TABLES.events),
      users: build(TABLES.users),
      numbers: build(TABLES.numbers),
      contacts: build(TABLES.contacts),
      webhooks: build(TABLES.webhooks),
      accounts: build(TABLES.accounts),
    };
  }
}
