// The Aircall webhook events catalogue (per FACTS.md), the list a webhook may subscribe to.

export const CALL_EVENTS = [
  'call.created',
  'call.ringing_on_agent',
  'call.agent_declined',
  'call.answered',
  'call.transferred',
  'call.external_transferred',
  'call.unsuccessful_transfer',
  'call.hungup',
  'call.ended',
  'call.hold',
  'call.unhold',
  'call.ivr_option_selected',
  'call.comm_assets_generated',
  'call.voicemail_left',
  'call.assigned',
  'call.archived',
  'call.tagged',
  'call.untagged',
  'call.commented',
] as const;

/** Deprecated by Aircall, still sent to webhooks subscribed to them. */
export const USER_EVENTS_V1 = [
  'user.created',
  'user.deleted',
  'user.connected',
  'user.disconnected',
  'user.opened',
  'user.closed',
  'user.wut_start',
  'user.wut_end',
] as const;

/** The preferred user events: the same names with `.v2`; their user object has no `numbers`. */
export const USER_EVENTS_V2 = [
  'user.created.v2',
  'user.deleted.v2',
  'user.connected.v2',
  'user.disconnected.v2',
  'user.opened.v2',
  'user.closed.v2',
  'user.wut_start.v2',
  'user.wut_end.v2',
] as const;

export const NUMBER_EVENTS = ['number.created', 'number.opened', 'number.closed', 'number.deleted'] as const;

export const CONTACT_EVENTS = ['contact.created', 'contact.updated', 'contact.deleted'] as const;

export const MESSAGE_EVENTS = [
  'message.sent',
  'message.received',
  'message.status_updated',
  'group_message.sent',
  'group_message.received',
  'group_message.status_updated',
] as const;

/** These carry a call id in `data`. */
export const CONVERSATION_INTELLIGENCE_EVENTS = [
  'transcription.created',
  'summary.created',
  'topics.created',
  'sentiment.created',
  'action_item.created',
  'playbook_result.created',
  'playbook_result.updated',
  'realtime_transcription.utterances_received',
  'custom_summary.result_created',
  'custom_summary.result_updated',
  'call_evaluation.created',
  'call_evaluation.updated',
] as const;

export const AI_VOICE_AGENT_EVENTS = [
  'ai_voice_agent.started',
  'ai_voice_agent.ended',
  'ai_voice_agent.escalated',
  'ai_voice_agent.summary',
] as const;

export const ANALYTICS_EVENTS = ['analytics.report_created', 'analytics.report_failed'] as const;

/** Sent to OAuth integrations only. */
export const INTEGRATION_EVENTS = ['integration.deleted'] as const;

/** Every event by the `resource` its envelope carries. */
export const EVENT_CATALOGUE = {
  call: CALL_EVENTS,
  user: [...USER_EVENTS_V1, ...USER_EVENTS_V2],
  number: NUMBER_EVENTS,
  contact: CONTACT_EVENTS,
  message: MESSAGE_EVENTS,
  conversation_intelligence: CONVERSATION_INTELLIGENCE_EVENTS,
  ai_voice_agent: AI_VOICE_AGENT_EVENTS,
  analytics: ANALYTICS_EVENTS,
  integration: INTEGRATION_EVENTS,
} as const;

/** What a webhook created without `events` (or updated without them, see the store) subscribes to. */
export const ALL_EVENTS: readonly string[] = Object.values(EVENT_CATALOGUE).flat();

const known = new Set(ALL_EVENTS);
export const isKnownEvent = (name: string): boolean => known.has(name);
