// No committed file carries a real-looking AWS credential: every git-tracked file is scanned for access key ids,
// secret keys assigned to a name, presigned-URL credentials and signatures, and Aircall tokens shaped like real
// ones; a planted one of each is caught.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where a credential is; not the value itself, which a failing run would otherwise print to its log. */
interface Finding {
  readonly kind: string;
  readonly line: number;
}

/** Obviously made-up values pass: all zeros, or the word EXAMPLE anywhere in them. */
const madeUp = (value: string): boolean => /example/i.test(value) || /^0+$/.test(value);

const PATTERNS: ReadonlyArray<{ readonly kind: string; readonly pattern: RegExp; readonly value: number }> = [
  // Long-term (AKIA) and temporary (ASIA) access key ids: the prefix and exactly 16 upper-case letters or digits.
  { kind: 'AWS access key id', pattern: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/g, value: 0 },
  {
    kind: 'AWS secret access key assigned',
    pattern:
      /(?:aws_?secret_?access_?key|secret_?access_?key)["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
    value: 1,
  },
  { kind: 'X-Amz-Credential key id', pattern: /X-Amz-Credential=([A-Z0-9]{16,})(?:%2F|\/)/g, value: 1 },
  { kind: 'X-Amz-Signature', pattern: /X-Amz-Signature=([0-9a-fA-F]{64})(?![0-9a-fA-F])/g, value: 1 },
  { kind: 'X-Amz-Security-Token', pattern: /X-Amz-Security-Token=([A-Za-z0-9%/+=_-]{40,})/g, value: 1 },
  // An Aircall webhook token as a captured delivery carries it: 32 hex digits (and the same shape of API token).
  { kind: 'Aircall token', pattern: /"(?:token|api_token)"\s*:\s*"([0-9a-f]{32})"/g, value: 1 },
];

/** Every real-looking credential in a text, with its line. */
const findCredentials = (text: string): Finding[] => {
  const findings: Finding[] = [];
  for (const { kind, pattern, value } of PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      if (madeUp(match[value] ?? '')) continue;
      findings.push({ kind, line: text.slice(0, match.index).split('\n').length });
    }
  }
  return findings;
};

const trackedFiles = (): string[] =>
  execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((path) => path !== '');

/** The file's text, or undefined for one deleted from the working tree or holding binary data. */
const readText = (path: string): string | undefined => {
  let bytes: Buffer;
  try {
    bytes = readFileSync(`${REPO_ROOT}${path}`);
  } catch (error) {
    if (error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'EISDIR'))
      return undefined;
    throw error;
  }
  return bytes.includes(0) ? undefined : bytes.toString('utf8');
};

// Planted values are put together here, so that this file itself holds none of them whole.
const join = (...parts: string[]): string => parts.join('');
const PLANTED = {
  accessKeyId: join('AKIA', 'Q7RZ', '4MXW', 'B2NC', 'K9TP'),
  temporaryKeyId: join('ASIA', 'YC4V', 'PUFQ', 'G7MR', 'ZM2S'),
  secretKey: join('wJalrXUtnFEMI', '/K7MDENG/bPxRfiCY', '9q2Lw8vT0z'),
  signature: join('a108739ba319df8f', '7c586a5545588327', 'c435d460459205e7', 'd5e3dffadfa991af'),
  sessionToken: join('IQoJb3JpZ2luX2VjEPD', '%2F%2F%2F%2FwEaCXVzLXdlc3QtMiJGMEQCIFO3Ehx6Fm'),
  webhookToken: join('3fa1c07e', '9b2d4e58', 'a6c0f193', '7d2e8b41'),
};

describe('committed credentials', () => {
  it('finds no real-looking AWS credential in any git-tracked file', () => {
    const files = trackedFiles();
    const findings = files.flatMap((path) => {
      const text = readText(path);
      return text === undefined ? [] : findCredentials(text).map((finding) => ({ path, ...finding }));
    });

    expect(files.length).toBeGreaterThan(100);
    expect(findings).toEqual([]);
  });

  it('catches each kind of credential when one is planted', () => {
    const presigned =
      'https://bucket.s3.us-west-2.amazonaws.com/a.mp3?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
      `&X-Amz-Credential=${PLANTED.temporaryKeyId}%2F20220304%2Fus-west-2%2Fs3%2Faws4_request` +
      `&X-Amz-Security-Token=${PLANTED.sessionToken}&X-Amz-Signature=${PLANTED.signature}`;
    const text = [
      `const id = "${PLANTED.accessKeyId}";`,
      `aws_secret_access_key = ${PLANTED.secretKey}`,
      `{ "secretAccessKey": "${PLANTED.secretKey}" }`,
      presigned,
      `{ "resource": "call", "token": "${PLANTED.webhookToken}" }`,
    ].join('\n');

    expect(findCredentials(text).map((finding) => [finding.kind, finding.line])).toEqual([
      ['AWS access key id', 1],
      ['AWS access key id', 4],
      ['AWS secret access key assigned', 2],
      ['AWS secret access key assigned', 3],
      ['X-Amz-Credential key id', 4],
      ['X-Amz-Signature', 4],
      ['X-Amz-Security-Token', 4],
      ['Aircall token', 5],
    ]);
  });

  it('lets obviously made-up values through, as the fixtures carry them', () => {
    const fake =
      'https://bucket.s3.us-west-2.amazonaws.com/a.mp3?X-Amz-Credential=ASIAEXAMPLEKEYID%2F20220304%2Fus-west-2' +
      `&X-Amz-Security-Token=EXAMPLE-SESSION-TOKEN&X-Amz-Signature=${'0'.repeat(64)}`;
    const local = "{ accessKeyId: 'local', secretAccessKey: 'local' }";

    expect(findCredentials(`${fake}\n${local}`)).toEqual([]);
  });
});
