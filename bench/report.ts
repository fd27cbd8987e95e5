// The figures a run measured, each beside its floor, the ratio between them and its target, met or missed.

export interface Figures {
  readonly ingest: {
    readonly bundle_bytes: number;
    readonly floor_bundle_bytes: number;
    readonly cold_ms: number;
    readonly floor_cold_ms: number;
    readonly handler_us_p50: number;
    readonly handler_us_p99: number;
    readonly floor_handler_us_p50: number;
  };
  readonly pipeline: {
    readonly sent: number;
    readonly accepted_per_s: number;
    readonly p50_ms: number;
    readonly p99_ms: number;
    readonly persisted: number;
    readonly lost: number;
    readonly queue_floor_per_s: number;
  };
  readonly persist: {
    readonly events_per_s: number;
    readonly db_floor_per_s: number;
    /** Computed from the stored items by DynamoDB's sizing rules, not reported by the emulator. */
    readonly wru_per_event: number;
  };
  readonly cost: {
    readonly usd_per_million_events: number;
    readonly usd_per_million_events_function_url: number;
  };
}

export interface Row {
  readonly measure: string;
  readonly value: string;
  readonly floor: string;
  readonly ratio: string;
  readonly target: string;
  readonly met: boolean;
}

const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const ratioOf = (value: number, floor: number): number => value / floor;

/** A figure against its floor: `kind` says whether it must stay at most or at least `factor` times the floor. */
const againstFloor = (
  measure: string,
  value: number,
  floor: number,
  unit: string,
  digits: number,
  kind: 'at most' | 'at least',
  factor: number,
): Row => {
  const ratio = ratioOf(value, floor);
  return {
    measure,
    value: `${fixed(value, digits)} ${unit}`,
    floor: `${fixed(floor, digits)} ${unit}`,
    ratio: `${fixed(ratio, 2)}×`,
    target: `${kind === 'at most' ? '≤' : '≥'} ${factor}× floor`,
    met: kind === 'at most' ? ratio <= factor : ratio >= factor,
  };
};

const absolute = (measure: string, value: string, target: string, met: boolean): Row => ({
  measure,
  value,
  floor: '',
  ratio: '',
  target,
  met,
});

export const rows = (f: Figures): Row[] => [
  againstFloor(
    'ingest bundle',
    f.ingest.bundle_bytes / 1024,
    f.ingest.floor_bundle_bytes / 1024,
    'KiB',
    1,
    'at most',
    1.3,
  ),
  againstFloor(
    'ingest cold start (load + 1st event)',
    f.ingest.cold_ms,
    f.ingest.floor_cold_ms,
    'ms',
    1,
    'at most',
    1.3,
  ),
  againstFloor(
    'ingest warm handler p50',
    f.ingest.handler_us_p50,
    f.ingest.floor_handler_us_p50,
    'µs',
    1,
    'at most',
    1.5,
  ),
  absolute('ingest warm handler p99', `${fixed(f.ingest.handler_us_p99, 1)} µs`, 'none', true),
  againstFloor(
    'pipeline accepted',
    f.pipeline.accepted_per_s,
    f.pipeline.queue_floor_per_s,
    '/s',
    0,
    'at least',
    0.6,
  ),
  absolute('pipeline answer p50', `${fixed(f.pipeline.p50_ms, 1)} ms`, 'none', true),
  absolute('pipeline answer p99', `${fixed(f.pipeline.p99_ms, 1)} ms`, '< 100 ms', f.pipeline.p99_ms < 100),
  absolute(
    `pipeline lost (of ${f.pipeline.sent} sent, ${f.pipeline.persisted} persisted)`,
    String(f.pipeline.lost),
    '0',
    f.pipeline.lost === 0,
  ),
  againstFloor('persist', f.persist.events_per_s, f.persist.db_floor_per_s, '/s', 0, 'at least', 0.4),
  absolute(
    'DynamoDB WRU per event (computed)',
    fixed(f.persist.wru_per_event, 2),
    '≤ 3',
    f.persist.wru_per_event <= 3,
  ),
  absolute(
    'cost per million events, HTTP API',
    `$${fixed(f.cost.usd_per_million_events, 2)}`,
    '≤ $3.50',
    f.cost.usd_per_million_events <= 3.5,
  ),
  absolute(
    'cost per million events, function URL',
    `$${fixed(f.cost.usd_per_million_events_function_url, 2)}`,
    '≤ $2.50',
    f.cost.usd_per_million_events_function_url <= 2.5,
  ),
];

/** The rows as a plain-text table, one line each. */
export const renderTable = (table: readonly Row[]): string => {
  const header: Row = {
    measure: 'measure',
    value: 'value',
    floor: 'floor',
    ratio: 'ratio',
    target: 'target',
    met: true,
  };
  const cells = (r: Row, mark: string) => [r.measure, r.value, r.floor, r.ratio, r.target, mark];
  const all = [
    cells(header, 'result'),
    ...table.map((r) => cells(r, r.target === 'none' ? '' : r.met ? 'met' : 'MISSED')),
  ];
  const widths = all[0]?.map((_, i) => Math.max(...all.map((line) => (line[i] ?? '').length))) ?? [];
  return all
    .map((line) =>
      line
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
};
