import type net from 'node:net';
import os from 'node:os';
import bunyan from 'bunyan';
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { createBunyanLogger } from '../../src/infrastructure/logging/bunyan-logger.js';
import { createLogstashStream, type LogstashStream } from '../../src/infrastructure/logging/logstash-stream.js';
import { FakeLogstash, unusedPort, waitFor } from '../support/fake-logstash.js';

/** bunyan-logstash-tcp gives up for good after this many failed connects unless told otherwise. */
const LIBRARY_MAX_CONNECT_RETRIES = 4;

describe('createLogstashStream (real TCP)', function () {
  this.timeout(10_000);

  const cleanups: (() => Promise<void>)[] = [];
  const uncaught: unknown[] = [];
  const recordUncaught = (error: unknown): void => {
    uncaught.push(error);
  };

  function track<T extends FakeLogstash | LogstashStream>(resource: T): T {
    cleanups.push(() => ('kill' in resource ? resource.kill() : resource.close()));
    return resource;
  }

  function loggerFor(logstash: LogstashStream): bunyan {
    return bunyan.createLogger({ name: 'logstash-test', level: 'trace', streams: [logstash.stream] });
  }

  beforeEach(() => {
    uncaught.length = 0;
    process.on('uncaughtException', recordUncaught);
  });

  afterEach(async () => {
    process.off('uncaughtException', recordUncaught);
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
  });

  it('ships each record as one JSON object per line, with the bunyan fields', async () => {
    const server = track(new FakeLogstash());
    const port = await server.listen();
    const logstash = track(createLogstashStream({ host: '127.0.0.1', port }));
    const log = loggerFor(logstash);
    const cycle: Record<string, unknown> = { id: 7 };
    cycle.self = cycle;

    log.info({ userId: 42, nested: { roles: ['admin'] } }, 'hello\nworld');
    log.child({ requestId: 'r-1' }).warn({ cycle }, 'second');

    await waitFor(() => server.lines.length === 2, 'two lines');
    const [first, second] = server.lines;
    expect(first).to.include({ message: 'hello\nworld', level: 'info', name: 'logstash-test', userId: 42 });
    expect(first).to.include({ hostname: os.hostname(), pid: process.pid });
    expect(first?.nested).to.deep.equal({ roles: ['admin'] });
    expect(first?.['@timestamp']).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(first?.tags).to.deep.equal(['bunyan']);
    expect(second).to.include({ message: 'second', level: 'warn', requestId: 'r-1' });
    expect(second?.cycle).to.deep.equal({ id: 7, self: '[Circular]' });
    expect(logstash.stats()).to.include({ shipped: 2, dropped: 0, connected: true });
  });

  it('leaves the record unchanged and counts an unserializable one as dropped', async () => {
    const server = track(new FakeLogstash());
    const port = await server.listen();
    const logstash = track(createLogstashStream({ host: '127.0.0.1', port }));
    await waitFor(() => logstash.stats().connected, 'the connection');
    const record = {
      name: 'n',
      hostname: 'h',
      pid: 1,
      level: 30,
      msg: 'frozen',
      time: new Date(0),
      v: 0,
      extra: { a: 1 },
    };
    const snapshot = structuredClone(record);
    Object.freeze(record.extra);

    logstash.stream.stream.write(Object.freeze(record));
    logstash.stream.stream.write({ ...record, msg: 'bigint', extra: 1n });

    await waitFor(() => server.lines.length === 1, 'the frozen record');
    expect(record).to.deep.equal(snapshot);
    expect(server.lines[0]).to.include({ message: 'frozen', '@timestamp': '1970-01-01T00:00:00.000Z' });
    expect(logstash.stats()).to.include({ shipped: 1, dropped: 1 });
  });

  it('keeps logging while Logstash is absent at start, then ships the queued and new lines once it listens', async () => {
    const port = await unusedPort();
    const logstash = track(
      createLogstashStream({ host: '127.0.0.1', port, retryIntervalMs: 20, maxRetryIntervalMs: 100 }),
    );
    const log = loggerFor(logstash);

    log.info('queued 1');
    log.error({ code: 'E1' }, 'queued 2');
    expect(logstash.stats()).to.include({ connected: false, shipped: 0, dropped: 0 });
    expect(logstash.stats().queuedBytes).to.be.greaterThan(0);
    await waitFor(
      () => logstash.stats().connectionErrors > LIBRARY_MAX_CONNECT_RETRIES + 1,
      'more refused connects than the library allows',
    );

    const server = track(new FakeLogstash());
    await server.listen(port);
    await waitFor(() => logstash.stats().connected, 'the reconnect');
    log.info('after start');

    await waitFor(() => server.lines.length === 3, 'three lines');
    expect(server.messages()).to.deep.equal(['queued 1', 'queued 2', 'after start']);
    expect(logstash.stats()).to.include({ shipped: 3, dropped: 0, queuedBytes: 0 });
    expect(uncaught).to.deep.equal([]);
  });

  it('resumes shipping after Logstash drops its connections and comes back', async () => {
    const first = track(new FakeLogstash());
    const port = await first.listen();
    const logstash = track(
      createLogstashStream({ host: '127.0.0.1', port, retryIntervalMs: 20, maxRetryIntervalMs: 100 }),
    );
    const log = loggerFor(logstash);
    log.info('before');
    await waitFor(() => first.lines.length === 1, 'the first line');

    await first.kill();
    await waitFor(() => !logstash.stats().connected, 'the disconnect');
    const errorsAtDisconnect = logstash.stats().connectionErrors;
    log.info('during');
    await waitFor(
      () => logstash.stats().connectionErrors > errorsAtDisconnect + LIBRARY_MAX_CONNECT_RETRIES + 1,
      'more refused reconnects than the library allows',
    );

    const second = track(new FakeLogstash());
    await second.listen(port);
    await waitFor(() => logstash.stats().connected, 'the reconnect');
    log.info('after');

    await waitFor(() => second.lines.length === 2, 'two lines on the new listener');
    expect(first.messages()).to.deep.equal(['before']);
    expect(second.messages()).to.deep.equal(['during', 'after']);
    expect(logstash.stats()).to.include({ shipped: 3, dropped: 0 });
    expect(uncaught).to.deep.equal([]);
  });

  it('bounds the bytes held for a Logstash that accepts but never reads, and counts the dropped lines', async () => {
    const cap = 64 * 1024;
    const paused: net.Socket[] = [];
    const server = track(
      new FakeLogstash((socket) => {
        socket.pause();
        paused.push(socket);
      }),
    );
    const port = await server.listen();
    const logstash = track(
      createLogstashStream({ host: '127.0.0.1', port, maxBufferedBytes: cap, maxQueuedBytes: cap }),
    );
    const log = loggerFor(logstash);
    await waitFor(() => logstash.stats().connected && paused.length === 1, 'the connection');

    const total = 2000;
    const padding = 'x'.repeat(8 * 1024);
    let maxBuffered = 0;
    let maxQueued = 0;
    for (let i = 0; i < total; i += 1) {
      log.info({ i, padding }, 'big line');
      const { bufferedBytes, queuedBytes } = logstash.stats();
      maxBuffered = Math.max(maxBuffered, bufferedBytes);
      maxQueued = Math.max(maxQueued, queuedBytes);
    }

    expect(maxBuffered).to.be.at.most(cap);
    expect(maxQueued).to.be.at.most(cap);
    expect(logstash.stats().dropped).to.be.greaterThan(total / 2);

    for (const socket of paused) socket.resume();
    await waitFor(() => {
      const { queuedBytes, bufferedBytes, shipped } = logstash.stats();
      return queuedBytes === 0 && bufferedBytes === 0 && server.lines.length === shipped;
    }, 'the backlog to drain');
    const { shipped, dropped } = logstash.stats();
    expect(shipped + dropped).to.equal(total);
    const received = server.lines.map((line) => line.i as number);
    expect(received).to.deep.equal([...received].sort((a, b) => a - b));
  });

  it('close() stops reconnecting and counts the lines it could not deliver', async () => {
    const port = await unusedPort();
    const logstash = createLogstashStream({ host: '127.0.0.1', port, retryIntervalMs: 10, maxRetryIntervalMs: 10 });
    const log = loggerFor(logstash);
    log.info('never delivered');

    await logstash.close();
    const errorsAtClose = logstash.stats().connectionErrors;
    log.info('after close');
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(logstash.stats()).to.include({ dropped: 2, shipped: 0, queuedBytes: 0, connected: false });
    expect(logstash.stats().connectionErrors).to.equal(errorsAtClose);
  });

  it('createBunyanLogger writes each line to stdout and to Logstash', async () => {
    const server = track(new FakeLogstash());
    const port = await server.listen();
    const stdout = new PassThrough();
    const { logger, logstashStats, close } = createBunyanLogger({
      name: 'jwt-login',
      level: 'info',
      stdout,
      logstash: { host: '127.0.0.1', port },
    });
    cleanups.push(close);

    logger.child({ requestId: 'r-9' }).warn('rate limited', { userId: 'u-2' });
    logger.debug('below the level');

    await waitFor(() => server.lines.length === 1, 'the Logstash line');
    expect(server.lines[0]).to.include({ message: 'rate limited', level: 'warn', requestId: 'r-9', userId: 'u-2' });
    expect(server.lines[0]).to.include({ 'service.name': 'jwt-login', 'ecs.version': '8.11.0' });
    expect(server.lines[0]).to.include({ source: `${os.hostname()}/jwt-login` });
    const stdoutLines = String(stdout.read()).trim().split('\n');
    expect(stdoutLines).to.have.length(1);
    expect(JSON.parse(stdoutLines[0] ?? '')).to.include({
      message: 'rate limited',
      'log.level': 'warn',
      requestId: 'r-9',
    });
    expect(logstashStats()).to.include({ shipped: 1, dropped: 0 });
  });

  it('rejects a port the library would silently replace', () => {
    expect(() => createLogstashStream({ host: '127.0.0.1', port: 0 })).to.throw(RangeError);
  });
});
