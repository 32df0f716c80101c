import { once } from 'node:events';
import net from 'node:net';
import { expect } from 'chai';
import { type TestApp, startTestApp } from '../support/test-app.js';

/** A raw connection from a chosen loopback address (Linux routes all of 127.0.0.0/8 to lo), read by hand. */
async function connect(app: TestApp, source = '127.0.0.1') {
  const url = new URL(app.baseUrl);
  const socket = net.connect({ host: '127.0.0.1', port: Number(url.port), localAddress: source });
  socket.on('error', () => undefined);
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  return {
    socket,
    received: () => received,
    /** Resolves with everything received once the server has closed the connection. */
    answer: async () => {
      await closed;
      return parse(received);
    },
  };
}

function parse(raw: string): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine, ...headerLines] = raw.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => [
      line.slice(0, line.indexOf(':')).toLowerCase(),
      line.slice(line.indexOf(':') + 1).trim(),
    ]),
  );
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1]),
    headers,
    body: JSON.parse(raw.slice(end + 4) || '{}') as Record<string, unknown>,
  };
}

/** The service's JSON error shape with its security headers, on an answer written outside Koa. */
function expectJsonError(answer: ReturnType<typeof parse>, status: number, error: string): void {
  expect(answer.status, JSON.stringify(answer)).to.equal(status);
  expect(answer.headers['content-type']).to.match(/^application\/json/);
  expect(answer.headers['x-content-type-options']).to.equal('nosniff');
  expect(answer.headers['content-security-policy']).to.include("default-src 'none'");
  expect(answer.headers['x-request-id']).to.be.a('string');
  expect(Object.keys(answer.body).sort()).to.deep.equal(['error', 'message', 'request_id', 'status_code']);
  expect(answer.body).to.include({ status_code: status, error });
  expect(answer.body.request_id).to.equal(answer.headers['x-request-id']);
}

const health = async (app: TestApp, source: string) => {
  const client = await connect(app, source);
  client.socket.write('GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  return (await client.answer()).status;
};

describe('HTTP: connections are capped per client and in total, and slow or broken requests get JSON', function () {
  this.timeout(60_000);
  let app: TestApp;
  const open: net.Socket[] = [];

  before(async () => {
    app = await startTestApp({
      env: { MAX_CONNECTIONS_PER_CLIENT: '5', MAX_CONNECTIONS: '12', HEADERS_TIMEOUT: '1s' },
    });
  });

  afterEach(() => {
    for (const socket of open.splice(0)) socket.destroy();
  });

  after(async () => {
    await app?.close();
  });

  const halfSent = async (source: string) => {
    const client = await connect(app, source);
    client.socket.write('GET /api/health HTTP/1.1\r\nHost: x\r\n');
    open.push(client.socket);
    return client;
  };

  it('answers a client over MAX_CONNECTIONS_PER_CLIENT 429 in JSON and closes; another client is served', async () => {
    for (let i = 0; i < 5; i += 1) await halfSent('127.0.0.2');
    const refused = await connect(app, '127.0.0.2');
    const answer = await refused.answer();
    expectJsonError(answer, 429, 'TooManyRequests');
    expect(answer.headers['retry-after']).to.equal('1');
    expect(await health(app, '127.0.0.3'), 'a second client').to.equal(200);
  });

  it('answers a connection over MAX_CONNECTIONS 503 in JSON, whatever its address', async () => {
    for (let i = 0; i < 12; i += 1) await halfSent(`127.0.1.${i + 1}`);
    expectJsonError(await (await connect(app, '127.0.2.1')).answer(), 503, 'ServiceUnavailable');
  });

  it('answers a request whose headers do not all arrive within HEADERS_TIMEOUT 408 in JSON, and closes', async () => {
    const slow = await halfSent('127.0.0.4');
    expectJsonError(await slow.answer(), 408, 'RequestTimeout');
  });

  it('answers a malformed request 400, oversized headers 431 and an unknown Expect 417, all in JSON', async () => {
    const garbage = await connect(app, '127.0.0.5');
    garbage.socket.write('NOT AN HTTP REQUEST\r\n\r\n');
    expectJsonError(await garbage.answer(), 400, 'BadRequest');

    const huge = await connect(app, '127.0.0.5');
    huge.socket.write(`GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expectJsonError(await huge.answer(), 431, 'RequestHeaderFieldsTooLarge');

    const expecting = await connect(app, '127.0.0.5');
    expecting.socket.write('POST /api/login HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\n');
    expectJsonError(await expecting.answer(), 417, 'ExpectationFailed');
  });
});
