// Metrics the local stack's handlers publish, dropped at each flush: nothing reads EMF locally, and a line a batch
// would bury the log.

import { Metrics } from '@aws-lambda-powertools/metrics';

export class DiscardedMetrics extends Metrics {
  override publishStoredMetrics(): this {
    this.clearMetrics();
    this.clearDimensions();
    return this;
  }
}
