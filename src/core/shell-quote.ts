/** A word for a POSIX shell: as it is when nothing in it is special, else single-quoted (nothing expanded). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_\-.,:/=@%+]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
