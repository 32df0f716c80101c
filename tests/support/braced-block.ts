/**
 * The body of the first `{ ... }` block that `header` opens (the header's match ends with its `{`), searched from
 * `from`, and the index just past its closing brace. Braces inside single or double quotes do not count. For reading
 * Logstash pipelines and similar configuration text in tests.
 */
export function bracedBlock(text: string, header: RegExp, from = 0): { body: string; end: number } | undefined {
  const start = header.exec(text.slice(from));
  if (start === null) return undefined;
  const bodyStart = from + start.index + start[0].length;
  let depth = 1;
  let quote: string | undefined;
  for (let i = bodyStart; i < text.length; i += 1) {
    const char = text[i];
    if (quote !== undefined) {
      if (char === '\\') i += 1;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '{') {
      depth += 1;
    } else if (char === '}') {
      depth -= 1;
      if (depth === 0) return { body: text.slice(bodyStart, i), end: i + 1 };
    }
  }
  return undefined;
}
