// Loads the real Aircall payloads kept under test/fixtures/aircall.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type AircallEnvelope, parseEnvelope } from '../../lambdas/shared/envelope.js';

const dir = fileURLToPath(new URL('../fixtures/aircall/', import.meta.url));

export type SampleName =
  | 'captured-contact.created'
  | 'captured-inbound-voicemail-call.ended'
  | 'captured-outbound-call.created'
  | 'captured-outbound-call.ended'
  | 'captured-outbound-call.hungup'
  | 'captured-user.connected'
  | 'captured-user.created'
  | 'documented-call.created'
  | 'documented-integration.deleted'
  | 'documented-number.closed';

export const sampleBody = (name: SampleName): string => readFileSync(`${dir}${name}.json`, 'utf8');

export const sample = (name: SampleName): AircallEnvelope => parseEnvelope(sampleBody(name));

/** The token every captured sample carries. */
export const SAMPLE_TOKEN = 'sample-webhook-token-not-a-secret';
