import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ECS_FIELDS, SECURITY_ACTIONS } from '../../src/infrastructure/logging/ecs-fields.js';
import { bracedBlock } from '../support/braced-block.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const elkDir = join(projectRoot, 'elk');
const setupScript = join(elkDir, 'setup.sh');
const savedObjectsFile = join(elkDir, 'kibana', 'saved-objects.ndjson');
const templatesDir = join(elkDir, 'elasticsearch', 'index-templates');
const ilmDir = join(elkDir, 'elasticsearch', 'ilm');
const pipelineFile = join(projectRoot, 'logstash', 'pipeline', 'logstash.conf');

interface SavedObject {
  id: string;
  type: string;
  attributes: Record<string, unknown>;
  references: { id: string; type: string; name: string }[];
}

interface LensColumn {
  operationType: string;
  sourceField?: string;
  filter?: { query: string; language: string };
  params?: { formula?: string };
}

interface LensState {
  query: { query: string; language: string };
  filters: unknown[];
  datasourceStates: { formBased: { layers: Record<string, { columns: Record<string, LensColumn> }> } };
}

interface Panel {
  type: string;
  panelIndex: string;
  panelRefName?: string;
}

interface IndexTemplate {
  index_patterns: string[];
  template: {
    settings?: Record<string, unknown>;
    mappings?: { properties?: Record<string, Mapping> };
  };
}

interface Mapping {
  type?: string;
  properties?: Record<string, Mapping>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

function savedObjects(): SavedObject[] {
  return readFileSync(savedObjectsFile, 'utf8')
    .split('\n')
    .map((line, index) => ({ line, number: index + 1 }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, number }) => {
      try {
        return JSON.parse(line) as SavedObject;
      } catch (error) {
        return expect.fail(`saved-objects.ndjson line ${number} is not JSON: ${(error as Error).message}`);
      }
    });
}

const byType = (objects: SavedObject[], ...types: string[]) => objects.filter((o) => types.includes(o.type));

function onlyOne(objects: SavedObject[], type: string): SavedObject {
  const found = byType(objects, type);
  expect(
    found.map((o) => o.id),
    `one ${type}`,
  ).to.have.length(1);
  return found[0] as SavedObject;
}

function panelsOf(dashboard: SavedObject): Panel[] {
  return JSON.parse(String(dashboard.attributes.panelsJSON)) as Panel[];
}

/** The pipeline without comments; a `#` inside a quoted string is kept. */
function logstashPipeline(): string {
  const text = readFileSync(pipelineFile, 'utf8');
  let out = '';
  let quote: string | undefined;
  let comment = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] as string;
    if (comment) {
      if (char === '\n') {
        comment = false;
        out += char;
      }
    } else if (quote !== undefined) {
      out += char;
      if (char === '\\') out += text[++i] ?? '';
      else if (char === quote) quote = undefined;
    } else if (char === '#') {
      comment = true;
    } else {
      if (char === '"' || char === "'") quote = char;
      out += char;
    }
  }
  return out;
}

function setting(body: string | undefined, name: string): string | undefined {
  return new RegExp(`\\b${name}\\s*=>\\s*"([^"]*)"`).exec(body ?? '')?.[1];
}

