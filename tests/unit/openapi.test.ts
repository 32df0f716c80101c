import { readFileSync } from 'node:fs';
import type Router from '@koa/router';
import { expect } from 'chai';
import { parse } from 'yaml';
import { createApp } from '../../src/interfaces/http/app.js';
import { fakeServices } from '../support/fake-services.js';

/** Every route the app serves, as `METHOD /path` with OpenAPI-style parameters. */
function servedRoutes(): string[] {
  const services = fakeServices();
  const app = createApp({
    ...services,
    isReady: async () => true,
    metrics: { requestStarted: () => () => undefined },
    docs: { openapiYaml: readFileSync('docs/openapi.yaml', 'utf8'), assets: new Map() },
    isUnavailableError: () => false,
    options: { bodyLimit: '16kb', corsOrigins: '*', trustProxy: false },
  });
  const routes = new Set<string>();
  for (const middleware of app.middleware) {
    const router = (middleware as { router?: Router }).router;
    for (const layer of router?.stack ?? []) {
      for (const method of layer.methods.filter((m) => m !== 'HEAD')) {
        routes.add(`${method} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`);
      }
    }
  }
  return [...routes].sort();
}

describe('docs/openapi.yaml', () => {
  const document = parse(readFileSync('docs/openapi.yaml', 'utf8')) as {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
  };

  it('is an OpenAPI 3.1 document', () => {
    expect(document.openapi).to.equal('3.1.0');
  });

  it('documents exactly the routes the app serves', () => {
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    expect(documented).to.deep.equal(servedRoutes());
  });
});
