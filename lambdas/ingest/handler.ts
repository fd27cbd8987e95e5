// Placeholder replaced by the real ingest handler.
export const handler = async (): Promise<{ statusCode: number }> => ({ statusCode: 503 });
