// The cdk-nag gate: the AWS Solutions and Serverless packs run as CDK validation plugins during synthesis.
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

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
