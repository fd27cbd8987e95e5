// One event followed end to end by its correlation id: the webhook request's id in ingest's log, on the queued
// message, in persist's log, on the media job and in the archive's log.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../support/capture.js';
import { sampleBody } from '../support/fixtures.js';
import { post, startTestLocalStack, type TestLocalStack, waitFor, withToken } from '../support/local.js';

const lines = (output: string): Record<string, unknown>[] =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('correlation id', () => {
  let local: TestLocalStack;

  beforeAll(async () => {
    local = await startTestLocalStack({ logLevel: 'DEBUG' });
  }, 60_000);

  afterAll(async () => {
    await local?.dispose();
  });

  it("carries the webhook request's id from ingest's log into persist's and the archive's", async () => {
    const body = withToken(sampleBody('captured-inbound-voicemail-call.ended'));
    const { output } = await captureOutput(async () => {
      expect(await post(local.stack.webhookUrl, body)).toBe(200);
      // Until the batch that dead-lettered the job has counted as done: its log line is written by then.
      await waitFor(
        () =>
          local.stack.depth().queue === 0 &&
          local.stack.mediaDepth().deadLetterQueue === 1 &&
          local.stack.activity.archived >= 1
            ? true
            : undefined,
        30_000,
      );
    });
    const logged = lines(output);
    const accepted = logged.find((line) => line.message === 'webhook accepted');
    const id = accepted?.correlation_id;
    expect(typeof id).toBe('string');
    expect(logged.find((line) => line.message === 'event persisted')?.correlation_id).toBe(id);
    // The voicemail's link is Aircall's, which this machine cannot reach: the job ends in the media dead-letter
    // queue, and its log line names the same request.
    const archiveLine = logged.find(
      (line) => line.service === 'archive' && line.correlation_id !== undefined,
    );
    expect(archiveLine?.correlation_id).toBe(id);
  }, 60_000);
});
