import bunyan from 'bunyan';
import { createStdoutStream } from './stdout-stream.js';
import { ECS_VERSION, ecsLine, prettyLine, toEcsFields } from './ecs-record.js';
import type { LogFields, Logger } from '../../application/ports/logger.js';
import { createLogstashStream, type LogstashStats, type LogstashStreamOptions } from './logstash-stream.js';

export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** `json`: one ECS JSON object a line (for machines); `pretty`: one readable line (for a terminal). */
export type LogFormat = 'json' | 'pretty';

export interface BunyanLoggerOptions {
  name: string;
  level: LogLevelName;
  /** Also ship every line to this Logstash TCP input; `appName` is the logger's name. */
  logstash?: Omit<LogstashStreamOptions, 'appName'>;
  /** Where the JSON lines go. Default `process.stdout`. */
  stdout?: NodeJS.WritableStream;
  /** What stdout gets; Logstash always gets JSON. Default `json`. */
  format?: LogFormat;
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
  'log.level',
  'service.name',
  'ecs.version',
  'host.hostname',
  'process.pid',
]);

/** Deeper values are written as `[Object]`; this also bounds the work spent on one call. */
const MAX_DEPTH = 8;

/**
 * The {@link Logger} port over a bunyan logger, writing Elastic Common Schema records: the application's field names
 * become ECS names (`toEcsFields`), bunyan's own become `@timestamp`, `log.level`, `message`, `service.name`... Fields
 * are copied into plain JSON values before bunyan sees them
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
      return new BunyanLogger(this.log.child(toRecordFields(toEcsFields(bindings)), true));
    } catch (error) {
      this.write('warn', 'log bindings dropped', { logError: describe(error) });
      return this;
    }
  }

  private write(level: PortLevel, message: string, fields: LogFields | undefined): void {
    try {
      if (!this.log[level]()) return;
      const ecs = fields === undefined ? {} : toEcsFields(fields);
      // A lone message argument is not a format string to util.format (its % signs stay as they are).
      this.log[level](plainFields(ecs) ? ecs : toRecordFields(ecs), message);
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
  const stdout = options.stdout === undefined ? createStdoutStream() : undefined;
  if (stdout) process.once('exit', () => stdout.flushSync());
  const sink: { write(line: string): unknown } = options.stdout ?? stdout!;
  const format = options.format === 'pretty' ? prettyLine : ecsLine;
  const streams: bunyan.Stream[] = [
    { type: 'raw', stream: { write: (record: object) => sink.write(format(record)) }, closeOnExit: false },
  ];
  if (logstash !== undefined) streams.push({ ...logstash.stream });
  // Fields of every record: the Logstash stream keeps them as they are (bunyan's own are renamed by the pipeline).
  const log = bunyan.createLogger({
    name: options.name,
    level: options.level,
    streams,
    'service.name': options.name,
    'ecs.version': ECS_VERSION,
  });
  return {
    logger: new BunyanLogger(log),
    close: async () => {
      stdout?.flushSync();
      await logstash?.close();
    },
    logstashStats: () => logstash?.stats(),
    stdoutDropped: () => stdout?.dropped() ?? 0,
  };
}

/**
 * True when `fields` can go to bunyan as it is (bunyan copies it): no reserved name, and only strings, finite numbers,
 * booleans and nulls, which JSON writes as they are. Nearly every line is such, and is spared the defensive copy.
 */
function plainFields(fields: LogFields): boolean {
  if (Object.getPrototypeOf(fields) !== Object.prototype) return false;
  for (const key in fields) {
    if (RESERVED_NAMES.has(key)) return false;
    const value = (fields as Record<string, unknown>)[key];
    if (value === null || typeof value === 'string' || typeof value === 'boolean') continue;
    if (typeof value === 'number' && Number.isFinite(value)) continue;
    return false;
  }
  return true;
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
