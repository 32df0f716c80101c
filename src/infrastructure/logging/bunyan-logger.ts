import bunyan from 'bunyan';
import sonicBoom from 'sonic-boom';
import type { LogFields, Logger } from '../../application/ports/logger.js';
import { createLogstashStream, type LogstashStats, type LogstashStreamOptions } from './logstash-stream.js';

export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface BunyanLoggerOptions {
  name: string;
  level: LogLevelName;
  /** Also ship every line to this Logstash TCP input; `appName` is the logger's name. */
  logstash?: Omit<LogstashStreamOptions, 'appName'>;
  /** Where the JSON lines go. Default `process.stdout`. */
  stdout?: NodeJS.WritableStream;
}

export interface BunyanLoggerHandle {
  readonly logger: BunyanLogger;
  /** Closes the Logstash connection (see `LogstashStream.close`); stdout is left open. */
  close: () => Promise<void>;
  /** Undefined when no Logstash was configured. */
  logstashStats: () => LogstashStats | undefined;
  /** Lines lost because stdout did not keep up (0 when writing to a given `stdout`). */
  stdoutDropped: () => number;
}

type PortLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Field names bunyan or the Logstash format give a meaning to: bunyan's record fields and child options, and the
 * fields bunyan-logstash-tcp adds. A field with one of these names is written as `field_<name>` instead of overriding
 * the record (a `level` field would make bunyan skip the line, a `message` field would replace the message in Logstash).
 */
const RESERVED_NAMES = new Set([
  'name',
  'hostname',
  'pid',
  'level',
  'msg',
  'time',
  'v',
  'src',
  'streams',
  'serializers',
  'message',
  '@timestamp',
  'tags',
  'source',
]);

/** Deeper values are written as `[Object]`; this also bounds the work spent on one call. */
const MAX_DEPTH = 8;

/**
 * The {@link Logger} port over a bunyan logger. Fields are copied into plain JSON values before bunyan sees them
 * (BigInt as a string, Errors through bunyan's `err` serializer, cycles as `[Circular]`, a throwing getter or `toJSON`
 * as `[Unreadable: ...]`), because bunyan itself throws into the caller on a BigInt or a throwing getter.
 */
export class BunyanLogger implements Logger {
  constructor(private readonly log: bunyan) {}

