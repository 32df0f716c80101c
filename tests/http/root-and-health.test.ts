import { expect } from 'chai';
import { type TestApp, startTestApp } from '../support/test-app.js';
import { expectNo5xx } from './helpers.js';

describe('HTTP: root, health and readiness', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  it('GET /api/ answers 200 with the seed body, byte for byte', async () => {
    const response = await app.request('/api/');
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.match(/^application\/json/);
    expect(await response.text()).to.equal('{"JWT Server Application":"Running!"}');
  });

  it('GET /api/health answers 200 while the process serves', async () => {
    const response = await app.request('/api/health');
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ status: 'ok' });
  });

  it('GET /api/ready answers 200 when the database answers', async () => {
    const response = await app.request('/api/ready');
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ status: 'ready' });
  });

  it('carries X-Request-Id on every answer, also on health checks', async () => {
    for (const path of ['/api/', '/api/health', '/api/ready']) {
      const response = await app.request(path);
      await response.arrayBuffer();
      expect(response.headers.get('x-request-id'), path).to.be.a('string').and.not.equal('');
    }
  });

  describe('after every request above', () => {
    it('answered none with a 5xx', () => {
      expectNo5xx(app);
    });
  });
});
