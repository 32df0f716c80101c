import type { LogFields, Logger } from '../../src/application/ports/logger.js';

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: LogFields;
}

/** Keeps every line in memory so tests can read what was logged. */
export class MemoryLogger implements Logger {
  constructor(
    readonly lines: LogLine[] = [],
    private readonly bindings: LogFields = {},
  ) {}

  debug(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'debug', message, fields: { ...this.bindings, ...fields } });
  }
  info(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'info', message, fields: { ...this.bindings, ...fields } });
  }
  warn(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'warn', message, fields: { ...this.bindings, ...fields } });
  }
  error(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'error', message, fields: { ...this.bindings, ...fields } });
  }
  child(bindings: LogFields): Logger {
    return new MemoryLogger(this.lines, { ...this.bindings, ...bindings });
  }

  events(name: string): LogLine[] {
    return this.lines.filter((line) => line.fields.event === name);
  }
}
