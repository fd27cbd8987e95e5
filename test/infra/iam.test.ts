// What each function's role may do: ingest sends to one queue and reads one table; persist writes the data tables
// and sends to the dead-letter queue.
import { describe, expect, it } from 'vitest';
import { STATE_TABLES } from '../../lib/definitions/tables.js';
import { arnOf, logicalId, normalize, policyStatements, type Statement, synthesize } from './support.js';

const { stack, template } = synthesize();
const { ingestFunction } = stack.ingress;
const { persistFunction } = stack.persistence;
const { tables } = stack.tables;

const roleOf = (fn: typeof ingestFunction): string => {
  if (!fn.role) throw new Error(`${fn.node.path} has no role`);
  return logicalId(fn.role);
};
const logGroupOf = (fn: typeof ingestFunction) => arnOf(fn.logGroup);
const sorted = (statements: ReturnType<typeof normalize>[]) =>
  [...statements].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
const allow = (actions: string[], resources: unknown[]) => ({
  effect: 'Allow',
  actions: [...actions].sort(),
  resources: resources.map((r) => JSON.stringify(r)).sort(),
});
const touches = (statement: Statement, resource: unknown): boolean =>
  JSON.stringify(statement.Resource).includes(JSON.stringify(resource));

describe('the ingest role', () => {
  const statements = policyStatements(template, roleOf(ingestFunction));

  it('may only send to the events queue, read the webhooks table and write its own log group', () => {
    expect(sorted(statements.map(normalize))).toEqual(
      sorted([
        allow(['sqs:SendMessage'], [arnOf(stack.events.queue)]),
        allow(['dynamodb:GetItem'], [arnOf(tables.webhooks)]),
        allow(['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroupOf(ingestFunction)]),
      ]),
    );
  });

  it('has no managed policy, so nothing beyond those statements', () => {
    const role = template.toJSON().Resources[roleOf(ingestFunction)];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe('the persist role', () => {
  const statements = policyStatements(template, roleOf(persistFunction));
  const dynamo = statements.filter((s) => normalize(s).actions.some((a) => a.startsWith('dynamodb:')));

  it('may only put items into the event log, and update and read items of the four state tables', () => {
    expect(sorted(dynamo.map(normalize))).toEqual(
      sorted([
        allow(['dynamodb:PutItem'], [arnOf(tables.events)]),
        allow(
          ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
          STATE_TABLES.map((name) => arnOf(tables[name])),
        ),
      ]),
    );
  });

  it('never touches the webhooks table', () => {
    expect(statements.filter((s) => touches(s, arnOf(tables.webhooks)))).toEqual([]);
  });

  it('consumes the events queue, sends to its dead-letter queue and writes its own log group, nothing else', () => {
    const others = statements.filter((s) => !dynamo.includes(s)).map(normalize);
    expect(sorted(others)).toEqual(
      sorted([
        allow(
          [
            'sqs:ChangeMessageVisibility',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:GetQueueUrl',
            'sqs:ReceiveMessage',
          ],
          [arnOf(stack.events.queue)],
        ),
        allow(['sqs:SendMessage'], [arnOf(stack.events.deadLetterQueue)]),
        allow(['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroupOf(persistFunction)]),
      ]),
    );
  });

  it('has no managed policy', () => {
    const role = template.toJSON().Resources[roleOf(persistFunction)];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe('the stack', () => {
  it('grants nothing on a wildcard resource', () => {
    const wildcards = policyStatements(template).filter((s) => JSON.stringify(s.Resource).includes('*'));
    expect(wildcards).toEqual([]);
  });
});
