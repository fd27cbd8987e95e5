// The guardian's metrics as Powertools emits them: the namespace, names and dimensions the alarms select.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { GUARDIAN_METRICS, METRICS_NAMESPACE } from '../../lib/definitions/metrics.js';
import { captureOutputSync } from '../support/capture.js';

describe('GUARDIAN_METRICS', () => {
  it('makes Powertools emit every guardian metric under exactly the dimensions the alarms select', () => {
    const metrics = new Metrics(GUARDIAN_METRICS.options);
    const names = Object.values(GUARDIAN_METRICS.names);
    for (const name of names) metrics.addMetric(name, MetricUnit.Count, 1);

    const emf = metrics.serializeMetrics();

    expect(emf._aws.CloudWatchMetrics).toHaveLength(1);
    const [directive] = emf._aws.CloudWatchMetrics;
    expect(directive?.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive?.Dimensions).toEqual([Object.keys(GUARDIAN_METRICS.dimensions)]);
    expect(directive?.Metrics.map((metric) => metric.Name).sort()).toEqual([...names].sort());
    expect(emf).toMatchObject(GUARDIAN_METRICS.dimensions);
  });

  it('puts a per-account metric under the service and account dimensions', () => {
    const { output } = captureOutputSync(() => {
      const perAccount = new Metrics(GUARDIAN_METRICS.options).singleMetric();
      perAccount.addDimension(GUARDIAN_METRICS.accountDimension, 'acme');
      // A single metric is printed at once, as its own EMF line.
      perAccount.addMetric(GUARDIAN_METRICS.names.registeredWebhooks, MetricUnit.Count, 2);
    });

    const emf = JSON.parse(output.trim()) as { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } };

    expect(emf._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['service', GUARDIAN_METRICS.accountDimension],
    ]);
    expect(emf).toMatchObject({ service: 'guardian', account: 'acme', RegisteredWebhooks: 2 });
  });
});
