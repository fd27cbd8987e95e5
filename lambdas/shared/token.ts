// Webhook tokens are kept and looked up only as SHA-256 digests: the registry is keyed by the digest, so a token is
// never stored, and the look-up compares digests, which give away nothing of the token's bytes.

import { createHash } from 'node:crypto';

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
