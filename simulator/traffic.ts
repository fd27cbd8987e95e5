// Deterministic, realistic Aircall traffic for one company: call lifecycles shaped like the captured samples, and agent status events.

import { type GeneratedEvent, makeEvent } from './envelope.js';
import { copyJson, type JsonObject } from './json.js';
import { type MediaFile, type MediaKind, MediaLinks } from './media.js';
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
  /** UNIX seconds the generator's clock starts at: lifecycles start from it unless `notAfter` moves them back. */
  readonly startTime: number;
  /** Keeps the ids of the simulator's companies apart, as Aircall's ids are global. @default 0 */
  readonly companyIndex?: number;
  /** @default 4 */
  readonly agents?: number;
  /** @default 2 */
  readonly numbers?: number;
  /** Known callers, shared contacts of the company. @default 6 */
  readonly contacts?: number;
  /** Also send the `.v2` twin of each user event, as Aircall does to a webhook subscribed to both. @default true */
  readonly userEventsV2?: boolean;
  /**
   * Signs a recording or voicemail link at `signedAt` (UNIX seconds), for every event that carries it.
   * @default links on `http://127.0.0.1` signed with a fixed key, served by no simulator
   */
  readonly mediaLink?: (file: MediaFile, signedAt: number) => string;
}

/** Where generated events go on the generator's timeline, in UNIX seconds. */
export interface Placement {
  /** Moves the generator's clock forward to this, never back. */
  readonly notBefore?: number;
  /**
   * The moment the events are delivered: none is later, and no call time either. Lifecycles that would run
   * past it are moved back, keeping their spacing, so they have already happened.
   */
  readonly notAfter?: number;
}

export interface TrafficGenerator {
  readonly account: string;
  /** The roster's users, as Aircall's user object (with `numbers`). */
  readonly agents: readonly JsonObject[];
  readonly numbers: readonly JsonObject[];
  /** The shared contacts some calls come from, as Aircall's contact object. */
  readonly contacts: readonly JsonObject[];
  /** `count` call lifecycles, each perhaps with an agent status event near its start, sorted by timestamp. */
  generate(count: number, placement?: Placement): GeneratedEvent[];
  /** One call of the given kind, in lifecycle order: from the generator's clock, or back from `notAfter`. */
  call(kind: CallKind, placement?: Placement): GeneratedEvent[];
  /**
   * The next status change of one agent: a V1 event and, unless turned off, its `.v2` twin.
   * Nothing when that agent's next change would come after `notAfter`.
   */
  agentStatus(placement?: Placement): GeneratedEvent[];
  /**
   * The final data of `count` finished calls, the `data` their last event would carry, with `started_at` spread
   * evenly over [from, to] (UNIX seconds, both included), and no events made: history nobody was sent. Its links
   * are signed at each call's last event. Leaves the generator's clock where it is.
   */
  history(count: number, from: number, to: number): FinishedCall[];
}

