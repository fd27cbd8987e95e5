// The local stack's development token: random, made once per DATA_DIR and kept there, readable by its owner only.
// It imports no emulator, so the CLI can read the token too.

import { randomBytes } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The file in DATA_DIR that holds the token. */
export const DEV_TOKEN_FILE = 'dev-token';

export const devTokenPath = (dataDir: string): string => join(dataDir, DEV_TOKEN_FILE);

const codeOf = (error: unknown): unknown =>
  error instanceof Error && 'code' in error ? error.code : undefined;

/** The token kept in `dataDir`, or undefined when none was made there yet. */
export const readDevToken = async (dataDir: string): Promise<string | undefined> => {
  let text: string;
  try {
    text = await readFile(devTokenPath(dataDir), 'utf8');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  }
  const token = text.trim();
  if (token === '') throw new Error(`${devTokenPath(dataDir)} is empty: remove it to get a new token`);
  return token;
};

/** 32 random bytes, URL-safe: nothing a guess or a copy of the README finds. */
export const newDevToken = (): string => `local-${randomBytes(32).toString('base64url')}`;

/** The token kept in `dataDir`, made and kept (0600) at the first call for that directory. */
export const devToken = async (dataDir: string): Promise<string> => {
  const kept = await readDevToken(dataDir);
  if (kept !== undefined) return kept;
  const token = newDevToken();
  // Written whole under another name, then linked into place: link fails if the name exists, so of two stacks
  // starting on one new directory the first wins, and neither ever reads a half-written file.
  const temporary = `${devTokenPath(dataDir)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, `${token}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, devTokenPath(dataDir));
  } catch (error) {
    if (codeOf(error) !== 'EEXIST') throw error;
    const written = await readDevToken(dataDir);
    if (written === undefined) throw error;
    return written;
  } finally {
    await rm(temporary, { force: true });
  }
  return token;
};
