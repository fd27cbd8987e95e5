// Webhook bodies built from the real samples: a sample's own token, or the sample with fields changed.

import { type SampleName, sampleBody } from './fixtures.js';

/** The token the sample was sent with. */
export const sampleToken = (name: SampleName): string => {
  const { token } = JSON.parse(sampleBody(name)) as { token?: unknown };
  if (typeof token !== 'string') throw new Error(`sample ${name} has no token`);
  return token;
};

/** The body with some top-level fields replaced or, when given undefined, removed. */
export const withFields = (body: string, fields: Readonly<Record<string, unknown>>): string => {
  const payload = { ...(JSON.parse(body) as Record<string, unknown>) };
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) delete payload[name];
    else payload[name] = value;
  }
  return JSON.stringify(payload);
};