/** A call's final state: its data, and the timestamp of its last event. */
export interface FinishedCall {
  readonly timestamp: number;
  readonly data: JsonObject;
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

/** For a generator on its own: its payloads repeat, and no server answers its links. */
const standaloneLinks = new MediaLinks({
  origin: () => 'http://127.0.0.1',
  secret: Buffer.from('standalone traffic generator'),
  expirySeconds: 600,
});

/** One call drawn but not laid out yet: its own stream makes it come out the same at whatever start it gets. */
interface PlannedCall {
  readonly kind: CallKind;
  readonly id: number;
  readonly seed: number;
}

interface AgentState {
  readonly user: JsonObject;
  connected: boolean;
  open: boolean;
  lastTimestamp: number;
}

export const createTrafficGenerator = (options: TrafficOptions): TrafficGenerator => {
  const random: Random = createRandom(options.seed ^ hashString(options.account));
  const index = options.companyIndex ?? 0;
  const sendV2 = options.userEventsV2 ?? true;
  const mediaLink = options.mediaLink ?? ((file, signedAt) => standaloneLinks.sign(file, signedAt));
  let clock = options.startTime;
  // Real call ids are above 2^31; each company gets its own range so ids never collide across companies.
  let nextCallId = 3_000_000_000 + index * 1_000_000_000 + random.int(0, 9_999);

  const phone = (draw: Random, prefix: string): string =>
    `${prefix}${draw.int(1000, 9999)} ${draw.int(1000, 9999)}`;

  const numbers: JsonObject[] = Array.from({ length: options.numbers ?? 2 }, (_, i) => {
    const line = LINES[i % LINES.length] ?? LINES[0];
    const id = 400_000 + index * 1_000 + i;
    return {
      id,
      direct_link: `${API}/numbers/${id}`,
      name: line.name,
      digits: phone(random, line.prefix),
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
  const contacts = Array.from({ length: options.contacts ?? 6 }, (_, i) => {
    const id = 70_000_000 + index * 10_000 + i;
    const created = options.startTime - random.int(86_400, 86_400 * 400);
    const digits = phone(random, '+44 7');
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

  const userRef = (agent: AgentState): JsonObject => copyJson(agent.user);

  const otherAgent = (draw: Random, than: AgentState): AgentState => {
    const others = agents.filter((a) => a !== than);
    return others.length > 0 ? draw.pick(others) : than;
  };

  const planCall = (kind: CallKind): PlannedCall => {
    nextCallId += random.int(1, 997);
    return { kind, id: nextCallId, seed: random.int(0, 0xffff_ffff) };
  };

  /**
   * Plays the planned call from `start`: its events in lifecycle order, unless `withEvents` is false, when only
   * its final data is made (history is thousands of calls, and an event costs a copy and a digest). Only `start`
   * moves its times.
   */
  const play = (
    { kind, id, seed }: PlannedCall,
    start: number,
    withEvents: boolean,
  ): { readonly events: GeneratedEvent[]; readonly final: FinishedCall } => {
    const draw = createRandom(seed);
    const number = draw.pick(numbers);
    const caller = draw.chance(0.5) ? draw.pick(contacts) : undefined;
    const data: JsonObject = {
      id,
      direct_link: `${API}/calls/${id}`,
      call_uuid: `CA${draw.hex(32)}`,
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
      raw_digits: caller?.digits ?? phone(draw, '+44 7'),
      number: copyJson(number),
      // Aircall leaves `contact` out rather than sending null when the caller is unknown.
      ...(caller === undefined ? {} : { contact: copyJson(caller.contact) }),
      archived: false,
      teams: [],
      comments: [],
      tags: [],
    };
    const events: GeneratedEvent[] = [];
    /** The files the call has so far; their links are signed anew for every event, as Aircall does. */
    const media = new Set<MediaKind>();
    let lastTimestamp = start;
    const emit = (event: string, timestamp: number): number => {
      lastTimestamp = timestamp;
      if (!withEvents) return timestamp;
      const signed = structuredClone(data);
      for (const kind of media)
        signed[kind] = mediaLink({ account: options.account, callId: id, kind }, timestamp);
      events.push(makeEvent(options.account, 'call', event, timestamp, signed));
      return timestamp;
    };

    /** Talking from `from`, perhaps with a hold; returns when the call hangs up. */
    const talk = (from: number): number => {
      if (!draw.chance(0.2)) return from + draw.int(15, 400);
      const holdAt = emit('call.hold', from + draw.int(10, 60));
      const unholdAt = emit('call.unhold', holdAt + draw.int(10, 90));
      return unholdAt + draw.int(10, 200);
    };

    const hangUp = (endedAt: number): void => {
      data.status = 'done';
      data.ended_at = endedAt;
      data.duration = endedAt - start;
    };

    /** Tags and comments come after `call.ended`, with the call's final data. */
    const afterEnded = (from: number, by: AgentState): void => {
      let at = from;
      if (draw.chance(0.4)) {
        at += draw.int(5, 120);
        data.tags = [
          {
            id: draw.int(10_000, 99_999),
            name: draw.pick(TAGS),
            tagged_by: { id: by.user.id ?? 0, type: 'user' },
          },
        ];
        emit('call.tagged', at);
      }
      if (draw.chance(0.3)) {
        at += draw.int(5, 300);
        data.comments = [
          {
            id: draw.int(1_000_000, 9_999_999),
            content: draw.pick(COMMENTS),
            posted_at: at,
            posted_by: userRef(by),
          },
        ];
        emit('call.commented', at);
      }
    };

    const answeredCall = (first: AgentState, ringingFrom: number): void => {
      let agent = first;
      const answeredAt = emit('call.answered', ringingFrom + draw.int(3, 15));
      data.status = 'answered';
      data.answered_at = answeredAt;
      let endedAt: number;
      if (kind === 'inbound_transferred') {
        const target = otherAgent(draw, agent);
        const transferAt = answeredAt + draw.int(20, 120);
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
      if (draw.chance(0.7)) {
        media.add('recording');
        data.asset = `https://assets.aircall.io/calls/${id}/recording`;
      }
      afterEnded(emit('call.ended', endedAt + draw.int(30, 35)), agent);
    };

    switch (kind) {
      case 'outbound_answered': {
        const agent = draw.pick(agents);
        data.user = userRef(agent);
        emit('call.created', start + draw.int(1, 2));
        answeredCall(agent, start);
        break;
      }
      case 'inbound_answered':
      case 'inbound_transferred': {
        emit('call.created', start + 1);
        let agent = draw.pick(agents);
        data.user = userRef(agent);
        let ringAt = emit('call.ringing_on_agent', start + draw.int(1, 3));
        if (draw.chance(0.15)) {
          emit('call.agent_declined', ringAt + draw.int(2, 8));
          agent = otherAgent(draw, agent);
          data.user = userRef(agent);
          ringAt = emit('call.ringing_on_agent', ringAt + draw.int(9, 12));
        }
        answeredCall(agent, ringAt);
        break;
      }
      case 'inbound_missed': {
        emit('call.created', start + 1);
        data.missed_call_reason = draw.pick(MISSED_REASONS);
        const endedAt = start + draw.int(3, 40);
        hangUp(endedAt);
        // An unanswered inbound call may skip call.hungup entirely.
        if (draw.chance(0.5)) emit('call.hungup', endedAt);
        afterEnded(emit('call.ended', endedAt + draw.int(30, 35)), draw.pick(agents));
        break;
      }
      case 'inbound_voicemail': {
        emit('call.created', start + 1);
        data.missed_call_reason = 'agents_did_not_answer';
        const endedAt = start + draw.int(20, 60);
        hangUp(endedAt);
        emit('call.hungup', endedAt);
        const endedTimestamp = endedAt + draw.int(30, 35);
        const setVoicemail = (): void => {
          media.add('voicemail');
          data.asset = `https://assets.aircall.io/calls/${id}/voicemail`;
        };
        let last: number;
        // The voicemail may come after call.ended, whose data then has none yet.
        if (draw.chance(0.3)) {
          emit('call.ended', endedTimestamp);
          setVoicemail();
          last = emit('call.voicemail_left', endedTimestamp + draw.int(1, 20));
        } else {
          setVoicemail();
          emit('call.voicemail_left', endedAt + draw.int(2, 20));
          last = emit('call.ended', endedTimestamp);
        }
        afterEnded(last, draw.pick(agents));
        break;
      }
    }
    // Nothing changes the data after its last event, so the data as it stands is that event's.
    for (const kind of media)
      data[kind] = mediaLink({ account: options.account, callId: id, kind }, lastTimestamp);
    return { events, final: { timestamp: lastTimestamp, data } };
  };

  /** The planned call's events from `start`, in lifecycle order. */
  const lifecycle = (plan: PlannedCall, start: number): GeneratedEvent[] => play(plan, start, true).events;

  /** Seconds from a planned call's start to its last event: the same at any start, so a dry run at 0 tells. */
  const spanOf = (plan: PlannedCall): number =>
    lifecycle(plan, 0).reduce((latest, event) => Math.max(latest, event.timestamp), 0);

  /** How far lifecycles starting at these times must move back for none to run past `notAfter`. */
  const overrun = (planned: readonly { start: number; plan: PlannedCall }[], notAfter?: number): number => {
    if (notAfter === undefined) return 0;
    const latest = planned.reduce((end, { start, plan }) => Math.max(end, start + spanOf(plan)), notAfter);
    return latest - notAfter;
  };

  const call = (kind: CallKind, placement: Placement = {}): GeneratedEvent[] => {
    advance(placement.notBefore);
    const plan = planCall(kind);
    return lifecycle(plan, clock - overrun([{ start: clock, plan }], placement.notAfter));
  };

  const statusChange = (at: number, notAfter?: number): GeneratedEvent[] => {
    const agent = random.pick(agents);
    // Strictly later than this agent's last event, so no two of its events share a key.
    const timestamp = Math.max(at, agent.lastTimestamp + 1);
    // An agent whose last change is that recent has nothing more to report by the delivery time.
    if (notAfter !== undefined && timestamp > notAfter) return [];
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

  const agentStatus = (placement: Placement = {}): GeneratedEvent[] => {
    advance(placement.notBefore);
    return statusChange(clock, placement.notAfter);
  };

  const generate = (count: number, placement: Placement = {}): GeneratedEvent[] => {
    advance(placement.notBefore);
    const planned = Array.from({ length: count }, () => {
      // Calls start a few seconds apart and last minutes, so lifecycles overlap as on a busy line.
      clock += random.int(5, 45);
      return { start: clock, plan: planCall(pickKind()) };
    });
    // The batch moves back as one so its calls keep their spacing; if it moves, its last event lands on notAfter.
    const shift = overrun(planned, placement.notAfter);
    clock -= shift;
    const events: GeneratedEvent[] = [];
    for (const { start, plan } of planned) {
      events.push(...lifecycle(plan, start - shift));
      if (random.chance(0.6)) {
        events.push(...statusChange(start - shift + random.int(0, 20), placement.notAfter));
      }
    }
    // Stable: events of one lifecycle with the same timestamp keep their lifecycle order.
    return events.sort((a, b) => a.timestamp - b.timestamp);
  };

  const history = (count: number, from: number, to: number): FinishedCall[] =>
    Array.from({ length: count }, (_, i) => {
      const start = count === 1 ? from : from + Math.round((i * (to - from)) / (count - 1));
      return play(planCall(pickKind()), start, false).final;
    });

  return {
    account: options.account,
    agents: agents.map((a) => a.user),
    numbers,
    contacts: contacts.map((c) => c.contact),
    history,
    generate,
    call,
    agentStatus,
  };
};
