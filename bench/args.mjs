/** Command-line flags of the bench scripts: `--name value` and bare `--flag`. */
const args = process.argv.slice(2);

export const flag = (name) => args.includes(name);

/** `--name N`, a positive integer (or `fallback`); exits with a message on anything else. */
export function positiveInt(name, fallback) {
  const raw = args.includes(name) ? args[args.indexOf(name) + 1] : fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`bench: ${name} expects a positive integer, got ${JSON.stringify(raw)}`);
    process.exit(1);
  }
  return n;
}
