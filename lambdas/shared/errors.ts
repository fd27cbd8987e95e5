// The named errors of the pipeline. Each carries the status a webhook caller sees; the detail stays in the logs.

export abstract class WebhookError extends Error {
  abstract readonly statusCode: number;
  /** What the caller is told: generic on purpose, so no internal detail leaks. */
  abstract readonly publicMessage: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A body larger than the queue takes, or a `data` larger than the payload cap (its reason then says so). */
export class PayloadTooLargeError extends WebhookError {
  readonly statusCode = 413;
  readonly publicMessage: string;

  constructor(message: string, options?: { cause?: unknown; publicMessage?: string }) {
    super(message, options);
    this.publicMessage = options?.publicMessage ?? 'payload too large';
  }
}

export class UnsupportedMediaTypeError extends WebhookError {
  readonly statusCode = 415;
  readonly publicMessage = 'content-type must be application/json';
}

export class InvalidEnvelopeError extends WebhookError {
  readonly statusCode = 400;
  readonly publicMessage =
    'body must be a JSON object with string "resource" and "event" and an object "data"';
}

/**
 * An envelope persist could never store: a name, key, number or nesting DynamoDB cannot hold. The reason names
 * the field and quotes no value, so the caller is told it.
 */
export class UnstorableEventError extends WebhookError {
  readonly statusCode = 400;
  readonly publicMessage: string;

  constructor(reason: string) {
    super(reason);
    this.publicMessage = reason;
  }
}

export class UnauthorizedError extends WebhookError {
  readonly statusCode = 401;
  readonly publicMessage = 'unknown or missing token';
}

export class MethodNotAllowedError extends WebhookError {
  readonly statusCode = 405;
  readonly publicMessage = 'method not allowed';
}

export class ServiceUnavailableError extends WebhookError {
  readonly statusCode = 503;
  readonly publicMessage = 'temporarily unavailable, retry later';
}

/** A queued record that is not an Aircall envelope: retrying cannot help, so it is left to reach the DLQ. */
export class MalformedRecordError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalformedRecordError';
  }
}