  debug(message: string, fields?: LogFields): void {
    this.write('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.write('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.write('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.write('error', message, fields);
  }

  child(bindings: LogFields): BunyanLogger {
    try {
      return new BunyanLogger(this.log.child(toRecordFields(bindings), true));
    } catch (error) {
      this.write('warn', 'log bindings dropped', { logError: describe(error) });
      return this;
    }
  }

  private write(level: PortLevel, message: string, fields: LogFields | undefined): void {
    try {
      if (!this.log[level]()) return;
      // A lone message argument is not a format string to util.format (its % signs stay as they are).
      this.log[level](fields === undefined ? {} : toRecordFields(fields), message);
    } catch (error) {
      try {
        this.log[level]({ logError: describe(error) }, '%s', typeof message === 'string' ? message : '[unreadable]');
      } catch {
        // The sink itself failed: there is nowhere left to report it.
      }
    }
  }
}

/**
 * Builds a logger writing bunyan JSON lines to stdout and, with `logstash`, to Logstash as well.
 *
 * @throws when `level` is not a bunyan level name, or on invalid Logstash options (see `createLogstashStream`).
 */
export function createBunyanLogger(options: BunyanLoggerOptions): BunyanLoggerHandle {
  const logstash =
    options.logstash === undefined ? undefined : createLogstashStream({ ...options.logstash, appName: options.name });
  const stdout = options.stdout === undefined ? bufferedStdout() : undefined;
  const streams: bunyan.Stream[] = [{ type: 'stream', stream: options.stdout ?? stdout!.stream }];
  if (logstash !== undefined) streams.push({ ...logstash.stream });
  const log = bunyan.createLogger({ name: options.name, level: options.level, streams });
  return {
    logger: new BunyanLogger(log),
    close: async () => {
      stdout?.flush();
      await logstash?.close();
    },
    logstashStats: () => logstash?.stats(),
    stdoutDropped: () => stdout?.dropped() ?? 0,
  };
}

/** Lines are written in batches of this many bytes (or every {@link FLUSH_INTERVAL_MS}), not one write each. */
const BATCH_BYTES = 64 * 1024;
const FLUSH_INTERVAL_MS = 200;
/** What may wait for a stdout that does not read (a stuck pipe); lines past it are dropped and counted. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * stdout through sonic-boom (pino's writer): lines are batched into one write per {@link BATCH_BYTES} or per
 * {@link FLUSH_INTERVAL_MS}, written asynchronously, so a request no longer pays a synchronous write (on Linux a write
 * to a pipe blocks) and a reader that stops reading cannot stall the API: past {@link MAX_BUFFERED_BYTES}, lines are
 * dropped and counted. What is buffered is written synchronously when the process exits; a SIGKILL loses it.
 */
function bufferedStdout(): { stream: NodeJS.WritableStream; flush: () => void; dropped: () => number } {
  const boom = new sonicBoom.SonicBoom({
    fd: process.stdout.fd,
    minLength: BATCH_BYTES,
    maxWrite: 4 * BATCH_BYTES,
    maxLength: MAX_BUFFERED_BYTES,
    periodicFlush: FLUSH_INTERVAL_MS,
    sync: false,
    // In its default string mode sonic-boom measures the whole pending batch on every write (quadratic in the batch);
    // in buffer mode it keeps each line's length.
    contentMode: 'buffer',
  });
  let dropped = 0;
  boom.on('drop', () => (dropped += 1));
  boom.on('error', () => (dropped += 1));
  const flush = () => {
    try {
      boom.flushSync();
    } catch {
      // stdout is gone (a closed pipe): there is nowhere to write what is left.
    }
  };
  process.once('exit', flush);
  const stream = { write: (line: string) => boom.write(Buffer.from(line, 'utf8') as unknown as string) };
  // bunyan needs only write(); the rest of NodeJS.WritableStream is never called.
  return { stream: stream as unknown as NodeJS.WritableStream, flush, dropped: () => dropped };
}

function toRecordFields(fields: LogFields): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  const ancestors = [fields];
  for (const key of Object.keys(fields)) {
    const value = read(fields, key);
    // Strings, numbers and booleans (nearly every field) are written as they are.
    const plain = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
    record[RESERVED_NAMES.has(key) ? `field_${key}` : key] = plain ? value : toJsonValue(value, ancestors);
  }
  return record;
}

/** A value `JSON.stringify` can write without throwing and without reading anything user-defined. */
function toJsonValue(value: unknown, ancestors: readonly object[]): unknown {
  switch (typeof value) {
    case 'bigint':
    case 'symbol':
      return value.toString();
    case 'function':
      return `[Function ${value.name || 'anonymous'}]`;
    case 'object':
      break;
    default:
      return value;
  }
  if (value === null) return null;
  if (ancestors.includes(value)) return '[Circular]';
  if (ancestors.length >= MAX_DEPTH) return '[Object]';
  const path = [...ancestors, value];
  try {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
    if (value instanceof Error) return toJsonValue(bunyan.stdSerializers.err(value), path);
    if (Array.isArray(value))
      return Array.from({ length: value.length }, (_, index) => toJsonValue(read(value, index), path));
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return toJsonValue(toJSON.call(value), path);
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) copy[key] = toJsonValue(read(value, key), path);
    return copy;
  } catch (error) {
    return `[Unreadable: ${describe(error)}]`;
  }
}

function read(target: object, key: string | number): unknown {
  try {
    return (target as Record<string | number, unknown>)[key];
  } catch (error) {
    return `[Unreadable: ${describe(error)}]`;
  }
}

function describe(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return 'unknown error';
  }
}
