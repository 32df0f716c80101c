import bunyan from 'bunyan';
import type { EcsField } from './ecs-fields.js';

/** The ECS version the records follow (`ecs.version`). */
export const ECS_VERSION = '8.11.0';

/**
 * The application's field names (see the `Logger` port) and the ECS field each is written as. A name not listed here
 * is written as it is (the index template keeps it in `_source` without indexing it).
 */
const ECS_NAMES: Readonly<Record<string, EcsField>> = {
  event: 'event.action',
  outcome: 'event.outcome',
  reason: 'event.reason',
  request_id: 'trace.id',
  client_ip: 'client.ip',
  user_agent: 'user_agent.original',
  method: 'http.request.method',
  path: 'url.path',
  status: 'http.response.status_code',
  user_id: 'user.id',
  username: 'user.name',
  roles: 'user.roles',
  target_user_id: 'user.target.id',
  target_username: 'user.target.name',
  target_roles: 'user.target.roles',
  changed_roles: 'user.changes.roles',
  session_id: 'session.id',
  action: 'labels.limit',
  retry_after: 'labels.retry_after',
  shed: 'labels.shed',
  is_active: 'labels.active',
  sessions: 'labels.sessions_revoked',
  component: 'labels.component',
  via: 'labels.via',
};

/** Event names whose ECS action is not the name with hyphens. */
const ACTIONS: Readonly<Record<string, string>> = { revocation: 'session-revoked' };

/** Values ECS maps as keywords, written as strings whatever the application passed (an id as a number). */
const KEYWORDS = new Set<string>([
  'user.id',
  'user.target.id',
  'session.id',
  'labels.retry_after',
  'labels.shed',
  'labels.active',
  'labels.sessions_revoked',
]);

/**
 * The application's fields under their ECS names: `duration_ms` becomes `event.duration` in nanoseconds, `err` becomes
 * `error.type` / `error.message` / `error.stack_trace`, `event` values get hyphens (`login_failure` ->
 * `login-failure`). Values that are neither strings, numbers, booleans nor null are left for the caller to copy.
 */
export function toEcsFields(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (key === 'duration_ms') {
      if (typeof value === 'number' && Number.isFinite(value)) record['event.duration'] = Math.round(value * 1e6);
      continue;
    }
    if (key === 'err' || key === 'error') {
      Object.assign(record, errorFields(value));
      continue;
    }
    if (key === 'event' && typeof value === 'string') {
      record['event.action'] = ACTIONS[value] ?? value.replaceAll('_', '-');
      continue;
    }
    const name = ECS_NAMES[key] ?? key;
    if (value === undefined || (value === null && record[name] !== undefined)) continue;
    record[name] =
      KEYWORDS.has(name) && (typeof value === 'number' || typeof value === 'boolean') ? String(value) : value;
  }
  return record;
}

function errorFields(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  switch (typeof value) {
    case 'string':
      return { 'error.message': value };
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'symbol':
      return { 'error.message': value.toString() };
    case 'function':
      return { 'error.message': '[Function]' };
  }
  const error = value as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown };
  const fields: Record<string, unknown> = {};
  if (typeof error.name === 'string') fields['error.type'] = error.name;
  if (typeof error.code === 'string') fields['error.code'] = error.code;
  fields['error.message'] = typeof error.message === 'string' ? error.message : JSON.stringify(value);
  if (typeof error.stack === 'string') fields['error.stack_trace'] = error.stack;
  return fields;
}

/** A bunyan record as bunyan hands it to a raw stream. */
interface BunyanRecord {
  name: string;
  hostname: string;
  pid: number;
  level: number;
  msg: string;
  time: Date;
  v: number;
  [field: string]: unknown;
}

/** bunyan's own record fields, written under their ECS names instead. */
const BUNYAN_FIELDS = new Set(['name', 'hostname', 'pid', 'level', 'msg', 'time', 'v']);

/** `"service.name":...,"host.hostname":...,"process.pid":...` for the last logger seen (there is one per process). */
let sourceJson = { name: '', hostname: '', pid: -1, json: '' };

/**
 * One ECS JSON line (with its newline) for a bunyan record: bunyan's own fields under their ECS names. This runs for
 * every line, so the fields that are the same on every line are written once per process and spliced in.
 */
export function ecsLine(record: object): string {
  const { name, hostname, pid, level, msg, time } = record as BunyanRecord;
  if (sourceJson.name !== name || sourceJson.hostname !== hostname || sourceJson.pid !== pid) {
    const json = JSON.stringify({ 'service.name': name, 'host.hostname': hostname, 'process.pid': pid }).slice(1, -1);
    sourceJson = { name, hostname, pid, json };
  }
  const fields: Record<string, unknown> = {};
  for (const key in record) {
    if (!BUNYAN_FIELDS.has(key) && key !== 'service.name') fields[key] = (record as BunyanRecord)[key];
  }
  const rest = JSON.stringify(fields);
  const levelName = JSON.stringify(bunyan.nameFromLevel[level] ?? String(level));
  const head = `{"@timestamp":"${time.toISOString()}","log.level":${levelName},"message":${JSON.stringify(msg)},`;
  return `${head}${sourceJson.json}${rest === '{}' ? '}' : `,${rest.slice(1)}`}\n`;
}

const PRETTY_SKIPPED = new Set(['name', 'hostname', 'pid', 'level', 'msg', 'time', 'v', 'ecs.version', 'service.name']);

/**
 * One line for a person at a terminal (`LOG_FORMAT=pretty`): time, level, message, then the fields as `name=value`.
 */
export function prettyLine(record: object): string {
  const { level, msg, time } = record as BunyanRecord;
  const parts = [
    time.toISOString().slice(11, 23),
    (bunyan.nameFromLevel[level] ?? String(level)).toUpperCase().padEnd(5),
    msg,
  ];
  for (const [key, value] of Object.entries(record)) {
    if (PRETTY_SKIPPED.has(key) || value === undefined || key === 'error.stack_trace') continue;
    parts.push(`${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`);
  }
  const stack = (record as Record<string, unknown>)['error.stack_trace'];
  return `${parts.join(' ')}${typeof stack === 'string' ? `\n${stack}` : ''}\n`;
}
