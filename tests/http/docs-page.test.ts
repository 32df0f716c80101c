import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { type TestApp, startTestApp } from '../support/test-app.js';

/** Debian's chromium, installed by .ci/run; playwright-core drives it (it downloads no browser of its own). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where the test leaves a screenshot of the page it loaded. */
export const DOCS_SCREENSHOT = join(tmpdir(), 'jwt-login-docs-page.png');

describe('HTTP: the API documentation (/api/openapi.json, /api/docs)', () => {
  let app: TestApp;

  before(async () => {
    app = await startTestApp();
  });

  after(async () => {
    await app?.close();
  });

  it('serves docs/openapi.yaml as JSON and as written', async () => {
    const yamlResponse = await app.request('/api/openapi.yaml');
    expect(yamlResponse.headers.get('content-type')).to.match(/^application\/yaml/);
    const written = await yamlResponse.text();
    const json = await app.request('/api/openapi.json');
    expect(json.status).to.equal(200);
    expect(json.headers.get('content-type')).to.match(/^application\/json/);
    expect(await json.json()).to.deep.equal(parse(written));
    expect(written).to.contain('openapi: 3.1.0');
  });

  it('ships the document in the Docker image, beside dist/ where the service reads it', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    expect(dockerfile).to.match(/^COPY --from=build \/app\/docs\/openapi\.yaml \.\/docs\/openapi\.yaml$/m);
    expect(readFileSync('.dockerignore', 'utf8')).to.not.match(/^docs/m);
  });

  it('relaxes the CSP for the docs page and its files only: every other answer keeps default-src none', async () => {
    const page = await app.request('/api/docs');
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).to.contain("script-src 'self'").and.contain("default-src 'none'").and.not.contain('unsafe');
    const html = await page.text();
    expect(html, 'no inline script').to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html, 'no CDN').to.not.match(/https?:\/\//);
    for (const path of ['/api/', '/api/openapi.json', '/api/login']) {
      const other = await app.request(path);
      await other.arrayBuffer();
      expect(other.headers.get('content-security-policy'), path).to.equal("default-src 'none';frame-ancestors 'none'");
    }
    const missing = await app.request('/api/docs/package.json');
    expect(missing.status).to.equal(404);
    expect(await missing.json()).to.include({ error: 'NotFound' });
    expect((await app.request('/api/docs/..%2F..%2Fpackage.json')).status).to.equal(404);
  });

  it('loads in headless Chromium and lists the endpoints, with no CSP violation', async function () {
    this.timeout(60_000);
    if (!existsSync(CHROMIUM)) {
      // Only where no browser can be installed: .ci/run installs Debian's chromium.
      console.log(`      skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
      this.skip();
    }
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));
      const external: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(app.baseUrl)) external.push(request.url());
      });
      await page.goto(`${app.baseUrl}/api/docs`);
      await page.locator('.opblock-summary-path').first().waitFor({ timeout: 30_000 });
      const paths = await page.locator('.opblock-summary-path').allInnerTexts();
      const listed = new Set(paths.map((path) => path.replace(/\u200b/g, '').trim()));
      for (const path of ['/api/registration', '/api/login', '/api/refresh', '/api/protected', '/api/users/{id}']) {
        expect([...listed], path).to.include(path);
      }
      expect(await page.title()).to.equal('jwt-login API');
      await page.screenshot({ path: DOCS_SCREENSHOT, fullPage: true });
      console.log(`      screenshot: ${DOCS_SCREENSHOT}`);
      expect(problems, 'console errors, CSP violations, failed requests').to.deep.equal([]);
      expect(external, 'requests to other origins').to.deep.equal([]);
    } finally {
      await browser.close();
    }
  });
});
