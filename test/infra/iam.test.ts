// What each function's role may do: ingest sends to one queue and reads one table; persist writes the data tables
// and sends to the dead-letter queue and the media queue; archive writes media objects and the calls table.
import { describe, expect, it } from 'vitest';
import { STATE_TABLES } from '../../lib/definitions/tables.js';
import {
  arnOf,
  logicalId,
  normalize,
  policyStatements,
  type Statement,
  secretArn,
  synthesize,
} from './support.js';

const SECRET_NAME = 'aircall/credentials';
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const { stack, template } = synthesize();
const withoutMedia = synthesize({ archiveMedia: false });
const withSecret = synthesize({ aircallSecretName: SECRET_NAME, aircallSecretKmsKeyArn: KEY_ARN });
const { ingestFunction } = stack.ingress;
const { persistFunction } = stack.persistence;
const { tables } = stack.tables;
const archiveOf = (built: typeof stack) => {
  if (built.media === undefined || built.archive === undefined)
    throw new Error('the stack archives media by default');
  return { media: built.media, archiveFunction: built.archive.archiveFunction };
};
const { media, archiveFunction } = archiveOf(stack);

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
/** Each action on each resource a role is allowed, one line apiece, so that merged statements compare too. */
const grants = (statements: readonly Statement[]): string[] =>
  statements
    .map(normalize)
    .flatMap(({ actions, resources }) => actions.flatMap((a) => resources.map((r) => `${a} ${r}`)))
    .sort();
const consumes = (queue: unknown) =>
  allow(
    [
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ],
    [queue],
  );

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

  it('may only put items and batches of receipts into the event log, update and read items of the four state tables, and update accounts', () => {
    expect(sorted(dynamo.map(normalize))).toEqual(
      sorted([
        // A conditional PutItem per event, and a BatchWriteItem of each batch's receipts.
        allow(['dynamodb:PutItem', 'dynamodb:BatchWriteItem'], [arnOf(tables.events)]),
        allow(
          ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
          STATE_TABLES.map((name) => arnOf(tables[name])),
        ),
        // When each account's events last arrived, noted at most once a minute: what the guardian tells a gap by.
        allow(['dynamodb:UpdateItem'], [arnOf(tables.accounts)]),
      ]),
    );
  });

  it('never touches the webhooks table', () => {
    expect(statements.filter((s) => touches(s, arnOf(tables.webhooks)))).toEqual([]);
  });

  it('consumes the events queue, sends to its dead-letter queue and the media queue and writes its own log group, nothing else', () => {
    const others = statements.filter((s) => !dynamo.includes(s)).map(normalize);
    expect(sorted(others)).toEqual(
      sorted([
        consumes(arnOf(stack.events.queue)),
        // One statement, as minimizePolicies merges two grants of the same action.
        allow(['sqs:SendMessage'], [arnOf(stack.events.deadLetterQueue), arnOf(media.queue)]),
        allow(['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroupOf(persistFunction)]),
      ]),
    );
  });

  it('gains only sqs:SendMessage on the media queue from the media archive', () => {
    const without = grants(
      policyStatements(withoutMedia.template, roleOf(withoutMedia.stack.persistence.persistFunction)),
    );
    const added = grants(statements).filter((grant) => !without.includes(grant));
    expect(added).toEqual([`sqs:SendMessage ${JSON.stringify(arnOf(media.queue))}`]);
    expect(without.filter((grant) => !grants(statements).includes(grant))).toEqual([]);
  });

  it('has no managed policy', () => {
    const role = template.toJSON().Resources[roleOf(persistFunction)];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe('the archive role', () => {
  const statements = policyStatements(template, roleOf(archiveFunction));

  it('may only write media objects, update and read calls, dead-letter a job, consume the media queue and write its own log group', () => {
    expect(sorted(statements.map(normalize))).toEqual(
      sorted([
        allow(
          ['s3:PutObject', 's3:AbortMultipartUpload'],
          [{ 'Fn::Join': ['', [arnOf(media.bucket), '/*']] }],
        ),
        allow(['dynamodb:UpdateItem', 'dynamodb:GetItem'], [arnOf(tables.calls)]),
        allow(['sqs:SendMessage'], [arnOf(media.deadLetterQueue)]),
        consumes(arnOf(media.queue)),
        allow(['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroupOf(archiveFunction)]),
      ]),
    );
  });

  it('has no managed policy', () => {
    const role = template.toJSON().Resources[roleOf(archiveFunction)];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  describe('with an Aircall secret encrypted by a customer-managed key', () => {
    const configured = archiveOf(withSecret.stack);
    const withSecretStatements = policyStatements(withSecret.template, roleOf(configured.archiveFunction));
    const added = withSecretStatements.filter(
      (s) => !grants([s]).every((grant) => grants(statements).includes(grant)),
    );

    it('may also read that secret alone, and decrypt it with the key only through Secrets Manager, for that secret', () => {
      expect(added).toEqual([
        { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn(SECRET_NAME) },
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: KEY_ARN,
          Condition: {
            StringEquals: {
              'kms:ViaService': {
                'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
              },
            },
            StringLike: { 'kms:EncryptionContext:SecretARN': secretArn(SECRET_NAME) },
          },
        },
      ]);
    });

    it('keeps every other statement as it is without a secret', () => {
      expect(grants(withSecretStatements.filter((s) => !added.includes(s)))).toEqual(grants(statements));
    });
  });
});

describe('the stack', () => {
  it("grants on a wildcard resource only the archive's writes to the objects of the media bucket", () => {
    const wildcards = policyStatements(template).filter((s) => JSON.stringify(s.Resource).includes('*'));
    expect(wildcards.map(normalize)).toEqual([
      allow(['s3:PutObject', 's3:AbortMultipartUpload'], [{ 'Fn::Join': ['', [arnOf(media.bucket), '/*']] }]),
    ]);
  });

  it('grants nothing on a wildcard resource without the media archive', () => {
    const wildcards = policyStatements(withoutMedia.template).filter((s) =>
      JSON.stringify(s.Resource).includes('*'),
    );
    expect(wildcards).toEqual([]);
  });
});
