/**
 * Model names: one rule for every place a name enters (Kafka and HTTP events, HTTP paths, the
 * configuration, the CLI). Names become Prometheus label values, SQL string literals and path
 * segments (the retune model store, trial work directories), so they are held to an alphabet that
 * is safe in all three: letters, digits, "_", "." and "-", starting with a letter, digit or "_".
 * The first character rules out the path specials "." and "..", hidden names (".x") and names
 * a program would read as an option ("-x").
 */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The rule in words, for error messages. */
export const MODEL_NAME_RULE =
  'model names use letters, digits, "_", "." and "-" (1-128 characters) and start with a letter, digit or "_"';

export function isModelName(name: string): boolean {
  return MODEL_NAME_PATTERN.test(name);
}

/** Whether the byte can be in a model name, and (`first`) whether it can start one. */
export function isModelNameByte(byte: number, first: boolean): boolean {
  return (
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    byte === 0x5f || // _
    (!first && (byte === 0x2e || byte === 0x2d)) // . -
  );
}
