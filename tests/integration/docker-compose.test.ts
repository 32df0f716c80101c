import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse } from 'yaml';
import { bracedBlock } from '../support/braced-block.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const composeFile = join(projectRoot, 'docker-compose.yml');
const INSTALL_HINT =
  "docker-compose is not installed: install Debian's package with " +
  '`apt-get update && apt-get install -y --no-install-recommends docker-compose`';
const DUMMY_SECRET = 'compose-config-test-secret-0123456789abcdef';

/** Environment for docker-compose without any JWT_SECRET inherited from the developer's shell. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.JWT_SECRET;
  delete env.POSTGRES_PASSWORD;
  delete env.COMPOSE_FILE;
  delete env.COMPOSE_PROJECT_NAME;
  return env;
}

/**
 * Each service's text in `docker-compose config` output. Compose 1.29 has no `--format json`, so this reads its
 * normalised YAML: the services are the two-space keys under the top-level `services:`.
 */
function serviceBlocks(normalizedYaml: string): Map<string, string> {
  const blocks = new Map<string, string[]>();
  let inServices = false;
  let lines: string[] | undefined;
  for (const line of normalizedYaml.split('\n')) {
    if (/^\S/.test(line)) {
      inServices = line.startsWith('services:');
      lines = undefined;
      continue;
    }
    if (!inServices) continue;
    const serviceKey = /^ {2}([^\s:]+):\s*$/.exec(line);
    if (serviceKey?.[1] !== undefined) {
      lines = [];
      blocks.set(serviceKey[1], lines);
    } else {
      lines?.push(line);
    }
  }
  return new Map([...blocks].map(([name, body]) => [name, body.join('\n')]));
}

/** The parts of a service in `docker-compose config` output these tests read (Compose 1.29 and v2 renderings). */
interface ComposeService {
  image?: string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | null>;
  ports?: (string | { host_ip?: string; published?: string | number; target?: string | number })[];
  volumes?: (string | { type?: string; source?: string; target?: string; read_only?: boolean })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] | string };
  restart?: string;
}

interface PublishedPort {
  /** Undefined: every interface. */
  hostIp: string | undefined;
  published: number;
  target: number;
}

/**
 * Published ports of a service. Compose 1.29 renders `"8000:8000"` in the long syntax (`published: 8000`) but keeps a
 * host address in the short one (`127.0.0.1:9200:9200/tcp`); Compose v2 renders `host_ip` in the long syntax.
 */
function publishedPorts(service: ComposeService | undefined): PublishedPort[] {
  return (service?.ports ?? []).map((port) => {
    if (typeof port === 'string') {
      const [target, published, ...host] = port
        .replace(/\/\w+$/, '')
        .split(':')
        .reverse();
      return {
        hostIp: host.reverse().join(':') || undefined,
        published: Number(published ?? target),
        target: Number(target),
      };
    }
    return { hostIp: port.host_ip || undefined, published: Number(port.published), target: Number(port.target) };
  });
}

/** Bind mounts of a service: `host:container[:ro]` (1.29) or `{type: bind, source, target, read_only}` (v2). */
function bindMounts(service: ComposeService | undefined): { source: string; target: string; readOnly: boolean }[] {
  return (service?.volumes ?? []).flatMap((volume) => {
    if (typeof volume !== 'string') {
      return volume.type === 'bind'
        ? [{ source: volume.source ?? '', target: volume.target ?? '', readOnly: volume.read_only === true }]
        : [];
    }
    const [source = '', target = '', mode = ''] = volume.split(':');
    return source.startsWith('/') ? [{ source, target, readOnly: mode.split(',').includes('ro') }] : [];
  });
}

const dependencyCondition = (service: ComposeService | undefined, dependency: string) =>
  Array.isArray(service?.depends_on) ? undefined : service?.depends_on?.[dependency]?.condition;

const healthTest = (service: ComposeService | undefined) =>
  ([] as string[]).concat(service?.healthcheck?.test ?? []).join(' ');

/** Body of the first `name { ... }` block of a Logstash pipeline; braces inside quoted strings do not count. */
function pluginBlock(pipeline: string, name: string): string | undefined {
  return bracedBlock(pipeline, new RegExp(`\\b${name}\\s*\\{`))?.body;
}

