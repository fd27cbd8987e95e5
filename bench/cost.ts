// The AWS list price of a million events, from the measured write units and durations: us-east-1, on demand.

/** us-east-1 list prices, as of this bench's writing. */
export const PRICES = {
  httpApiPerMillionRequests: 1.0,
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  /** Per million requests, each billed per 64 KB chunk of its payload. */
  sqsPerMillionRequests: 0.4,
  sqsChunkBytes: 65_536,
  dynamoPerMillionWriteUnits: 0.625,
  /** A function URL charges no request fee of its own: only the function's. */
  functionUrlPerMillionRequests: 0,
} as const;

/** Messages one ReceiveMessage or DeleteMessageBatch carries at most. */
const SQS_BATCH_LIMIT = 10;

export interface CostInputs {
  readonly writeUnitsPerEvent: number;
  /** Average message body, in bytes. */
  readonly messageBytes: number;
  readonly ingestMemoryMb: number;
  /** Ingest's billed duration per request (Lambda bills by the millisecond, rounded up). */
  readonly ingestMs: number;
  readonly persistMemoryMb: number;
  readonly persistBatchSize: number;
  /** Persist's billed duration per batch. */
  readonly persistBatchMs: number;
}

export interface CostBreakdown {
  readonly dynamodb: number;
  readonly sqs: number;
  readonly lambda: number;
  readonly httpApi: number;
  /** With the HTTP API in front of ingest. */
  readonly total: number;
  /** With a function URL instead: the same, less the HTTP API's request fee. */
  readonly totalFunctionUrl: number;
}

const chunks = (bytes: number): number => Math.max(1, Math.ceil(bytes / PRICES.sqsChunkBytes));

const lambdaPerMillion = (billedMs: number, memoryMb: number): number =>
  (Math.ceil(billedMs) / 1000) * (memoryMb / 1024) * PRICES.lambdaArmPerGbSecond * 1e6;

/** Dollars per million events. */
export const costPerMillionEvents = (inputs: CostInputs): CostBreakdown => {
  const dynamodb = inputs.writeUnitsPerEvent * PRICES.dynamoPerMillionWriteUnits;
  // One SendMessage per event; the event source receives and deletes up to ten messages a request.
  const perRequest = Math.min(SQS_BATCH_LIMIT, inputs.persistBatchSize);
  const sqsRequests =
    chunks(inputs.messageBytes) + (2 * chunks(perRequest * inputs.messageBytes)) / perRequest;
  const sqs = sqsRequests * PRICES.sqsPerMillionRequests;
  const ingest = lambdaPerMillion(inputs.ingestMs, inputs.ingestMemoryMb) + PRICES.lambdaPerMillionRequests;
  const persist =
    (lambdaPerMillion(inputs.persistBatchMs, inputs.persistMemoryMb) + PRICES.lambdaPerMillionRequests) /
    inputs.persistBatchSize;
  const lambda = ingest + persist;
  const httpApi = PRICES.httpApiPerMillionRequests;
  const beforeIngress = dynamodb + sqs + lambda;
  return {
    dynamodb,
    sqs,
    lambda,
    httpApi,
    total: beforeIngress + httpApi,
    totalFunctionUrl: beforeIngress + PRICES.functionUrlPerMillionRequests,
  };
};
