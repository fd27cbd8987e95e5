// Deterministic, realistic Aircall traffic for one company: call lifecycles shaped like the captured samples, and agent status events.

import { type GeneratedEvent, makeEvent } from './envelope.js';
import type { JsonObject } from './json.js';
import { createRandom, hashString, type Random } from './random.js';

export const CALL_KINDS = [
  'outbound_answered',
  'inbound_answered',
  'inbound_missed',
  'inbound_voicemail',
  'inbound_transferred',
] as const;
export type CallKind = (typeof CALL_KINDS)[number];

/** How often each kind comes up in `generate`, out of 100. */
const KIND_WEIGHTS: readonly (readonly [CallKind, number])[] = [
  ['outbound_answered', 35],
  ['inbound_answered', 30],
  ['inbound_missed', 15],
  ['inbound_voicemail', 10],
  ['inbound_transferred', 10],
];

/** Reasons Aircall gives for missed inbound calls that never rang on an agent (so carry no `user`). */
const MISSED_REASONS = [
  'out_of_opening_hours',
  'short_abandoned',
  'no_available_agent',
  'abandoned_in_ivr',
  'abandoned_in_classic',
] as const;

export interface TrafficOptions {
  readonly account: string;
  readonly seed: number;
  /** UNIX seconds at which the first lifecycle may start. */
  readonly startTime: number;
  /** Keeps the ids of the simulator's companies apart, as Aircall's ids are global. @default 0 */
  readonly companyIndex?: number;
  /** @default 4 */
  readonly agents?: number;
  /** @default 2 */
  readonly numbers?: number;
  /** Also send the `.v2` twin of each user event, as Aircall does to a webhook subscribed to both. @default true */
  readonly userEventsV2?: boolean;
}

export interface TrafficGenerator {
  readonly account: string;
  /** The roster's users, as Aircall's user object (with `numbers`). */
  readonly agents: readonly JsonObject[];
  readonly numbers: readonly JsonObject[];
  /**
   * `count` call lifecycles, each perhaps with an agent status event near its start, sorted by timestamp.
   * `notBefore` (UNIX seconds) moves the generator's clock forward, never back.
   */
  generate(count: number, notBefore?: number): GeneratedEvent[];
  /** One call of the given kind, its events in lifecycle order. */
  call(kind: CallKind, notBefore?: number): GeneratedEvent[];
  /** The next status change of one agent: a V1 event and, unless turned off, its `.v2` twin. */
  agentStatus(notBefore?: number): GeneratedEvent[];
}

const FIRST_NAMES = [
  'Ada',
  'Bram',
  'Chloé',
  'Dev',
  'Elif',
  'Femi',
  'Greta',
  'Hugo',
  'Ines',
  'Jonas',
  'Kenji',
];
const LAST_NAMES = ['Okafor', 'Janssen', 'Moreau', 'Patel', 'Yilmaz', 'Adeyemi', 'Larsen', 'Silva', 'Tanaka'];
const LINES = [
  { country: 'GB', timeZone: 'Europe/London', prefix: '+44 20 ', name: 'UK Support' },
  { country: 'FR', timeZone: 'Europe/Paris', prefix: '+33 1 ', name: 'Paris Sales' },
  { country: 'US', timeZone: 'America/New_York', prefix: '+1 212-', name: 'NY Sales' },
  { country: 'DE', timeZone: 'Europe/Berlin', prefix: '+49 30 ', name: 'Berlin Support' },
] as const;
const TAGS = ['Sales', 'Support', 'Follow-up', 'Churn risk', 'VIP'];
const COMMENTS = ['Called back about the invoice.', 'Wants a demo next week.', 'Escalated to tier 2.'];
const MEDIA = 'https://media-web.aircall.io/tracks/tts/languages/en/voices/Joanna';
const API = 'https://api.aircall.io/v1';

const amzDate = (seconds: number): string =>
  new Date(seconds * 1000)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

interface AgentState {
  readonly user: JsonObject;
  connected: boolean;
  open: boolean;
  lastTimestamp: number;
}

