// JSON value types for the payloads the simulator builds and the bodies it parses.

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const copyValue = (value: JsonValue): JsonValue => {
  if (Array.isArray(value)) return value.map(copyValue);
  return value !== null && typeof value === 'object' ? copyJson(value) : value;
};

/** A deep copy of a JSON object: several times quicker than `structuredClone` on the small objects calls are built of. */
export const copyJson = (value: JsonObject): JsonObject => {
  const copy: JsonObject = {};
  for (const key of Object.keys(value)) {
    const item = value[key];
    if (item !== undefined) copy[key] = copyValue(item);
  }
  return copy;
};
