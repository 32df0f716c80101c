import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

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

/** Published host ports of a service block: long syntax, `published: 8000` (quoted by Compose v2). */
function publishedPorts(block: string | undefined): number[] {
  return [...(block ?? '').matchAll(/^\s+-?\s*published:\s*["']?(\d+)["']?\s*$/gm)].map(([, port]) => Number(port));
}

/** Body of the first `name { ... }` block of a Logstash pipeline; braces inside quoted strings do not count. */
function pluginBlock(pipeline: string, name: string): string | undefined {
  const start = new RegExp(`\\b${name}\\s*\\{`).exec(pipeline);
  if (start === null) return undefined;
  const bodyStart = start.index + start[0].length;
  let depth = 1;
  let quote: string | undefined;
  for (let i = bodyStart; i < pipeline.length; i += 1) {
    const char = pipeline[i];
    if (quote !== undefined) {
      if (char === '\\') i += 1;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '{') {
      depth += 1;
    } else if (char === '}') {
      depth -= 1;
      if (depth === 0) return pipeline.slice(bodyStart, i);
    }
  }
  return undefined;
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
      'kibana',
      'logstash',
      'postgres',
      'server',
    ]);

    const blocks = serviceBlocks(config);
    expect(publishedPorts(blocks.get('server'))).to.have.members([8000]);
    expect(publishedPorts(blocks.get('logstash'))).to.have.members([5000, 5044, 9600]);
    expect(publishedPorts(blocks.get('elasticsearch'))).to.have.members([9200, 9300]);
    expect(publishedPorts(blocks.get('kibana'))).to.have.members([5601]);
    const allPublished = [...blocks.values()].flatMap(publishedPorts);
    expect(allPublished).to.include.members([8000, 5000, 5044, 9600, 9200, 9300, 5601]);

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

    const elasticsearch = pluginBlock(output, 'elasticsearch');
    expect(elasticsearch, 'elasticsearch output').to.be.a('string');
    expect(elasticsearch).to.match(/hosts\s*=>\s*\[?\s*"http:\/\/elasticsearch:9200"/);
    expect(elasticsearch).to.match(/index\s*=>\s*"jwt-login-%\{\+YYYY\.MM\.dd\}"/);
  });

  it('refuses to render without JWT_SECRET', () => {
    const result = compose(['config', '-q'], baseEnv());

    expect(result.status).to.not.equal(0);
    expect(result.stderr).to.include('set JWT_SECRET (32+ bytes)');
  });
});
