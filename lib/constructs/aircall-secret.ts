// The Aircall credentials secret as IAM names it: its ARN by name, and the kms:Decrypt a customer-managed key needs.
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/**
 * The ARN of a secret known by name only: Secrets Manager appends `-` and six random characters to the name, so the
 * ARN matches those six with `?`, as `Secret.fromSecretNameV2(...).grantRead` does, and no other secret.
 */
export const secretArnByName = (scope: Construct, secretName: string): string =>
  Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${secretName}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });

/** kms:Decrypt with the key that encrypts the secret, for the secret's GetSecretValue only. */
export const decryptSecretStatement = (
  scope: Construct,
  secretName: string,
  kmsKeyArn: string,
): iam.PolicyStatement =>
  new iam.PolicyStatement({
    actions: ['kms:Decrypt'],
    resources: [kmsKeyArn],
    conditions: {
      // Only as Secrets Manager decrypts the secret for GetSecretValue, and only this secret (its ARN is the
      // encryption context Secrets Manager passes), never a direct kms:Decrypt of anything else.
      StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(scope).region}.amazonaws.com` },
      StringLike: { 'kms:EncryptionContext:SecretARN': secretArnByName(scope, secretName) },
    },
  });
