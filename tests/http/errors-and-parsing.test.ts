import { expect } from 'chai';
import { type TestApp, startTestApp } from '../support/test-app.js';
import {
  type ErrorBody,
  expectError,
  expectNo5xx,
  expectTokens,
  rawRequest,
  registerUser,
  uniqueName,
} from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('HTTP: errors, body parsing and request ids', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  describe('malformed and non-object bodies → 400 ValidationError', () => {
    it('answers 400 ValidationError (not BadRequest) to malformed JSON sent as application/json', async () => {
      await expectError(
        await app.post('/api/login', '{"username": "alice", "password":'),
        400,
        'ValidationError',
        /JSON/,
      );
    });

    it('answers 400 ValidationError (JSON) to malformed JSON sent as text/plain', async () => {
      await expectError(
        await app.post('/api/login', '{"username": "alice", "password":', {
          'Content-Type': 'text/plain;charset=UTF-8',
        }),
        400,
        'ValidationError',
        /JSON/,
      );
    });

    it('answers 400 ValidationError (not BadRequest) to malformed application/json at registration', async () => {
      await expectError(await app.post('/api/registration', "{username: 'alice'}"), 400, 'ValidationError');
    });

    for (const [name, text] of [
      ['a JSON array', '[{"username":"alice","password":"Some-Passw0rd!"}]'],
      ['a JSON number', '42'],
      ['JSON null', 'null'],
      ['a JSON string', '"alice"'],
    ] as const) {
      it(`answers 400 ValidationError to ${name} body (application/json and text/plain)`, async () => {
        await expectError(await app.post('/api/login', text), 400, 'ValidationError', /JSON object/);
        await expectError(
          await app.post('/api/registration', text, { 'Content-Type': 'text/plain' }),
          400,
          'ValidationError',
          /JSON object/,
        );
      });
    }

    it('answers 400 ValidationError to an empty body at login', async () => {
      await expectError(await app.post('/api/login', ''), 400, 'ValidationError', /JSON object/);
    });

    it('answers 400 ValidationError to a login with no body at all', async () => {
      await expectError(await app.request('/api/login', { method: 'POST' }), 400, 'ValidationError', /JSON object/);
    });

    it('answers 400 ValidationError (not BadRequest) to a __proto__ key in application/json, polluting no prototype', async () => {
      const response = await app.post('/api/login', '{"username":"a","password":"b","__proto__":{"isAdmin":true}}');
      await expectError(response, 400, 'ValidationError');
      expect(({} as Record<string, unknown>).isAdmin).to.equal(undefined);
    });
  });

  describe('size and media type', () => {
    it('answers 413 PayloadTooLarge (JSON) to a 10 MB body, and keeps serving', async () => {
      const huge = Buffer.alloc(10 * 1024 * 1024, 'a');
      const response = await rawRequest(app, {
        method: 'POST',
        path: '/api/login',
        headers: { 'Content-Type': 'application/json', 'Content-Length': huge.length },
        body: huge,
      });
      expect(response.status, response.text).to.equal(413);
      expect(response.headers['content-type']).to.match(/^application\/json/);
      const body = JSON.parse(response.text) as ErrorBody;
      expect(body.status_code).to.equal(413);
      expect(body.error).to.equal('PayloadTooLarge');
      expect(body.request_id).to.equal(response.headers['x-request-id']);

      const user = await registerUser(app);
      await expectTokens(await app.post('/api/login', { username: user.username, password: user.password }), 200);
    });

    it('answers 413 PayloadTooLarge to a large text/plain body too', async () => {
      const response = await app.post('/api/refresh', 'x'.repeat(1024 * 1024), { 'Content-Type': 'text/plain' });
      await expectError(response, 413, 'PayloadTooLarge');
    });

    for (const type of ['application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      it(`answers 415 UnsupportedMediaType to ${type.split(';')[0]}`, async () => {
        const body = type === 'application/xml' ? '<login><username>a</username></login>' : 'username=a&password=b';
        await expectError(await app.post('/api/login', body, { 'Content-Type': type }), 415, 'UnsupportedMediaType');
      });
    }

    it('answers 415 at registration too, and stores no user', async () => {
      const username = uniqueName();
      await expectError(
        await app.post('/api/registration', `username=${username}&password=Some-Long-Passw0rd`, {
          'Content-Type': 'application/x-www-form-urlencoded',
        }),
        415,
        'UnsupportedMediaType',
      );
      const login = await app.post('/api/login', { username, password: 'Some-Long-Passw0rd' });
      expect(login.status).to.equal(401);
    });
  });

  describe('routing', () => {
    it('answers 404 NotFound (JSON) to an unknown route', async () => {
      await expectError(await app.request('/api/does-not-exist'), 404, 'NotFound');
      await expectError(await app.request('/nothing/here', { method: 'POST' }), 404, 'NotFound');
    });

    it('answers 405 MethodNotAllowed with an Allow header naming POST to DELETE /api/login', async () => {
      const response = await app.request('/api/login', { method: 'DELETE' });
      await expectError(response, 405, 'MethodNotAllowed');
      expect(response.headers.get('allow')).to.match(/\bPOST\b/);
    });

    it('answers 405 MethodNotAllowed to GET /api/registration and POST /api/protected', async () => {
      const get = await app.request('/api/registration');
      await expectError(get, 405, 'MethodNotAllowed');
      expect(get.headers.get('allow')).to.match(/\bPOST\b/);
      const post = await app.post('/api/protected', {});
      await expectError(post, 405, 'MethodNotAllowed');
      expect(post.headers.get('allow')).to.match(/\bGET\b/);
    });
  });

  describe('X-Request-Id', () => {
    it('carries X-Request-Id on success and error answers alike', async () => {
      const user = await registerUser(app);
      const answers = [
        await app.request('/api/'),
        await app.post('/api/login', { username: user.username, password: user.password }),
        await app.post('/api/login', { username: user.username, password: 'wrong-Passw0rd' }),
        await app.request('/api/nope'),
      ];
      for (const answer of answers) {
        await answer.arrayBuffer();
        expect(answer.headers.get('x-request-id'), String(answer.status)).to.match(UUID);
      }
    });

    it('echoes a sane incoming X-Request-Id and uses it as request_id in an error body', async () => {
      const id = `trace-${uniqueName()}.01:ab`;
      const response = await app.request('/api/protected', { headers: { 'X-Request-Id': id } });
      expect(response.headers.get('x-request-id')).to.equal(id);
      const body = await expectError(response, 401, 'MissingToken');
      expect(body.request_id).to.equal(id);
    });

    for (const [name, id] of [
      ['a 300-character id', 'a'.repeat(300)],
      ['an id with markup', '<script>alert(1)</script>'],
      ['an id with spaces', 'abc def'],
    ] as const) {
      it(`replaces ${name} with a generated one`, async () => {
        const response = await app.request('/api/protected', { headers: { 'X-Request-Id': id } });
        const body = await expectError(response, 401, 'MissingToken');
        expect(body.request_id).to.not.equal(id);
        expect(body.request_id).to.match(UUID);
        expect(response.headers.get('x-request-id')).to.equal(body.request_id);
      });
    }
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});