export const createTrafficGenerator = (options: TrafficOptions): TrafficGenerator => {
  const random: Random = createRandom(options.seed ^ hashString(options.account));
  const index = options.companyIndex ?? 0;
  const companyId = 200_000 + index;
  const sendV2 = options.userEventsV2 ?? true;
  let clock = options.startTime;
  // Real call ids are above 2^31; each company gets its own range so ids never collide across companies.
  let nextCallId = 3_000_000_000 + index * 1_000_000_000 + random.int(0, 9_999);

  const phone = (prefix: string): string => `${prefix}${random.int(1000, 9999)} ${random.int(1000, 9999)}`;

  const numbers: JsonObject[] = Array.from({ length: options.numbers ?? 2 }, (_, i) => {
    const line = LINES[i % LINES.length] ?? LINES[0];
    const id = 400_000 + index * 1_000 + i;
    return {
      id,
      direct_link: `${API}/numbers/${id}`,
      name: line.name,
      digits: phone(line.prefix),
      country: line.country,
      time_zone: line.timeZone,
      open: true,
      availability_status: 'open',
      is_ivr: false,
      live_recording_activated: false,
      messages: {
        welcome: `${MEDIA}/${random.hex(40)}.mp3`,
        waiting: 'https://media-web.aircall.io/tracks/library/bensound-retrosoul.mp3',
        voicemail: `${MEDIA}/${random.hex(40)}.mp3`,
        closed: `${MEDIA}/${random.hex(40)}.mp3`,
      },
    };
  });

  const agents: AgentState[] = Array.from({ length: options.agents ?? 4 }, (_, i) => {
    const first = random.pick(FIRST_NAMES);
    const last = random.pick(LAST_NAMES);
    const id = 800_000 + index * 1_000 + i;
    return {
      user: {
        id,
        direct_link: `${API}/users/${id}`,
        name: `${first} ${last}`,
        email: `${first.toLowerCase()}.${last.toLowerCase()}@${options.account}.example.com`,
        available: false,
        availability_status: 'unavailable',
        language: 'en-US',
        wrap_up_time: 0,
      },
      connected: false,
      open: true,
      lastTimestamp: 0,
    };
  });

  /** Known callers, each with the phone number they call from (the call's `raw_digits`). */
  const contacts = Array.from({ length: 6 }, (_, i) => {
    const id = 70_000_000 + index * 10_000 + i;
    const created = options.startTime - random.int(86_400, 86_400 * 400);
    const digits = phone('+44 7');
    const contact: JsonObject = {
      id,
      direct_link: `${API}/contacts/${id}`,
      first_name: random.pick(FIRST_NAMES),
      last_name: random.pick(LAST_NAMES),
      company_name: random.pick(['Acme', 'Globex', 'Initech', 'Umbrella']),
      information: '',
      is_shared: true,
      created_at: created,
      updated_at: created,
      emails: [],
      phone_numbers: [{ id: 130_000_000 + index * 10_000 + i, label: 'Work', value: digits }],
    };
    return { contact, digits };
  });

  const advance = (notBefore: number | undefined): void => {
    if (notBefore !== undefined && notBefore > clock) clock = notBefore;
  };

  const userRef = (agent: AgentState): JsonObject => structuredClone(agent.user);

  const otherAgent = (than: AgentState): AgentState => {
    const others = agents.filter((a) => a !== than);
    return others.length > 0 ? random.pick(others) : than;
  };

  /** A presigned-looking S3 link: short-lived in real life, so a consumer must not rely on it lasting. */
  const presigned = (callId: number, kind: 'voicemail' | 'recording', signedAt: number): string => {
    const day = amzDate(signedAt).slice(0, 8);
    return (
      `https://aircall-simulator-recordings.s3.us-west-2.amazonaws.com/companies/${companyId}/recordings/` +
      `call-${callId}-${random.hex(32)}-${kind}.mp3?X-Amz-Algorithm=AWS4-HMAC-SHA256` +
      `&X-Amz-Credential=ASIA${random.hex(16).toUpperCase()}%2F${day}%2Fus-west-2%2Fs3%2Faws4_request` +
      `&X-Amz-Date=${amzDate(signedAt)}&X-Amz-Expires=3600&X-Amz-SignedHeaders=host` +
      `&X-Amz-Signature=${random.hex(64)}`
    );
  };

  const call = (kind: CallKind, notBefore?: number): GeneratedEvent[] => {
    advance(notBefore);
    const start = clock;
    nextCallId += random.int(1, 997);
    const id = nextCallId;
    const number = random.pick(numbers);
    const caller = random.chance(0.5) ? random.pick(contacts) : undefined;
    const data: JsonObject = {
      id,
      direct_link: `${API}/calls/${id}`,
      call_uuid: `CA${random.hex(32)}`,
      direction: kind === 'outbound_answered' ? 'outbound' : 'inbound',
      status: 'initial',
      missed_call_reason: null,
      started_at: start,
      answered_at: null,
      ended_at: null,
      duration: 0,
      cost: '0.0',
      hangup_cause: null,
      voicemail: null,
      recording: null,
      asset: null,
      raw_digits: caller?.digits ?? phone('+44 7'),
      number: structuredClone(number),
      // Aircall leaves `contact` out rather than sending null when the caller is unknown.
      ...(caller === undefined ? {} : { contact: structuredClone(caller.contact) }),
      archived: false,
      teams: [],
      comments: [],
      tags: [],
    };
    const events: GeneratedEvent[] = [];
    const emit = (event: string, timestamp: number): number => {
      events.push(makeEvent(options.account, 'call', event, timestamp, structuredClone(data)));
      return timestamp;
    };

    /** Talking from `from`, perhaps with a hold; returns when the call hangs up. */
    const talk = (from: number): number => {
      if (!random.chance(0.2)) return from + random.int(15, 400);
      const holdAt = emit('call.hold', from + random.int(10, 60));
      const unholdAt = emit('call.unhold', holdAt + random.int(10, 90));
      return unholdAt + random.int(10, 200);
    };

    const hangUp = (endedAt: number): void => {
      data.status = 'done';
      data.ended_at = endedAt;
      data.duration = endedAt - start;
    };

    /** Tags and comments come after `call.ended`, with the call's final data. */
    const afterEnded = (from: number, by: AgentState): void => {
      let at = from;
      if (random.chance(0.4)) {
        at += random.int(5, 120);
        data.tags = [
          {
            id: random.int(10_000, 99_999),
            name: random.pick(TAGS),
            tagged_by: { id: by.user.id ?? 0, type: 'user' },
          },
        ];
        emit('call.tagged', at);
      }
      if (random.chance(0.3)) {
        at += random.int(5, 300);
        data.comments = [
          {
            id: random.int(1_000_000, 9_999_999),
            content: random.pick(COMMENTS),
            posted_at: at,
            posted_by: userRef(by),
          },
        ];
        emit('call.commented', at);
      }
    };

    const answeredCall = (first: AgentState, ringingFrom: number): void => {
      let agent = first;
      const answeredAt = emit('call.answered', ringingFrom + random.int(3, 15));
      data.status = 'answered';
      data.answered_at = answeredAt;
      let endedAt: number;
      if (kind === 'inbound_transferred') {
        const target = otherAgent(agent);
        const transferAt = answeredAt + random.int(20, 120);
        data.transferred_by = userRef(agent);
        data.transferred_to = userRef(target);
        data.user = userRef(target);
        agent = target;
        emit('call.transferred', transferAt);
        endedAt = talk(transferAt);
      } else {
        endedAt = talk(answeredAt);
      }
      hangUp(endedAt);
      emit('call.hungup', endedAt);
      // The recording is only in the final data: call.hungup may be incomplete.
      if (random.chance(0.7)) {
        data.recording = presigned(id, 'recording', endedAt + 30);
        data.asset = `https://assets.aircall.io/calls/${id}/recording`;
      }
      afterEnded(emit('call.ended', endedAt + random.int(30, 35)), agent);
    };

    switch (kind) {
      case 'outbound_answered': {
        const agent = random.pick(agents);
        data.user = userRef(agent);
        emit('call.created', start + random.int(1, 2));
        answeredCall(agent, start);
        break;
      }
      case 'inbound_answered':
      case 'inbound_transferred': {
        emit('call.created', start + 1);
        let agent = random.pick(agents);
        data.user = userRef(agent);
        let ringAt = emit('call.ringing_on_agent', start + random.int(1, 3));
        if (random.chance(0.15)) {
          emit('call.agent_declined', ringAt + random.int(2, 8));
          agent = otherAgent(agent);
          data.user = userRef(agent);
          ringAt = emit('call.ringing_on_agent', ringAt + random.int(9, 12));
        }
        answeredCall(agent, ringAt);
        break;
      }
      case 'inbound_missed': {
        emit('call.created', start + 1);
        data.missed_call_reason = random.pick(MISSED_REASONS);
        const endedAt = start + random.int(3, 40);
        hangUp(endedAt);
        // An unanswered inbound call may skip call.hungup entirely.
        if (random.chance(0.5)) emit('call.hungup', endedAt);
        afterEnded(emit('call.ended', endedAt + random.int(30, 35)), random.pick(agents));
        break;
      }
      case 'inbound_voicemail': {
        emit('call.created', start + 1);
        data.missed_call_reason = 'agents_did_not_answer';
        const endedAt = start + random.int(20, 60);
        hangUp(endedAt);
        emit('call.hungup', endedAt);
        const endedTimestamp = endedAt + random.int(30, 35);
        const voicemail = presigned(id, 'voicemail', endedTimestamp);
        const setVoicemail = (): void => {
          data.voicemail = voicemail;
          data.asset = `https://assets.aircall.io/calls/${id}/voicemail`;
        };
        let last: number;
        // The voicemail may come after call.ended, whose data then has none yet.
        if (random.chance(0.3)) {
          emit('call.ended', endedTimestamp);
          setVoicemail();
          last = emit('call.voicemail_left', endedTimestamp + random.int(1, 20));
        } else {
          setVoicemail();
          emit('call.voicemail_left', endedAt + random.int(2, 20));
          last = emit('call.ended', endedTimestamp);
        }
        afterEnded(last, random.pick(agents));
        break;
      }
    }
    return events;
  };

  const agentStatus = (notBefore?: number): GeneratedEvent[] => {
    const agent = random.pick(agents);
    // Strictly later than this agent's last event, so no two of its events share a key.
    const timestamp = Math.max(notBefore ?? clock, agent.lastTimestamp + 1);
    agent.lastTimestamp = timestamp;
    let name: string;
    if (!agent.connected) {
      name = 'user.connected';
      agent.connected = true;
    } else {
      name = random.pick(
        agent.open ? ['closed', 'closed', 'disconnected'] : ['opened', 'opened', 'disconnected'],
      );
      if (name === 'disconnected') agent.connected = false;
      else agent.open = name === 'opened';
      name = `user.${name}`;
    }
    const available = agent.connected && agent.open;
    agent.user.available = available;
    agent.user.availability_status = available ? 'available' : 'unavailable';
    const v1: JsonObject = { ...structuredClone(agent.user), numbers: structuredClone(numbers) };
    const events = [makeEvent(options.account, 'user', name, timestamp, v1)];
    if (sendV2)
      events.push(makeEvent(options.account, 'user', `${name}.v2`, timestamp, structuredClone(agent.user)));
    return events;
  };

  const pickKind = (): CallKind => {
    let roll = random.int(1, 100);
    for (const [kind, weight] of KIND_WEIGHTS) {
      if (roll <= weight) return kind;
      roll -= weight;
    }
    return 'outbound_answered';
  };

  const generate = (count: number, notBefore?: number): GeneratedEvent[] => {
    advance(notBefore);
    const events: GeneratedEvent[] = [];
    for (let i = 0; i < count; i += 1) {
      // Calls start a few seconds apart and last minutes, so lifecycles overlap as on a busy line.
      clock += random.int(5, 45);
      events.push(...call(pickKind()));
      if (random.chance(0.6)) events.push(...agentStatus(clock + random.int(0, 20)));
    }
    // Stable: events of one lifecycle with the same timestamp keep their lifecycle order.
    return events.sort((a, b) => a.timestamp - b.timestamp);
  };

  return {
    account: options.account,
    agents: agents.map((a) => a.user),
    numbers,
    generate,
    call,
    agentStatus,
  };
};
