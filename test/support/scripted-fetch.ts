// A fetch that answers from a script, in order, and records each request: the Aircall client's tests need no server.

export interface FetchedRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Headers;
  /** The virtual time the request started at, when the script was given a clock. */
  readonly at: number | undefined;
}

/** `json` is serialised; `text` is sent as is, for bodies JSON.stringify cannot write (integers beyond 2^53). */
export interface FetchReply {
  readonly status: number;
  readonly json?: unknown;
  readonly text?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ScriptedFetch {
  readonly fetch: typeof fetch;
  readonly requests: FetchedRequest[];
  script(...replies: FetchReply[]): void;
}

const urlOf = (input: string | URL | Request): URL =>
  new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);

/** A request with no reply left gets a 418 naming it, so a test fails loudly rather than hanging. */
export const scriptedFetch = (now?: () => number): ScriptedFetch => {
  const queue: FetchReply[] = [];
  const requests: FetchedRequest[] = [];
  const fake = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = urlOf(input);
    const method = init?.method ?? 'GET';
    requests.push({ method, url, headers: new Headers(init?.headers), at: now?.() });
    const reply = queue.shift() ?? {
      status: 418,
      json: { error: `scripted-fetch: no reply scripted for ${method} ${url.pathname}${url.search}` },
    };
    const body = reply.text ?? (reply.json === undefined ? null : JSON.stringify(reply.json));
    return new Response(reply.status === 204 ? null : body, {
      status: reply.status,
      headers: {
        ...(reply.json === undefined ? {} : { 'content-type': 'application/json' }),
        ...reply.headers,
      },
    });
  };
  return {
    fetch: fake,
    requests,
    script: (...replies) => {
      queue.push(...replies);
    },
  };
};
