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
    this.push('debug', message, fields);
  }
  info(message: string, fields: LogFields = {}): void {
    this.push('info', message, fields);
  }
  warn(message: string, fields: LogFields = {}): void {
    this.push('warn', message, fields);
  }
  error(message: string, fields: LogFields = {}): void {
    this.push('error', message, fields);
  }
  child(bindings: LogFields): Logger {
    return new MemoryLogger(this.lines, { ...this.bindings, ...bindings });
  }

  events(name: string): LogLine[] {
    return this.lines.filter((line) => line.fields.event === name);
  }

  private push(level: LogLine['level'], message: string, fields: LogFields): void {
    this.lines.push({ level, message, fields: { ...this.bindings, ...fields } });
  }
}
