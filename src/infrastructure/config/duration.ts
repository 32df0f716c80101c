const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };
const DURATION = /^(\d{1,9})([smhd]?)$/;

/**
 * Parses `900`, `90s`, `15m`, `24h`, `30d` into seconds.
 * @returns the number of seconds, or null when the text is not such a duration or is zero.
 */
export function parseDurationSeconds(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] || 's']!;
  return seconds > 0 ? seconds : null;
}
