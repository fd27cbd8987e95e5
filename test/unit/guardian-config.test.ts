// The guardian's environment: every webhook URL of the stack, read once and checked at init.
import { describe, expect, it } from 'vitest';
import { loadGuardianConfig } from '../../lambdas/guardian/config.js';

const BASE = {
  WEBHOOKS_TABLE: 'webhooks-table',
  AIRCALL_SECRET_ID: 'aircall/credentials',
};

describe('loadGuardianConfig', () => {
  it('reads WEBHOOK_URLS as a comma-separated list, spaces and empty entries ignored', () => {
    const config = loadGuardianConfig({
      ...BASE,
      WEBHOOK_URLS:
        'https://abc.execute-api.eu-west-1.amazonaws.com/aircall/webhook, https://hooks.example.com/aircall,',
    });
    expect(config).toEqual({
      webhooksTable: 'webhooks-table',
      secretId: 'aircall/credentials',
      webhookUrls: [
        'https://abc.execute-api.eu-west-1.amazonaws.com/aircall/webhook',
        'https://hooks.example.com/aircall',
      ],
      aircallApiUrl: 'https://api.aircall.io/v1',
    });
  });

  it('names every URL that is not an https webhook URL, in one error', () => {
    expect(() =>
      loadGuardianConfig({
        ...BASE,
        WEBHOOK_URLS: 'http://hooks.example.com/aircall,https://user:pw@hooks.example.com/a,not a url',
      }),
    ).toThrow(
      'WEBHOOK_URLS must be a comma-separated list of https URLs: http://hooks.example.com/aircall is not https; ' +
        'https://[credentials]@hooks.example.com/a carries credentials; not a url has a comma or a space in it',
    );
  });

  it('refuses a list with no URL in it, and names WEBHOOK_URLS when it is missing', () => {
    expect(() => loadGuardianConfig({ ...BASE, WEBHOOK_URLS: ' , ' })).toThrow(/it holds no URL/);
    expect(() => loadGuardianConfig(BASE)).toThrow('Missing environment variables: WEBHOOK_URLS');
  });
});
