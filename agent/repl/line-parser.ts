// Splits a REPL line into words the way a shell would for plain commands:
// whitespace separates, single quotes keep everything literally, double
// quotes keep spaces (a backslash escapes " and \ inside them), and a
// backslash outside quotes escapes the next character. No variables, no
// globs, no pipes: the words go to the command parser as they are.

export interface SplitLine {
  readonly words: readonly string[];
  /** Where the last word starts in the line (for completion), or the line's length after trailing space. */
  readonly lastWordStart: number;
  /** An opening quote without its closing one. */
  readonly unterminated: boolean;
}

/** Splits `line`; never throws (an unterminated quote ends the last word and sets `unterminated`). */
export function splitLine(line: string): SplitLine {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  let lastWordStart = line.length;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else current += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) current += line[++i]!;
      else current += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
      continue;
    }
    if (!inWord) {
      inWord = true;
      lastWordStart = i;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '\\' && i + 1 < line.length) current += line[++i]!;
    else current += c;
  }
  if (inWord) words.push(current);
  else lastWordStart = line.length;
  return { words, lastWordStart, unterminated: quote !== undefined };
}

/** A word quoted for the line when it needs it (completion of names with spaces or quotes). */
export function quoteWord(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_./:@%+=,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