/** The Elasticsearch outputs of the two streams: `if [@metadata][stream] == "app" { ... } else { ... }`. */
function logstashOutputs(): Record<'app' | 'beats', { index: string; templateName: string; templatePath: string }> {
  const pipeline = logstashPipeline();
  const output = bracedBlock(pipeline, /\boutput\s*\{/);
  expect(output, 'output section').to.not.equal(undefined);
  const outputBody = output?.body ?? '';
  const app = bracedBlock(outputBody, /\bif\s*\[@metadata\]\[stream\]\s*==\s*"app"\s*\{/);
  expect(app, 'output branch for [@metadata][stream] == "app"').to.not.equal(undefined);
  const other = bracedBlock(outputBody, /^\s*else\s*\{/, app?.end ?? 0);
  expect(other, 'else branch (Beats) right after it').to.not.equal(undefined);
  const describe = (branch: string | undefined) => {
    const elasticsearch = bracedBlock(branch ?? '', /\belasticsearch\s*\{/)?.body;
    return {
      index: setting(elasticsearch, 'index') ?? '',
      templateName: setting(elasticsearch, 'template_name') ?? '',
      templatePath: setting(elasticsearch, 'template') ?? '',
    };
  };
  return { app: describe(app?.body), beats: describe(other?.body) };
}

/** `jwt-login-logs-%{+YYYY.MM.dd}` -> `jwt-login-logs-*`: the indices a Logstash sprintf index name can produce. */
const globOf = (logstashIndex: string) => logstashIndex.replace(/%\{[^}]*\}/g, '*');
/** One concrete index name Logstash would write to. */
const sampleIndex = (logstashIndex: string) => logstashIndex.replace(/%\{\+YYYY\.MM\.dd\}/g, '2025.01.31');
const globMatches = (glob: string, name: string) =>
  new RegExp(
    `^${glob
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(name);

function templateFiles(): string[] {
  return readdirSync(templatesDir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => join(templatesDir, name));
}

function lifecyclePolicy(template: IndexTemplate): unknown {
  const settings = template.template.settings ?? {};
  const nested = settings.index as { lifecycle?: { name?: unknown } } | undefined;
  return settings['index.lifecycle.name'] ?? nested?.lifecycle?.name;
}

/** Dotted field name -> type of every leaf of a mapping. */
function flatten(properties: Record<string, Mapping>, prefix = ''): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, mapping] of Object.entries(properties)) {
    const path = `${prefix}${name}`;
    if (mapping.properties !== undefined) {
      expect(mapping.type ?? 'object', `${path} holds sub-fields`).to.equal('object');
      Object.assign(fields, flatten(mapping.properties, `${path}.`));
    } else {
      fields[path] = mapping.type ?? '(no type)';
    }
  }
  return fields;
}

/** Every KQL text of the saved objects: Lens queries, column filters, the kql='...' of formulas, dashboard query. */
function queries(objects: SavedObject[]): string[] {
  const texts: string[] = [];
  for (const lens of byType(objects, 'lens')) {
    const state = lens.attributes.state as LensState;
    expect(state.query.language, `${lens.id} query language`).to.equal('kuery');
    texts.push(state.query.query);
    for (const layer of Object.values(state.datasourceStates.formBased.layers)) {
      for (const column of Object.values(layer.columns)) {
        if (column.filter !== undefined) texts.push(column.filter.query);
        for (const [, kql] of (column.params?.formula ?? '').matchAll(/kql='([^']*)'/g)) texts.push(kql ?? '');
      }
    }
  }
  for (const dashboard of byType(objects, 'dashboard')) {
    const meta = dashboard.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string };
    const source = JSON.parse(meta.searchSourceJSON) as { query?: { query: string } };
    texts.push(source.query?.query ?? '');
  }
  return texts.filter((text) => text.trim() !== '');
}

/** Field names a KQL text compares: `field: value`, `field >= 500`... */
const kqlFields = (kql: string) =>
  [...kql.matchAll(/([A-Za-z_@][\w.@]*)\s*(?::|<=|>=|<|>)/g)].map(([, field]) => field ?? '');

const kqlActions = (kql: string) =>
  [...kql.matchAll(/\bevent\.action\s*:\s*(?:"([^"]*)"|([^\s()"]+))/g)].map(([, quoted, bare]) => quoted ?? bare ?? '');

describe('ELK assets (elk/, logstash/pipeline)', () => {
  describe('Kibana saved objects (elk/kibana/saved-objects.ndjson)', () => {
    it('parses line by line into saved objects of the expected types, with unique ids', () => {
      const objects = savedObjects();
      for (const object of objects) {
        expect(object.id, 'id').to.be.a('string').and.not.equal('');
        expect(object.attributes, `${object.id} attributes`).to.be.an('object');
        expect(object.references, `${object.id} references`).to.be.an('array');
      }
      expect(new Set(objects.map((o) => o.type))).to.deep.equal(new Set(['index-pattern', 'lens', 'dashboard']));
      onlyOne(objects, 'index-pattern');
      onlyOne(objects, 'dashboard');
      expect(byType(objects, 'lens', 'visualization')).to.have.length.of.at.least(6);
      const keys = objects.map((o) => `${o.type}:${o.id}`);
      expect(new Set(keys).size, 'type:id pairs are unique').to.equal(keys.length);
    });

    it('every dashboard panel references a saved object of the file, and every visualization is on it', () => {
      const objects = savedObjects();
      const dashboard = onlyOne(objects, 'dashboard');
      const panels = panelsOf(dashboard);
      expect(panels).to.have.length.of.at.least(6);
      const shown = panels.map((panel) => {
        expect(panel.panelRefName, `panel ${panel.panelIndex} is by reference`).to.be.a('string');
        const reference = dashboard.references.find(
          (ref) => ref.name === `${panel.panelIndex}:${panel.panelRefName}` || ref.name === panel.panelRefName,
        );
        expect(reference, `reference of panel ${panel.panelIndex}`).to.not.equal(undefined);
        expect(reference?.type, `panel ${panel.panelIndex} type`).to.equal(panel.type);
        const target = objects.find((o) => o.type === reference?.type && o.id === reference?.id);
        expect(target, `${reference?.type} ${reference?.id} in the file`).to.not.equal(undefined);
        return `${target?.type}:${target?.id}`;
      });
      expect(new Set(shown)).to.deep.equal(
        new Set(byType(objects, 'lens', 'visualization').map((o) => `${o.type}:${o.id}`)),
      );
    });

    it('every visualization reads the data view, whose title is the index pattern Logstash writes app logs to', () => {
      const objects = savedObjects();
      const dataView = onlyOne(objects, 'index-pattern');
      const { app, beats } = logstashOutputs();
      expect(app.index).to.equal('jwt-login-logs-%{+YYYY.MM.dd}');
      expect(beats.index).to.equal('beats-%{+YYYY.MM.dd}');

      expect(dataView.attributes.title).to.equal(globOf(app.index));
      expect(dataView.attributes.timeFieldName).to.equal('@timestamp');
      expect(globMatches(String(dataView.attributes.title), sampleIndex(app.index))).to.equal(true);
      expect(globMatches(String(dataView.attributes.title), sampleIndex(beats.index))).to.equal(false);

      for (const lens of byType(objects, 'lens', 'visualization')) {
        const dataViews = lens.references.filter((ref) => ref.type === 'index-pattern');
        expect(dataViews, `${lens.id} data view references`).to.not.be.empty;
        for (const ref of dataViews) expect(ref.id, `${lens.id}: ${ref.name}`).to.equal(dataView.id);
        const layers = Object.keys((lens.attributes.state as LensState).datasourceStates.formBased.layers);
        expect(dataViews.map((ref) => ref.name)).to.include.members(
          layers.map((layer) => `indexpattern-datasource-layer-${layer}`),
        );
      }
    });

    it('uses only fields of ECS_FIELDS', () => {
      const objects = savedObjects();
      const dataView = onlyOne(objects, 'index-pattern');
      const fields = new Set<string>([String(dataView.attributes.timeFieldName)]);
      const fieldFormats = dataView.attributes.fieldFormatMap;
      expect(fieldFormats, 'fieldFormatMap (a JSON string)').to.be.a('string');
      for (const field of Object.keys(JSON.parse(fieldFormats as string) as object)) fields.add(field);
      for (const lens of byType(objects, 'lens')) {
        const state = lens.attributes.state as LensState;
        for (const layer of Object.values(state.datasourceStates.formBased.layers)) {
          for (const column of Object.values(layer.columns)) {
            if (column.sourceField !== undefined && column.sourceField !== '___records___') {
              fields.add(column.sourceField);
            }
          }
        }
      }
      for (const kql of queries(objects)) for (const field of kqlFields(kql)) fields.add(field);

      expect([...fields]).to.include.members([
        '@timestamp',
        'event.action',
        'client.ip',
        'labels.limit',
        'http.response.status_code',
        'event.duration',
      ]);
      const unknown = [...fields].filter((field) => !Object.hasOwn(ECS_FIELDS, field));
      expect(unknown, 'fields missing from ECS_FIELDS').to.deep.equal([]);
    });

    it("filters event.action on 'request' and SECURITY_ACTIONS only, covering the dashboard's panels", () => {
      const texts = queries(savedObjects());
      const actions = texts.flatMap(kqlActions);
      const allowed = new Set<string>(['request', ...SECURITY_ACTIONS]);
      expect(actions.filter((action) => !allowed.has(action))).to.deep.equal([]);
      expect(actions).to.include.members(['login-failure', 'rate-limited', 'refresh-token-reused', 'request']);
      expect(
        texts.some((kql) => kqlActions(kql).includes('rate-limited') && /\blabels\.limit\s*:\s*"?login"?/.test(kql)),
        'lockouts: rate-limited with labels.limit: login',
      ).to.equal(true);
      expect(
        texts.some((kql) => /http\.response\.status_code\s*>=\s*500/.test(kql)),
        '5xx',
      ).to.equal(true);
    });
  });

  describe('Elasticsearch index templates and ILM policies (elk/elasticsearch/)', () => {
    it('the app-log template matches the indices Logstash writes app logs to, not the Beats ones', () => {
      const { app, beats } = logstashOutputs();
      const template = readJson<IndexTemplate>(join(templatesDir, `${app.templateName}.json`));
      expect(template.index_patterns).to.include(globOf(app.index));
      expect(template.index_patterns.some((glob) => globMatches(glob, sampleIndex(app.index)))).to.equal(true);
      expect(template.index_patterns.some((glob) => globMatches(glob, sampleIndex(beats.index)))).to.equal(false);

      const beatsTemplate = readJson<IndexTemplate>(join(templatesDir, `${beats.templateName}.json`));
      expect(beatsTemplate.index_patterns.some((glob) => globMatches(glob, sampleIndex(beats.index)))).to.equal(true);
      expect(beatsTemplate.index_patterns.some((glob) => globMatches(glob, sampleIndex(app.index)))).to.equal(false);
    });

    it('Logstash installs the template files of elk/ under their own names', () => {
      for (const output of Object.values(logstashOutputs())) {
        expect(output.templatePath, `${output.index} template path`).to.match(/^\/usr\/share\/logstash\/templates\//);
        expect(basename(output.templatePath)).to.equal(`${output.templateName}.json`);
        expect(existsSync(join(templatesDir, `${output.templateName}.json`)), output.templateName).to.equal(true);
      }
    });

    it('the app-log template maps exactly the ECS_FIELDS, dotted names as object paths, with their types', () => {
      const template = readJson<IndexTemplate>(join(templatesDir, `${logstashOutputs().app.templateName}.json`));
      const properties = template.template.mappings?.properties ?? {};
      expect(Object.keys(properties)).to.not.include('event.action');
      expect(flatten(properties)).to.deep.equal({ ...ECS_FIELDS });
    });

    it('every template names an ILM policy of elk/ that deletes; app logs are kept 30 days', () => {
      const files = templateFiles();
      expect(files.map((file) => basename(file)).sort()).to.deep.equal(['jwt-login-beats.json', 'jwt-login-logs.json']);
      for (const file of files) {
        const policyName = lifecyclePolicy(readJson<IndexTemplate>(file));
        expect(policyName, `${basename(file)} index.lifecycle.name`).to.be.a('string');
        const policyFile = join(ilmDir, `${String(policyName)}.json`);
        expect(existsSync(policyFile), `${policyFile} exists`).to.equal(true);
        const policy = readJson<{ policy: { phases: Record<string, { min_age?: string; actions: object }> } }>(
          policyFile,
        );
        expect(policy.policy.phases).to.have.property('hot');
        expect(policy.policy.phases.delete?.actions).to.have.property('delete');
      }
      const app = readJson<IndexTemplate>(join(templatesDir, 'jwt-login-logs.json'));
      const appPolicy = readJson<{ policy: { phases: { delete: { min_age: string } } } }>(
        join(ilmDir, `${String(lifecyclePolicy(app))}.json`),
      );
      expect(appPolicy.policy.phases.delete.min_age).to.equal('30d');
    });
  });

  describe('Logstash pipeline (logstash/pipeline/logstash.conf)', () => {
    it('each input sets the stream its events are routed by', () => {
      const pipeline = logstashPipeline();
      const input = bracedBlock(pipeline, /\binput\s*\{/)?.body ?? '';
      const streamOf = (plugin: string) =>
        /"\[@metadata\]\[stream\]"\s*=>\s*"(\w+)"/.exec(
          bracedBlock(input, new RegExp(`\\b${plugin}\\s*\\{`))?.body ?? '',
        )?.[1];
      expect(streamOf('tcp')).to.equal('app');
      expect(streamOf('beats')).to.equal('beats');
    });

    it('renames no ECS field and refers to dotted ECS names as single fields', () => {
      const filter = bracedBlock(logstashPipeline(), /\bfilter\s*\{/)?.body ?? '';
      const renames = [...filter.matchAll(/rename\s*=>\s*\{([^}]*)\}/g)].flatMap(([, body]) =>
        [...(body ?? '').matchAll(/"([^"]+)"\s*=>\s*"([^"]+)"/g)].map(([, from, to]) => ({ from, to })),
      );
      expect(renames.map(({ from }) => from).sort()).to.deep.equal(['hostname', 'level', 'pid']);
      for (const { from, to } of renames) {
        expect(Object.hasOwn(ECS_FIELDS, from ?? ''), `${from} is not an ECS field`).to.equal(false);
        expect(Object.hasOwn(ECS_FIELDS, to ?? ''), `${to} is an ECS field`).to.equal(true);
      }
      // [host][hostname] would be a nested field, not the app's "host.hostname".
      for (const field of Object.keys(ECS_FIELDS).filter((name) => name.includes('.'))) {
        expect(filter, field).to.not.include(`[${field.split('.').join('][')}]`);
      }
      const removed = [...filter.matchAll(/remove_field\s*=>\s*\[((?:[^\]"]|"[^"]*")*)\]/g)].flatMap(([, list]) =>
        [...(list ?? '').matchAll(/"([^"]*)"/g)].map(([, field]) => field ?? ''),
      );
      expect(removed).to.include.members(['source', 'name', 'hostname', 'pid', 'level', 'tags']);
      expect(removed.filter((field) => Object.hasOwn(ECS_FIELDS, field))).to.deep.equal([]);
    });
  });

  describe('elk/setup.sh', () => {
    it('is an executable POSIX shell script that parses', () => {
      expect(statSync(setupScript).mode & 0o111, 'executable bits').to.not.equal(0);
      expect(readFileSync(setupScript, 'utf8').split('\n')[0]).to.equal('#!/bin/sh');
      for (const shell of ['bash', 'sh']) {
        const result = spawnSync(shell, ['-n', setupScript], { encoding: 'utf8' });
        expect(result.error, `${shell} could not run`).to.equal(undefined);
        expect(result.status, `${shell} -n: ${result.stderr}`).to.equal(0);
      }
    });

    it('passes shellcheck', function () {
      const version = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
      if (version.error !== undefined) {
        console.warn(
          '      shellcheck is not installed, check skipped: `apt-get install -y --no-install-recommends shellcheck`',
        );
        this.skip();
      }
      const result = spawnSync('shellcheck', ['--shell=sh', setupScript], { encoding: 'utf8' });
      expect(result.status, result.stdout + result.stderr).to.equal(0);
    });

    describe('against a fake Elasticsearch and Kibana on 127.0.0.1', function () {
      this.timeout(30_000);

      interface Recorded {
        method: string;
        url: string;
        headers: IncomingMessage['headers'];
        body: string;
      }
      type Handler = (request: Recorded, count: number) => { status: number; body: unknown };

      let server: Server;
      let baseUrl: string;
      let requests: Recorded[];
      let handler: Handler;

      /** Elasticsearch and Kibana as they answer once up: acknowledged PUTs, a green cluster, a clean import. */
      const healthy: Handler = (request) => {
        if (request.url.startsWith('/es/_cluster/health')) return { status: 200, body: { status: 'green' } };
        if (request.method === 'PUT' && request.url.startsWith('/es/')) {
          return { status: 200, body: { acknowledged: true } };
        }
        if (request.url === '/kibana/api/status') {
          return { status: 200, body: { name: 'kibana', status: { overall: { level: 'available', summary: 'ok' } } } };
        }
        if (request.url.startsWith('/kibana/api/saved_objects/_import')) {
          return { status: 200, body: { success: true, successCount: savedObjects().length, successResults: [] } };
        }
        if (request.url === '/kibana/api/data_views/default') return { status: 200, body: { acknowledged: true } };
        return { status: 404, body: { error: `no route ${request.method} ${request.url}` } };
      };

      before(async () => {
        server = createServer((req: IncomingMessage, res: ServerResponse) => {
          const chunks: Buffer[] = [];
          req.on('data', (chunk: Buffer) => chunks.push(chunk));
          req.on('end', () => {
            const recorded: Recorded = {
              method: req.method ?? '',
              url: req.url ?? '',
              headers: req.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            };
            requests.push(recorded);
            const count = requests.filter((r) => r.method === recorded.method && r.url === recorded.url).length;
            const { status, body } = handler(recorded, count);
            res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
          });
        });
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      });

      after(() => new Promise<void>((resolve) => server.close(() => resolve())));

      beforeEach(function () {
        if (spawnSync('curl', ['--version']).error !== undefined) {
          console.warn('      curl is not installed, setup.sh runs skipped: `apt-get install -y curl`');
          this.skip();
        }
        requests = [];
        handler = healthy;
      });

      async function runSetup(env: Record<string, string> = {}) {
        const child = spawn('sh', [setupScript], {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            ELASTICSEARCH_URL: `${baseUrl}/es`,
            KIBANA_URL: `${baseUrl}/kibana`,
            RETRY_INTERVAL_SECONDS: '0',
            SETUP_TIMEOUT_SECONDS: '20',
            ...env,
          },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const started = Date.now();
        const [code] = (await once(child, 'close')) as [number | null];
        return { code, stdout, stderr, seconds: (Date.now() - started) / 1000 };
      }

      const calls = () => requests.map((r) => `${r.method} ${r.url.replace(/\?.*$/, '')}`);

      it('installs the policies, then the templates, imports the saved objects and exits 0; a re-run does the same', async () => {
        const first = await runSetup();
        expect(first.code, first.stderr).to.equal(0);
        const expected = [
          'GET /es/_cluster/health',
          'PUT /es/_ilm/policy/jwt-login-beats',
          'PUT /es/_ilm/policy/jwt-login-logs',
          'PUT /es/_index_template/jwt-login-beats',
          'PUT /es/_index_template/jwt-login-logs',
          'GET /kibana/api/status',
          'POST /kibana/api/saved_objects/_import',
          'POST /kibana/api/data_views/default',
        ];
        expect(calls()).to.deep.equal(expected);

        const put = (url: string) => requests.find((r) => r.url === url);
        expect(JSON.parse(put('/es/_index_template/jwt-login-logs')?.body ?? '')).to.deep.equal(
          readJson(join(templatesDir, 'jwt-login-logs.json')),
        );
        expect(JSON.parse(put('/es/_ilm/policy/jwt-login-logs')?.body ?? '')).to.deep.equal(
          readJson(join(ilmDir, 'jwt-login-logs.json')),
        );
        expect(put('/es/_index_template/jwt-login-logs')?.headers['content-type']).to.equal('application/json');

        const upload = requests.find((r) => r.url.startsWith('/kibana/api/saved_objects/_import'));
        expect(upload?.url).to.equal('/kibana/api/saved_objects/_import?overwrite=true');
        expect(upload?.headers['kbn-xsrf']).to.equal('true');
        expect(upload?.headers['content-type']).to.match(/^multipart\/form-data; boundary=/);
        expect(upload?.body).to.include('name="file"; filename="saved-objects.ndjson"');
        expect(upload?.body).to.include(readFileSync(savedObjectsFile, 'utf8'));
        const defaultView = requests.find((r) => r.url === '/kibana/api/data_views/default');
        expect(JSON.parse(defaultView?.body ?? '')).to.deep.equal({ data_view_id: 'jwt-login-logs', force: true });
        expect(first.stdout).to.include('done.');

        requests = [];
        const second = await runSetup();
        expect(second.code, second.stderr).to.equal(0);
        expect(calls()).to.deep.equal(expected);
      });

      it('retries while Elasticsearch and Kibana are starting', async () => {
        handler = (request, count) => {
          if (request.url.startsWith('/es/_cluster/health') && count <= 2) {
            return { status: 503, body: { error: 'master_not_discovered_exception' } };
          }
          if (request.url.startsWith('/es/_cluster/health') && count === 3) {
            return { status: 408, body: { status: 'red', timed_out: true } };
          }
          if (request.url === '/kibana/api/status' && count <= 2) {
            return { status: 503, body: { status: { overall: { level: 'unavailable' } } } };
          }
          if (request.url === '/kibana/api/status' && count === 3) {
            return { status: 200, body: { status: { overall: { level: 'degraded' } } } };
          }
          return healthy(request, count);
        };
        const result = await runSetup();
        expect(result.code, result.stderr).to.equal(0);
        expect(calls().filter((call) => call === 'GET /es/_cluster/health')).to.have.length(4);
        expect(calls().filter((call) => call === 'GET /kibana/api/status')).to.have.length(4);
        expect(calls().indexOf('PUT /es/_ilm/policy/jwt-login-logs')).to.be.greaterThan(3);
        expect(result.stdout).to.include('waiting');
      });

      it('fails at once, naming the step, when Elasticsearch refuses a template', async () => {
        handler = (request, count) =>
          request.url === '/es/_index_template/jwt-login-logs'
            ? { status: 400, body: { error: { type: 'mapper_parsing_exception' } } }
            : healthy(request, count);
        const result = await runSetup();
        expect(result.code).to.equal(1);
        expect(result.stderr).to.match(/FAILED: index template jwt-login-logs: PUT \S+ answered HTTP 400/);
        expect(result.stderr).to.include('mapper_parsing_exception');
        expect(calls().filter((call) => call.endsWith('/jwt-login-logs'))).to.have.length(2);
        expect(calls()).to.not.include('POST /kibana/api/saved_objects/_import');
      });

      it('fails when Kibana reports import errors', async () => {
        handler = (request, count) =>
          request.url.startsWith('/kibana/api/saved_objects/_import')
            ? {
                status: 200,
                body: { success: false, successCount: 0, errors: [{ id: 'x', error: { type: 'missing_references' } }] },
              }
            : healthy(request, count);
        const result = await runSetup();
        expect(result.code).to.equal(1);
        expect(result.stderr).to.include('saved objects import reported errors').and.include('missing_references');
      });

      it('gives up after SETUP_TIMEOUT_SECONDS when Elasticsearch never answers', async () => {
        const result = await runSetup({
          ELASTICSEARCH_URL: 'http://127.0.0.1:9/es',
          SETUP_TIMEOUT_SECONDS: '2',
          RETRY_INTERVAL_SECONDS: '1',
        });
        expect(result.code).to.equal(1);
        expect(result.stderr).to.match(/FAILED: Elasticsearch health: not done within 2s .*no answer from/);
        expect(result.seconds).to.be.lessThan(15);
        expect(requests).to.deep.equal([]);
      });

      it('refuses a malformed SETUP_TIMEOUT_SECONDS', async () => {
        const result = await runSetup({ SETUP_TIMEOUT_SECONDS: '5m' });
        expect(result.code).to.equal(1);
        expect(result.stderr).to.include('SETUP_TIMEOUT_SECONDS must be a whole number');
        expect(requests).to.deep.equal([]);
      });
    });
  });
});
