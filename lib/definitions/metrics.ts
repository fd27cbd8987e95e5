// The custom CloudWatch metrics: the namespace, names and dimensions guardian and persist emit and alarms select.

/** The CloudWatch namespace of every metric this stack publishes itself. */
export const METRICS_NAMESPACE = 'AircallWebhookStack';

/**
 * Powertools Metrics puts the service name on every metric as the dimension `service`, and CloudWatch matches
 * an alarm to a metric on its full dimension set, so an alarm selects exactly these.
 */
const serviceDimensions = <S extends string>(serviceName: S): { readonly service: S } => ({
  service: serviceName,
});

const GUARDIAN_SERVICE = 'guardian';

/** The guardian's metrics, all counts per run. */
export const GUARDIAN_METRICS = {
  /** What the guardian passes to `new Metrics(...)`. */
  options: { namespace: METRICS_NAMESPACE, serviceName: GUARDIAN_SERVICE },
  dimensions: serviceDimensions(GUARDIAN_SERVICE),
  /** The dimension, beside `service`, of the per-account metrics: the account as the credentials secret names it. */
  accountDimension: 'account',
  names: {
    webhooksReenabled: 'WebhooksReenabled',
    webhookReenableFailures: 'WebhookReenableFailures',
    accountsUnreachable: 'AccountsUnreachable',
    /** Accounts listed whose registry holds no row after the pass: ingest refuses every delivery they send. */
    accountsWithoutWebhooks: 'AccountsWithoutWebhooks',
    /** Per account (dimensions `service` and `account`): the registry rows it holds after the pass. */
    registeredWebhooks: 'RegisteredWebhooks',
    /** Gaps in an account's events the pass found (a re-enabled webhook, or calls no event brought). */
    gapsOpened: 'GapsOpened',
    /** Objects read from the API and queued because they change the stored state. */
    objectsReconciled: 'ObjectsReconciled',
    /** Accounts whose gap could not be read this pass (the API, the queue or the tables failed). */
    gapRepairFailures: 'GapRepairFailures',
  },
} as const;

export type GuardianMetricName = (typeof GUARDIAN_METRICS.names)[keyof typeof GUARDIAN_METRICS.names];

/** The guardian metrics that page someone from their first count: a webhook may stay dead, or a gap stay open. */
export const ALARMED_GUARDIAN_METRICS: readonly GuardianMetricName[] = [
  GUARDIAN_METRICS.names.webhookReenableFailures,
  GUARDIAN_METRICS.names.accountsUnreachable,
  GUARDIAN_METRICS.names.gapRepairFailures,
];

/** The line ingest logs for every request it refuses, with the `status` it answered and the `reason`. */
export const INGEST_REJECTED_MESSAGE = 'webhook rejected';

/**
 * Counts CloudWatch Logs metric filters make of the webhook's logs, so that ingest's hot path publishes nothing:
 * 429 answers from the HTTP API's access log, and 401 answers from ingest's {@link INGEST_REJECTED_MESSAGE} line.
 * No dimensions: one stack, one webhook endpoint.
 */
export const INGRESS_METRICS = {
  namespace: METRICS_NAMESPACE,
  names: {
    throttled: 'WebhookThrottled',
    tokenRejected: 'WebhookTokenRejected',
    /** Webhooks answered 200: durably queued. */
    accepted: 'WebhooksAccepted',
    /** Webhooks answered 4xx by ingest, with the dimension `status` (400, 401, 404, 405, 413, 415). */
    rejected: 'WebhooksRejected',
    /** Webhooks answered 503 because the queue could not take them after ingest's retries. */
    enqueueFailures: 'EnqueueFailures',
  },
} as const;

/**
 * What Lambda publishes for a function URL, in `AWS/Lambda` by `FunctionName`: behind one, these stand in for the
 * HTTP API's Count, 4xx, 5xx and Latency.
 */
export const FUNCTION_URL_METRICS = {
  requests: 'UrlRequestCount',
  clientErrors: 'Url4xxCount',
  serverErrors: 'Url5xxCount',
  latency: 'UrlRequestLatency',
} as const;

/** The log line ingest writes when it answers 503: the queue (or the registry) could not be reached. */
export const INGEST_UNAVAILABLE_MESSAGE = 'webhook not accepted';

const PERSIST_SERVICE = 'persist';

/** Persist's metrics, published once per invocation. */
export const PERSIST_METRICS = {
  /** What persist passes to `new Metrics(...)`. */
  options: { namespace: METRICS_NAMESPACE, serviceName: PERSIST_SERVICE },
  dimensions: serviceDimensions(PERSIST_SERVICE),
  /** The dimension, beside `service`, of the per-account metrics: the account the events came from. */
  accountDimension: 'account',
  names: {
    /** State writes refused because the item belongs to another account; dimension `service` only. */
    foreignWritesRefused: 'ForeignWritesRefused',
    /** Per account: events written to the event log (a duplicate delivery is not stored again). */
    eventsStored: 'EventsStored',
    /** Per account: DynamoDB write units the writes reported consuming; absent when DynamoDB reported none. */
    writeUnitsConsumed: 'WriteUnitsConsumed',
    /** Events already in the event log: a duplicate delivery, a redrive or a replay; dimension `service` only. */
    duplicatesIgnored: 'DuplicatesIgnored',
    /** State writes that met newer state and changed nothing (an event older than what is stored). */
    staleEventsIgnored: 'StaleEventsIgnored',
    /** Recordings and voicemails handed to the archive. */
    mediaJobsQueued: 'MediaJobsQueued',
  },
} as const;

export const ARCHIVE_SERVICE = 'archive';

/** The archive's metrics, dimension `service` only: files archived, and jobs it could not complete. */
export const ARCHIVE_METRICS = {
  options: { namespace: METRICS_NAMESPACE, serviceName: ARCHIVE_SERVICE },
  dimensions: serviceDimensions(ARCHIVE_SERVICE),
  names: {
    /** Files stored in the bucket and recorded on their call. */
    mediaArchived: 'MediaArchived',
    /** Jobs already done, or another job's under its lease: nothing downloaded. */
    mediaAlreadyArchived: 'MediaAlreadyArchived',
    /** Jobs that failed this attempt: retried by the queue, or sent to the media dead-letter queue. */
    mediaArchiveFailures: 'MediaArchiveFailures',
  },
} as const;
