// Reads a handler's environment once, at init, and fails with one message naming every missing variable.

export type EnvSpec<K extends string> = Readonly<
  Record<K, { readonly name: string; readonly default?: string }>
>;

export const readEnv = <K extends string>(
  spec: EnvSpec<K>,
  source: Readonly<Record<string, string | undefined>> = process.env,
): Record<K, string> => {
  const values = {} as Record<K, string>;
  const missing: string[] = [];
  for (const key of Object.keys(spec) as K[]) {
    const { name, default: fallback } = spec[key];
    const value = source[name] ?? fallback;
    if (value === undefined || value === '') missing.push(name);
    else values[key] = value;
  }
  if (missing.length > 0) throw new Error(`Missing environment variables: ${missing.join(', ')}`);
  return values;
};

/** A non-negative integer setting, or a clear error naming the variable. */
export const toWholeNumber = (name: string, value: string): number => {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0)
    throw new Error(`${name} must be a whole number, got "${value}"`);
  return parsed;
};
