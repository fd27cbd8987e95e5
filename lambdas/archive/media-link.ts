// What a presigned S3 link says about itself: when its signature lapses.

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** X-Amz-Date (yyyymmddThhmmssZ) + X-Amz-Expires seconds, or undefined when either is absent or malformed. */
export function linkExpiry(url: URL | string): Date | undefined {
  if (typeof url === 'string' && !URL.canParse(url)) return undefined;
  const params = (typeof url === 'string' ? new URL(url) : url).searchParams;
  const date = AMZ_DATE.exec(params.get('X-Amz-Date') ?? '');
  const expires = params.get('X-Amz-Expires') ?? '';
  if (!date || !/^\d{1,7}$/.test(expires)) return undefined;
  const [, year, month, day, hour, minute, second] = date.map(Number);
  if ([year, month, day, hour, minute, second].some((part) => part === undefined)) return undefined;
  const signedAt = Date.UTC(
    year as number,
    (month as number) - 1,
    day as number,
    hour as number,
    minute as number,
    second as number,
  );
  // Date.UTC rolls 20240231 over to March; a date that does not round-trip is not a real one.
  const back = new Date(signedAt);
  if (
    back.getUTCMonth() !== (month as number) - 1 ||
    back.getUTCDate() !== day ||
    back.getUTCHours() !== hour
  )
    return undefined;
  if (back.getUTCMinutes() !== minute || back.getUTCSeconds() !== second) return undefined;
  return new Date(signedAt + Number(expires) * 1000);
}

/** True when the link's expiry is at or before `now`; a link without an expiry is not known to be expired. */
export function isExpired(url: URL | string, now: Date | number): boolean {
  const expiry = linkExpiry(url);
  return expiry !== undefined && expiry.getTime() <= (typeof now === 'number' ? now : now.getTime());
}
