// One structured logger per function. Payloads and tokens never go to it at info level.

import { Logger } from '@aws-lambda-powertools/logger';

export const createLogger = (serviceName: string): Logger => new Logger({ serviceName });