describe('docker-compose stack (SPEC §7)', function () {
  this.timeout(60_000);
  let workDir: string;
  let emptyEnvFile: string;

  before(() => {
    workDir = mkdtempSync(join(tmpdir(), 'jwt-login-compose-'));
    // Replaces the project's `.env`, so a developer's local values cannot change the outcome.
    emptyEnvFile = join(workDir, 'empty.env');
    writeFileSync(emptyEnvFile, '');
  });

  after(() => rmSync(workDir, { recursive: true, force: true }));

  function compose(args: string[], env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
    const result = spawnSync('docker-compose', ['--env-file', emptyEnvFile, '-f', composeFile, ...args], {
      cwd: projectRoot,
      env,
      encoding: 'utf8',
      timeout: 50_000,
    });
    if (result.error !== undefined) {
      const code = (result.error as NodeJS.ErrnoException).code;
      expect.fail(code === 'ENOENT' ? INSTALL_HINT : `docker-compose could not run: ${result.error.message}`);
    }
    return result;
  }

  it('validates with JWT_SECRET set and publishes the seed ports per service', () => {
    const env = { ...baseEnv(), JWT_SECRET: DUMMY_SECRET };

    const quiet = compose(['config', '-q'], env);
    expect(quiet.status, quiet.stderr).to.equal(0);

    const rendered = compose(['config'], env);
    expect(rendered.status, rendered.stderr).to.equal(0);
    const config = rendered.stdout;

    const services = compose(['config', '--services'], env);
    expect(services.stdout.split('\n').filter(Boolean).sort()).to.deep.equal([
      'elasticsearch',
      'elk-setup',
      'kibana',
      'logstash',
      'mailpit',
      'postgres',
      'server',
    ]);

    const blocks = serviceBlocks(config);
    const parsed = parse(config) as { services: Record<string, ComposeService> };
    const published = (name: string) => publishedPorts(parsed.services[name]).map((port) => port.published);
    expect(published('server')).to.have.members([8000, 9464]);
    expect(published('logstash')).to.have.members([5000, 5044, 9600]);
    expect(published('elasticsearch')).to.have.members([9200, 9300]);
    expect(published('kibana')).to.have.members([5601]);
    const allPublished = Object.values(parsed.services).flatMap((service) =>
      publishedPorts(service).map((port) => port.published),
    );
    expect(allPublished).to.include.members([8000, 5000, 5044, 9600, 9200, 9300, 5601]);
    for (const service of Object.values(parsed.services)) {
      for (const port of publishedPorts(service))
        expect(port.published, 'published on its own number').to.equal(port.target);
    }

    const server = blocks.get('server') ?? '';
    expect(server).to.include(`JWT_SECRET: ${DUMMY_SECRET}`);
    expect(server).to.match(/DATABASE_URL: postgres:\/\/jwt_login:[^@\s]+@postgres:5432\/jwt_login/);
    expect(server).to.include('LOGSTASH_HOST: logstash');
    expect(server).to.match(/LOGSTASH_PORT: '?5000'?/);
    expect(server).to.match(/depends_on:\n(?:\s{6}.*\n)*?\s{6}postgres:\n\s{8}condition: service_healthy/);
    expect(blocks.get('postgres')).to.match(/pg_isready/);
    expect(blocks.get('elasticsearch')).to.match(/discovery\.type: single-node/);
    expect(blocks.get('elasticsearch')).to.match(/xpack\.security\.enabled: 'false'|xpack\.security\.enabled: "false"/);
    expect(blocks.get('kibana')).to.match(/ELASTICSEARCH_HOSTS: http:\/\/elasticsearch:9200/);

    const elasticVersions = [...config.matchAll(/image: docker\.elastic\.co\/(\w+)\/\w+:(\S+)/g)].map(
      ([, product, version]) => `${product}:${version}`,
    );
    expect(elasticVersions.map((entry) => entry.split(':')[0]).sort()).to.deep.equal([
      'elasticsearch',
      'kibana',
      'logstash',
    ]);
    const versions = new Set(elasticVersions.map((entry) => entry.split(':')[1]));
    expect(versions.size, `one Elastic version for all images, got ${elasticVersions.join(', ')}`).to.equal(1);
    expect([...versions][0]).to.match(/^8\.\d+\.\d+$/);
  });

  it('mounts a Logstash pipeline with the tcp json_lines, beats and Elasticsearch stages', () => {
    const rendered = compose(['config'], { ...baseEnv(), JWT_SECRET: DUMMY_SECRET });
    expect(rendered.status, rendered.stderr).to.equal(0);

    const mount = /-\s+(\S+):\/usr\/share\/logstash\/pipeline:ro/.exec(rendered.stdout);
    expect(mount?.[1], 'logstash mounts a host pipeline directory').to.be.a('string');
    const pipeline = readFileSync(join(mount?.[1] ?? '', 'logstash.conf'), 'utf8')
      .split('\n')
      .map((line) => line.replace(/#.*$/, ''))
      .join('\n');
    const outputStart = pipeline.search(/\boutput\s*\{/);
    expect(outputStart, 'output section').to.be.greaterThan(-1);
    const inputs = pipeline.slice(0, outputStart);
    const output = pipeline.slice(outputStart);

    const tcp = pluginBlock(inputs, 'tcp');
    expect(tcp, 'tcp input').to.be.a('string');
    expect(tcp).to.match(/\bport\s*=>\s*5000\b/);
    expect(tcp).to.match(/\bcodec\s*=>\s*json_lines\b/);

    const beats = pluginBlock(inputs, 'beats');
    expect(beats, 'beats input').to.be.a('string');
    expect(beats).to.match(/\bport\s*=>\s*5044\b/);

    // Each input names its stream; the outputs branch on it: app logs and Beats events go to separate indices.
    expect(tcp).to.match(/add_field\s*=>\s*\{\s*"\[@metadata\]\[stream\]"\s*=>\s*"app"\s*\}/);
    expect(beats).to.match(/add_field\s*=>\s*\{\s*"\[@metadata\]\[stream\]"\s*=>\s*"beats"\s*\}/);
    const appBranch = bracedBlock(output, /\bif\s*\[@metadata\]\[stream\]\s*==\s*"app"\s*\{/);
    expect(appBranch, 'output branch for the app stream').to.not.equal(undefined);
    const elasticsearch = pluginBlock(appBranch?.body ?? '', 'elasticsearch');
    expect(elasticsearch, 'elasticsearch output of the app stream').to.be.a('string');
    expect(elasticsearch).to.match(/hosts\s*=>\s*\[?\s*"http:\/\/elasticsearch:9200"/);
    expect(elasticsearch).to.match(/index\s*=>\s*"jwt-login-logs-%\{\+YYYY\.MM\.dd\}"/);

    const elseBranch = bracedBlock(output, /^\s*else\s*\{/, appBranch?.end ?? output.length);
    expect(elseBranch, 'else branch (Beats) right after it').to.not.equal(undefined);
    const beatsOutput = pluginBlock(elseBranch?.body ?? '', 'elasticsearch');
    expect(beatsOutput, 'elasticsearch output of the else (Beats) branch').to.be.a('string');
    expect(beatsOutput).to.match(/hosts\s*=>\s*\[?\s*"http:\/\/elasticsearch:9200"/);
    expect(beatsOutput).to.match(/index\s*=>\s*"beats-%\{\+YYYY\.MM\.dd\}"/);

    // The outputs install the index templates of elk/, which logstash mounts read-only where the pipeline reads them.
    const parsed = parse(rendered.stdout) as { services: Record<string, ComposeService> };
    const templates = bindMounts(parsed.services.logstash).find(
      (mount) => mount.source === join(projectRoot, 'elk', 'elasticsearch', 'index-templates'),
    );
    expect(templates?.readOnly, 'elk/elasticsearch/index-templates mounted read-only').to.equal(true);
    for (const branch of [elasticsearch, beatsOutput]) {
      const path = /\btemplate\s*=>\s*"([^"]+)"/.exec(branch ?? '')?.[1] ?? '';
      expect(path.startsWith(`${templates?.target ?? '(not mounted)'}/`), `${path} inside the mount`).to.equal(true);
      expect(readFileSync(join(templates?.source ?? '', path.split('/').pop() ?? ''), 'utf8')).to.include(
        '"index_patterns"',
      );
    }
  });

  it('publishes Elasticsearch, Logstash, Kibana, Mailpit and the metrics on 127.0.0.1 only, the API on every interface', () => {
    const rendered = compose(['config'], { ...baseEnv(), JWT_SECRET: DUMMY_SECRET });
    expect(rendered.status, rendered.stderr).to.equal(0);
    const { services } = parse(rendered.stdout) as { services: Record<string, ComposeService> };

    for (const name of ['elasticsearch', 'logstash', 'kibana', 'mailpit']) {
      const ports = publishedPorts(services[name]);
      expect(ports, `${name} publishes ports`).to.not.be.empty;
      for (const port of ports) expect(port.hostIp, `${name} ${port.published}`).to.equal('127.0.0.1');
    }
    expect(publishedPorts(services.mailpit).map((port) => port.published)).to.have.members([8025, 1025]);
    expect(publishedPorts(services.server)).to.deep.equal([
      { hostIp: undefined, published: 8000, target: 8000 },
      { hostIp: '127.0.0.1', published: 9464, target: 9464 },
    ]);
    for (const name of ['postgres', 'elk-setup']) expect(publishedPorts(services[name]), name).to.deep.equal([]);
  });

  it('starts the server once Logstash is healthy, with health checks for Logstash and Kibana', () => {
    const rendered = compose(['config'], { ...baseEnv(), JWT_SECRET: DUMMY_SECRET });
    expect(rendered.status, rendered.stderr).to.equal(0);
    const { services } = parse(rendered.stdout) as { services: Record<string, ComposeService> };

    expect(dependencyCondition(services.server, 'logstash')).to.equal('service_healthy');
    expect(dependencyCondition(services.server, 'postgres')).to.equal('service_healthy');
    expect(dependencyCondition(services.logstash, 'elasticsearch')).to.equal('service_healthy');
    expect(dependencyCondition(services.kibana, 'elasticsearch')).to.equal('service_healthy');

    const logstash = healthTest(services.logstash);
    expect(logstash).to.match(/^CMD-SHELL curl -fsS http:\/\/localhost:9600\/_node\/pipelines\/main \|/);
    const kibana = healthTest(services.kibana);
    expect(kibana).to.match(/^CMD-SHELL curl -fsS http:\/\/localhost:5601\/api\/status \|/);
    expect(kibana).to.include('"available"');
    expect(healthTest(services.elasticsearch)).to.include('_cluster/health');
    expect(healthTest(services.mailpit)).to.include('readyz');
  });

  it('runs elk-setup once Elasticsearch and Kibana are healthy, with elk/ mounted read-only', () => {
    const rendered = compose(['config'], { ...baseEnv(), JWT_SECRET: DUMMY_SECRET });
    expect(rendered.status, rendered.stderr).to.equal(0);
    const { services } = parse(rendered.stdout) as { services: Record<string, ComposeService> };
    const setup = services['elk-setup'];

    expect(dependencyCondition(setup, 'elasticsearch')).to.equal('service_healthy');
    expect(dependencyCondition(setup, 'kibana')).to.equal('service_healthy');
    expect(setup?.restart).to.equal('no');
    const elk = bindMounts(setup).find((mount) => mount.source === join(projectRoot, 'elk'));
    expect(elk, 'elk/ mounted').to.not.equal(undefined);
    expect(elk?.readOnly, 'read-only').to.equal(true);
    expect(([] as string[]).concat(setup?.entrypoint ?? []).join(' ')).to.equal(`/bin/sh ${elk?.target}/setup.sh`);
    expect(setup?.environment?.ELASTICSEARCH_URL).to.equal('http://elasticsearch:9200');
    expect(setup?.environment?.KIBANA_URL).to.equal('http://kibana:5601');
  });

  it('points the server at Mailpit', () => {
    const rendered = compose(['config'], { ...baseEnv(), JWT_SECRET: DUMMY_SECRET });
    expect(rendered.status, rendered.stderr).to.equal(0);
    const { services } = parse(rendered.stdout) as { services: Record<string, ComposeService> };

    expect(services.mailpit?.image).to.match(/^axllent\/mailpit:/);
    expect(services.server?.environment?.SMTP_URL).to.equal('smtp://mailpit:1025');
    expect(services.server?.environment?.MAIL_FROM).to.equal('jwt-login <no-reply@jwt-login.local>');
    expect(dependencyCondition(services.server, 'mailpit')).to.equal('service_started');
  });

  it('has no obsolete top-level version key', () => {
    const file = parse(readFileSync(composeFile, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(file).sort()).to.deep.equal(['services', 'volumes']);
  });

  it('refuses to render without JWT_SECRET', () => {
    const result = compose(['config', '-q'], baseEnv());

    expect(result.status).to.not.equal(0);
    expect(result.stderr).to.include('set JWT_SECRET (32+ bytes)');
  });
});
