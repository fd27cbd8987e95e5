// The cdk-nag gate: the AWS Solutions and Serverless packs run as CDK validation plugins during synthesis.
import { type App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * Registers the packs on the app. cdk-nag v3 reports any finding not acknowledged with
 * `Validations.of(construct).acknowledge(...)`, warnings included, as a failed plugin report, and CDK then
 * stops synthesis: `cdk synth` exits non-zero, `app.synth()` in a test throws.
 */
export function applyNagPacks(app: App): void {
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true }),
    new ServerlessChecks(app, { verbose: true }),
  );
}

/** A resolved CloudFormation value as cdk-nag spells it in a finding: `<Id.Arn>` for a GetAtt, `<Id>` for a Ref. */
const flatten = (value: unknown): string => {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const node = value as Record<string, unknown>;
    const join = node['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1]))
      return join[1].map(flatten).join(join[0]);
    const getAtt = node['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${getAtt.map(flatten).join('.')}>`;
    if (node.Ref !== undefined) return `<${flatten(node.Ref)}>`;
  }
  throw new Error(`no cdk-nag spelling for ${JSON.stringify(value)}`);
};

/**
 * The id of the AwsSolutions-IAM5 finding on a wildcard resource, e.g. `AwsSolutions-IAM5[Resource::<Id.Arn>/*]`:
 * acknowledging it covers that resource alone, so any other wildcard still stops synthesis.
 */
export const wildcardResourceFinding = (scope: IConstruct, resource: string): string =>
  `AwsSolutions-IAM5[Resource::${flatten(Stack.of(scope).resolve(resource))}]`;
