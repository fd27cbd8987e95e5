// The named errors of the simulator; the API maps them to HTTP statuses in one place (api.ts).

export class SimulatorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** 400: a bad body, an unknown event name, or a company already at its webhook limit. */
export class BadRequestError extends SimulatorError {}
/** 400 in Aircall's own words: a list page that starts at or past its 10,000th result. */
export class ResultWindowError extends SimulatorError {}
/** 401: missing or wrong credentials. */
export class UnauthorizedError extends SimulatorError {}
/** 404: no such route, or no such webhook for this company. */
export class NotFoundError extends SimulatorError {}
/** 429: the company used up its requests for the current minute. */
export class RateLimitedError extends SimulatorError {}
/** A programmatic call named an account the simulator was not started with. */
export class UnknownCompanyError extends SimulatorError {}
/** flush() waited longer than it was allowed to. */
export class FlushTimeoutError extends SimulatorError {}
/** A delivery got no complete answer in time. */
export class DeliveryTimeoutError extends SimulatorError {}
/** startSimulator was given options it cannot run with. */
export class InvalidOptionsError extends SimulatorError {}
/** A programmatic call named a recording or voicemail the simulator does not serve. */
export class UnknownMediaError extends SimulatorError {}
