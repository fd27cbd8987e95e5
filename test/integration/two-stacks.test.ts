// Two local stacks in one process: each handler is wired to its own emulators, and nothing goes through process.env.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleBody } from '../support/fixtures.js';
import { post, startTestLocalStack, type TestLocalStack, waitFor, withToken } from '../support/local.js';
import { getItem } from '../support/tables.js';

const USER_ID = 749132;
const CONTACT_ID = 76041687;

describe('two local stacks in one process', () => {
  let first: TestLocalStack;
  let second: TestLocalStack;
  let environmentBefore: Record<string, string | undefined>;

  beforeAll(async () => {
    environmentBefore = { ...process.env };
    [first, second] = await Promise.all([startTestLocalStack(), startTestLocalStack()]);
  });

  afterAll(async () => {
    await Promise.all([first?.dispose(), second?.dispose()]);
  });

  it('stores what each one is sent in its own tables only', async () => {
    expect(await post(first.stack.webhookUrl, withToken(sampleBody('captured-user.created')))).toBe(200);
    expect(await post(second.stack.webhookUrl, withToken(sampleBody('captured-contact.created')))).toBe(200);

    await waitFor(() => getItem(first.documents, first.settings.tables.users, { id: USER_ID }), 10_000);
    await waitFor(
      () => getItem(second.documents, second.settings.tables.contacts, { id: CONTACT_ID }),
      10_000,
    );
    await waitFor(
      () => (first.stack.depth().queue + second.stack.depth().queue === 0 ? true : undefined),
      10_000,
    );

    expect(await getItem(second.documents, second.settings.tables.users, { id: USER_ID })).toBeUndefined();
    expect(
      await getItem(first.documents, first.settings.tables.contacts, { id: CONTACT_ID }),
    ).toBeUndefined();
    expect(first.stack.endpoints.dynamodb).not.toBe(second.stack.endpoints.dynamodb);
  });

  it('leaves the process environment as it found it', () => {
    expect(process.env).toEqual(environmentBefore);
  });
});
