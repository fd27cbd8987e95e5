// The webhook URLs of one stack as one string: how the guardian's environment and the stack's output carry the list.

/** The stack output listing every webhook URL the guardian keeps, comma-separated: a contract the CLI reads. */
export const WEBHOOK_URLS_OUTPUT = 'WebhookUrls';

/** Commas between the URLs; a URL with a comma in it is refused, so the list splits back exactly. */
export const WEBHOOK_URL_SEPARATOR = ',';

export const splitWebhookUrls = (text: string): string[] =>
  text
    .split(WEBHOOK_URL_SEPARATOR)
    .map((url) => url.trim())
    .filter((url) => url !== '');

/** Why a text cannot be a webhook URL of this stack, or undefined when it can. */
export const webhookUrlProblem = (text: string): string | undefined => {
  if (text.includes(WEBHOOK_URL_SEPARATOR) || /\s/.test(text)) return 'has a comma or a space in it';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  // Aircall delivers only over HTTPS with a valid certificate.
  if (url.protocol !== 'https:') return 'is not https';
  if (url.username !== '' || url.password !== '') return 'carries credentials';
  if (url.hash !== '') return 'has a #fragment, which is never sent';
  return undefined;
};
