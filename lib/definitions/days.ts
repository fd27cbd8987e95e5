// The UTC day key (`2022-03-04`) the day-partitioned indexes use: persist writes it, the CLI queries by it.

export const DAY_SECONDS = 86_400;

/** The UTC calendar day of a time in epoch seconds, as `started_day`, `missed_day` and `received_day` hold it. */
export const utcDay = (epochSeconds: number): string =>
  new Date(epochSeconds * 1000).toISOString().slice(0, 10);
