// The floor of ingest's warm per-event time: parse the body, send it to the same fake queue, answer 200.

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { EventQueue } from '../../lambdas/ingest/ports.js';

export const createFloorHandler =
  (queue: EventQueue, now: () => number) =>
  async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const body = event.body ?? '';
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return { statusCode: 400, body: '' };
    await queue.send({ body, account: 'bench', receivedAt: now() });
    return { statusCode: 200, body: '' };
  };
