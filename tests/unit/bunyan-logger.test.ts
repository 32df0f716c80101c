import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { createBunyanLogger, type LogLevelName } from '../../src/infrastructure/logging/bunyan-logger.js';
import { ecsLine } from '../../src/infrastructure/logging/ecs-record.js';

function loggerOnPassThrough(level: LogLevelName = 'debug') {
  const stdout = new PassThrough();
  const { logger, logstashStats } = createBunyanLogger({ name: 'jwt-login-test', level, stdout });
  /** Every line written so far, parsed; fails the test if one is not a JSON object. */
  const lines = (): Record<string, unknown>[] => {
    const text = (stdout.read() as Buffer | null)?.toString('utf8') ?? '';
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  return { logger, lines, logstashStats };
}

describe('BunyanLogger', () => {
  it('writes one bunyan JSON line with the message, the level and the fields', () => {
    const { logger, lines } = loggerOnPassThrough();

    logger.info('user logged in', { userId: 'u-1', durationMs: 12, route: { method: 'POST', path: '/api/login' } });

    const [line, ...rest] = lines();
    expect(rest).to.deep.equal([]);
    expect(line).to.include({
      'service.name': 'jwt-login-test',
      message: 'user logged in',
      'log.level': 'info',
      userId: 'u-1',
      durationMs: 12,
    });
    expect(line).to.include({ 'process.pid': process.pid, 'ecs.version': '8.11.0' });
    expect(line).to.not.have.any.keys('msg', 'level', 'time', 'v', 'name', 'pid', 'hostname');
    expect(line?.route).to.deep.equal({ method: 'POST', path: '/api/login' });
    expect(new Date(String(line?.['@timestamp'])).toISOString()).to.equal(line?.['@timestamp']);
  });

  it('maps each port method to its bunyan level and honours the configured level', () => {
    const { logger, lines } = loggerOnPassThrough('info');

    logger.debug('hidden');
    logger.info('i');
    logger.warn('w');
    logger.error('e');

    expect(lines().map((line) => [line.message, line['log.level']])).to.deep.equal([
      ['i', 'info'],
      ['w', 'warn'],
      ['e', 'error'],
    ]);
  });

  it('adds child bindings to every line of the child and its children, not to the parent', () => {
    const { logger, lines } = loggerOnPassThrough();
    const request = logger.child({ requestId: 'r-1' });

    request.info('handling');
    request.child({ userId: 'u-1' }).warn('denied', { reason: 'expired' });
    logger.info('parent');

    const [handling, denied, parent] = lines();
    expect(handling).to.include({ message: 'handling', requestId: 'r-1' });
    expect(denied).to.include({ message: 'denied', 'log.level': 'warn', requestId: 'r-1', userId: 'u-1' });
    expect(denied).to.include({ 'event.reason': 'expired' });
    expect(parent).to.include({ message: 'parent' }).and.not.have.property('requestId');
  });

  it('writes the message verbatim, format specifiers included', () => {
    const { logger, lines } = loggerOnPassThrough();

    logger.info('100%% done %s %d', { n: 1 });

    expect(lines()[0]).to.include({ message: '100%% done %s %d' });
  });

  it('never throws and still writes a JSON line for fields bunyan cannot serialize', () => {
    const { logger, lines } = loggerOnPassThrough();
    const cycle: Record<string, unknown> = { id: 1 };
    cycle.self = cycle;
    const hostile = {
      get secretGetter(): never {
        throw new Error('getter exploded');
      },
    };
    const badJson = {
      toJSON(): never {
        throw new Error('toJSON exploded');
      },
    };
    const failure = Object.assign(new Error('db down'), { code: 'ECONNREFUSED' });

    expect(() => logger.error('hostile', { big: 10n, cycle, hostile, badJson, err: failure })).not.to.throw();
    expect(() => logger.child({ big: 1n, cycle }).info('child of hostile bindings')).not.to.throw();

    const [line, child] = lines();
    expect(line).to.include({ message: 'hostile', 'log.level': 'error', big: '10' });
    expect(line).to.include({ badJson: '[Unreadable: toJSON exploded]' });
    expect(line?.cycle).to.deep.equal({ id: 1, self: '[Circular]' });
    expect(line?.hostile).to.deep.equal({ secretGetter: '[Unreadable: getter exploded]' });
    expect(line).to.include({ 'error.message': 'db down', 'error.type': 'Error', 'error.code': 'ECONNREFUSED' });
    expect(line?.['error.stack_trace']).to.contain('db down');
    expect(child).to.include({ message: 'child of hostile bindings', big: '1' });
    expect(child?.cycle).to.deep.equal({ id: 1, self: '[Circular]' });
  });

  it('renames fields that would override bunyan or Logstash record fields', () => {
    const { logger, lines } = loggerOnPassThrough();

    logger.child({ level: 'not-a-level', name: 'other' }).info('real message', { msg: 'm', message: 'n', time: 't' });

    const [line] = lines();
    expect(line).to.include({ message: 'real message', 'log.level': 'info', 'service.name': 'jwt-login-test' });
    expect(line).to.include({ field_level: 'not-a-level', field_name: 'other', field_msg: 'm', field_message: 'n' });
    expect(line).to.include({ field_time: 't' });
  });

  it('writes one readable line a record with LOG_FORMAT=pretty: time, level, message, fields', () => {
    const stdout = new PassThrough();
    const { logger } = createBunyanLogger({ name: 'jwt-login-test', level: 'info', stdout, format: 'pretty' });
    logger.warn('login failed', { event: 'login_failure', user_id: 7, username: 'alice smith' });
    const text = (stdout.read() as Buffer).toString('utf8');
    expect(text).to.match(
      /^\d\d:\d\d:\d\d\.\d{3} WARN {2}login failed event\.action=login-failure user\.id=7 user\.name="alice smith"\n$/,
    );
  });

  it('has no Logstash stats without Logstash', () => {
    expect(loggerOnPassThrough().logstashStats()).to.equal(undefined);
  });
});

describe('ecsLine', () => {
  const record = {
    name: 'svc',
    hostname: 'host',
    pid: 7,
    level: 30,
    msg: 'a "quoted"\nmessage',
    time: new Date(0),
    v: 0,
  };

  it("writes bunyan's own fields under their ECS names, first and once, and then the record's fields", () => {
    const line = ecsLine({ ...record, 'service.name': 'svc', 'ecs.version': '8.11.0', 'url.path': '/api/' });
    expect(line.endsWith('\n')).to.equal(true);
    expect(Object.entries(JSON.parse(line) as object)).to.deep.equal([
      ['@timestamp', '1970-01-01T00:00:00.000Z'],
      ['log.level', 'info'],
      ['message', 'a "quoted"\nmessage'],
      ['service.name', 'svc'],
      ['host.hostname', 'host'],
      ['process.pid', 7],
      ['ecs.version', '8.11.0'],
      ['url.path', '/api/'],
    ]);
  });

  it('writes a valid line when the record has no field of its own, or only undefined ones', () => {
    for (const extra of [{}, { 'user.id': undefined }]) {
      expect(JSON.parse(ecsLine({ ...record, ...extra }))).to.have.keys([
        '@timestamp',
        'log.level',
        'message',
        'service.name',
        'host.hostname',
        'process.pid',
      ]);
    }
  });

  it('follows a change of logger name or process id', () => {
    expect(JSON.parse(ecsLine(record))).to.include({ 'service.name': 'svc', 'process.pid': 7 });
    expect(JSON.parse(ecsLine({ ...record, name: 'other', pid: 8 }))).to.include({
      'service.name': 'other',
      'process.pid': 8,
    });
  });
});
