// Builds call lifecycles from the captured samples: the real events plus what arrives around them.

import type { AircallEnvelope, JsonObject } from '../../lambdas/shared/envelope.js';
import { sample } from './fixtures.js';

const at = (
  base: AircallEnvelope,
  event: string,
  timestamp: number,
  data: JsonObject = {},
): AircallEnvelope => ({
  ...base,
  event,
  timestamp,
  data: { ...base.data, ...data },
});

/**
 * The captured outbound call (created, hungup, ended) with a tag added during the call, a comment
 * and a tag after call.ended, and a transcription that refers to the call by id.
 */
export const outboundLifecycle = (): AircallEnvelope[] => {
  const created = sample('captured-outbound-call.created');
  const hungup = sample('captured-outbound-call.hungup');
  const ended = sample('captured-outbound-call.ended');
  const ts = ended.timestamp ?? 0;
  const tag = { id: 1, name: 'vip' };
  return [
    created,
    at(created, 'call.answered', 1646389740, { status: 'answered', answered_at: 1646389740 }),
    at(created, 'call.tagged', 1646389745, { status: 'answered', answered_at: 1646389740, tags: [tag] }),
    hungup,
    ended,
    at(ended, 'call.commented', ts + 40, { tags: [tag], comments: [{ id: 9, content: 'call back Monday' }] }),
    at(ended, 'call.tagged', ts + 60, {
      tags: [tag, { id: 2, name: 'renewal' }],
      comments: [{ id: 9, content: 'call back Monday' }],
    }),
    {
      resource: 'conversation_intelligence',
      event: 'transcription.created',
      timestamp: ts + 90,
      token: created.token,
      data: { call_id: 780836699, transcription: { content: 'hello' } },
    },
  ];
};
