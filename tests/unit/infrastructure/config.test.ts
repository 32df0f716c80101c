import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig, loadEnvFile } from '../../../src/infrastructure/config/config.js';

const SECRET = 'a-production-secret-that-is-32-bytes+';

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error, 'a ConfigError').to.be.instanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message, 'one line').to.not.match(/[\r\n\u2028\u2029]/);
    return message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('config: loadConfig', () => {
  it('has the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect({
      port: config.port,
      host: config.host,
      access: config.accessLifespanSeconds,
      refresh: config.refreshLifespanSeconds,
      databaseUrl: config.databaseUrl,
      jwtSecret: config.jwtSecret,
      dataDir: config.dataDir,
      logLevel: config.logLevel,
      logstash: config.logstash,
      corsOrigins: config.corsOrigins,
    }).to.deep.equal({
      port: 8000,
      host: '0.0.0.0',
      access: 900,
      refresh: 30 * 86400,
      databaseUrl: undefined,
      jwtSecret: undefined,
      dataDir: './.data',
      logLevel: 'info',
      logstash: undefined,
      corsOrigins: '*',
    });
    expect(config.argon2).to.deep.equal({ memoryCost: 65536, timeCost: 3, parallelism: 4 });
    expect(config.purge).to.deep.equal({ retentionMs: 7 * 86_400_000, intervalMs: 600_000, batchSize: 1000 });
    expect(config.legacyTokens, 'flask-praetorian tokens are refused unless asked for').to.equal(undefined);
  });

  it('reads flask-praetorian tokens only with LEGACY_TOKENS=praetorian', () => {
    expect(loadConfig({ LEGACY_TOKENS: 'praetorian' }).legacyTokens).to.equal('praetorian');
    expect(loadConfig({ LEGACY_TOKENS: 'off' }).legacyTokens).to.equal(undefined);
  });

  it('turns purging off with PURGE_INTERVAL=off', () => {
    expect(loadConfig({ PURGE_INTERVAL: 'off' }).purge.intervalMs).to.equal(undefined);
    expect(loadConfig({ PURGE_INTERVAL: '1h', PURGE_AFTER: '1d' }).purge).to.deep.include({
      intervalMs: 3_600_000,
      retentionMs: 86_400_000,
    });
  });

  for (const [text, seconds] of [
    ['900', 900],
    ['90s', 90],
    ['15m', 900],
    ['24h', 86400],
    ['30d', 2592000],
  ] as const) {
    it(`parses the duration "${text}" as ${seconds} seconds, for both lifespans`, () => {
      expect(loadConfig({ JWT_ACCESS_LIFESPAN: text }).accessLifespanSeconds).to.equal(seconds);
      expect(loadConfig({ JWT_ACCESS_LIFESPAN: '60', JWT_REFRESH_LIFESPAN: text }).refreshLifespanSeconds).to.equal(
        seconds,
      );
    });
  }

  it('reads the other variables it is given', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgresql://app:pw@db:5432/app',
      JWT_SECRET: SECRET,
      LOG_LEVEL: 'debug',
      LOGSTASH_HOST: 'logstash',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:3000',
    });
    expect([config.port, config.host, config.databaseUrl, config.jwtSecret, config.logLevel]).to.deep.equal([
      9000,
      '127.0.0.1',
      'postgresql://app:pw@db:5432/app',
      SECRET,
      'debug',
    ]);
    expect(config.logstash).to.deep.equal({ host: 'logstash', port: 5000 });
    expect(config.corsOrigins).to.deep.equal(['https://app.example.com', 'http://localhost:3000']);
  });

  const bad: [string, Record<string, string>][] = [
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['JWT_ACCESS_LIFESPAN', { JWT_ACCESS_LIFESPAN: 'soon' }],
    ['JWT_ACCESS_LIFESPAN', { JWT_ACCESS_LIFESPAN: '0' }],
    ['JWT_REFRESH_LIFESPAN', { JWT_REFRESH_LIFESPAN: '15 minutes' }],
    ['JWT_SECRET', { JWT_SECRET: 'x'.repeat(31) }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://root:hunter2@db/app', JWT_SECRET: SECRET }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['PURGE_INTERVAL', { PURGE_INTERVAL: 'never' }],
    ['LEGACY_TOKENS', { LEGACY_TOKENS: 'flask' }],
    ['PURGE_AFTER', { PURGE_AFTER: 'off' }],
    ['PURGE_BATCH_SIZE', { PURGE_BATCH_SIZE: '0' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'not-an-origin' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'https://ok.example.com,app.example.com' }],
    ['JWT_ALGORITHM', { JWT_ALGORITHM: 'EdDSA' }],
    ['JWT_ALGORITHM', { JWT_ALGORITHM: 'HS512' }],
    ['KEY_ENCRYPTION_SECRET', { KEY_ENCRYPTION_SECRET: 'k'.repeat(31) }],
    ['KEY_ENCRYPTION_SECRET', { JWT_ALGORITHM: 'ES256', DATABASE_URL: 'postgres://db/app', JWT_SECRET: SECRET }],
    ['JWT_PRIVATE_KEY_FILE', { JWT_PRIVATE_KEY_FILE: '/keys/private.pem' }],
    ['JWT_PUBLIC_KEY_FILE', { JWT_ALGORITHM: 'ES256', JWT_PUBLIC_KEY_FILE: '/keys/public.pem' }],
    ['KEY_PUBLISH_DELAY', { KEY_PUBLISH_DELAY: '5m', JWKS_MAX_AGE: '5m' }],
    ['INTROSPECTION_CLIENTS', { INTROSPECTION_CLIENTS: 'billing:short' }],
    ['INTROSPECTION_CLIENTS', { INTROSPECTION_CLIENTS: 'billing' }],
    ['REFRESH_REUSE_GRACE', { REFRESH_REUSE_GRACE: 'ten' }],
    ['REFRESH_REUSE_GRACE', { REFRESH_REUSE_GRACE: '2h' }],
    ['LOG_FORMAT', { LOG_FORMAT: 'colour' }],
    ['METRICS_PORT', { METRICS_PORT: 'on' }],
  ];

  it('reads REFRESH_REUSE_GRACE with the duration syntax of the other durations, 0 included', () => {
    const grace = (text: string) => loadConfig({ REFRESH_REUSE_GRACE: text }).refreshReuseGraceSeconds;
    expect(['10', '10s', '1m', '1h', '0', '0s'].map(grace)).to.deep.equal([10, 10, 60, 3600, 0, 0]);
    expect(loadConfig({}).refreshReuseGraceSeconds).to.equal(10);
  });
  for (const [variable, env] of bad) {
    it(`refuses ${JSON.stringify(env)} with one line naming ${variable}`, () => {
      const message = refusal(env);
      expect(message.startsWith(`${variable} `), message).to.equal(true);
      expect(message.length).to.be.greaterThan(variable.length + 10);
    });
  }

  it('refuses a 31-byte JWT_SECRET and accepts 32 bytes, counting UTF-8 bytes not characters', () => {
    expect(refusal({ JWT_SECRET: 'x'.repeat(31) })).to.include('32 bytes');
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(32) }).jwtSecret).to.equal('x'.repeat(32));
    expect(loadConfig({ JWT_SECRET: 'é'.repeat(16) }).jwtSecret, '16 characters, 32 bytes').to.equal('é'.repeat(16));
    refusal({ JWT_SECRET: `  ${'x'.repeat(31)}  ` });
  });

  it('never echoes JWT_SECRET in an error message', () => {
    const short = 'short-but-secret-value-123';
    expect(refusal({ JWT_SECRET: short })).to.not.include(short);
    expect(refusal({ JWT_SECRET: SECRET, PORT: 'abc' })).to.not.include(SECRET);
    expect(refusal({ JWT_SECRET: SECRET, LOG_LEVEL: 'loud' })).to.not.include(SECRET);
    expect(refusal({ JWT_SECRET: SECRET, CORS_ORIGINS: 'nope' })).to.not.include(SECRET);
  });

  it('never echoes a DATABASE_URL (it holds a password) in an error message', () => {
    expect(refusal({ DATABASE_URL: 'mysql://root:hunter2@db/app', JWT_SECRET: SECRET })).to.not.include('hunter2');
  });

  it('refuses DATABASE_URL without JWT_SECRET, naming JWT_SECRET', () => {
    const message = refusal({ DATABASE_URL: 'postgres://app:pw@db:5432/app' });
    expect(message).to.match(/^JWT_SECRET /);
    expect(message).to.not.include('pw@db');
  });

  it('keeps a bad LOG_LEVEL on one line when the value contains a line break', () => {
    const message = refusal({ LOG_LEVEL: 'loud\nFAKE LOG LINE' });
    expect(message).to.match(/^LOG_LEVEL /);
  });

  it('keeps a bad value on one line even when it contains a line break (PORT, CORS_ORIGINS)', () => {
    expect(refusal({ PORT: '80\n80' })).to.match(/^PORT /);
    expect(refusal({ CORS_ORIGINS: 'https://a.example.com\nx' })).to.match(/^CORS_ORIGINS /);
  });

  it('says why EdDSA is not offered', () => {
    expect(refusal({ JWT_ALGORITHM: 'EdDSA' })).to.match(/jsonwebtoken 9 cannot sign or verify it/);
  });

  it('reads the signing and introspection variables, never echoing a key secret or a client secret', () => {
    const config = loadConfig({
      JWT_ALGORITHM: 'RS256',
      DATABASE_URL: 'postgres://db/app',
      JWT_SECRET: SECRET,
      KEY_ENCRYPTION_SECRET: 'e'.repeat(32),
      KEY_PUBLISH_DELAY: '20m',
      JWKS_MAX_AGE: '1m',
      INTROSPECTION_CLIENTS: 'billing:billing-secret-0123456789, mail:mail-secret-0123456789',
    });
    expect(config.signing).to.deep.include({ algorithm: 'RS256', publishDelaySeconds: 1200, jwksMaxAgeSeconds: 60 });
    expect(config.introspectionClients).to.deep.equal([
      { id: 'billing', secret: 'billing-secret-0123456789' },
      { id: 'mail', secret: 'mail-secret-0123456789' },
    ]);
    expect(refusal({ KEY_ENCRYPTION_SECRET: 'secret-key-31-bytes-long-123456' })).to.not.contain('secret-key');
    expect(refusal({ INTROSPECTION_CLIENTS: 'billing:short-secret' })).to.not.contain('short-secret');
  });

  it('refuses an access lifespan longer than the refresh lifespan', () => {
    expect(refusal({ JWT_ACCESS_LIFESPAN: '31d' })).to.match(/^JWT_ACCESS_LIFESPAN /);
  });

  it('returns a frozen configuration, nested objects included', () => {
    const config = loadConfig({ LOGSTASH_HOST: 'logstash', CORS_ORIGINS: 'https://a.example.com' });
    expect(Object.isFrozen(config)).to.equal(true);
    expect(Object.isFrozen(config.argon2)).to.equal(true);
    expect(Object.isFrozen(config.logstash)).to.equal(true);
    expect(Object.isFrozen(config.corsOrigins)).to.equal(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).to.throw(TypeError);
    expect(config.port).to.equal(8000);
  });

  it('does not read process.env: only the environment it is given', () => {
    const saved = process.env.PORT;
    process.env.PORT = '1234';
    try {
      expect(loadConfig({}).port).to.equal(8000);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });
});

describe('config: a short JWT_SECRET (issue 4, item 4)', () => {
  const base = { DATABASE_URL: 'postgres://jwt:jwt@127.0.0.1:1/jwt' };

  const configError = (secret: string): ConfigError => {
    try {
      loadConfig({ ...base, JWT_SECRET: secret });
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      return error as ConfigError;
    }
    expect.fail(`a ${Buffer.byteLength(secret)}-byte JWT_SECRET was accepted`);
  };

  for (const [name, secret] of [
    ['31 ASCII bytes', 'x'.repeat(31)],
    ['15 two-byte characters (30 bytes)', 'é'.repeat(15)],
    ['a common weak secret', 'secret'],
    ['31 bytes padded with spaces to 35', `  ${'k'.repeat(31)}  `],
  ] as const) {
    it(`refuses ${name} with a ConfigError naming JWT_SECRET, without echoing it`, () => {
      const error = configError(secret);
      expect(error.message).to.match(/^JWT_SECRET /);
      expect(error.message).to.include('32 bytes');
      expect(error.message).to.not.include(secret.trim());
    });
  }

  it('accepts exactly 32 bytes', () => {
    expect(loadConfig({ ...base, JWT_SECRET: 'k'.repeat(32) }).jwtSecret).to.equal('k'.repeat(32));
  });
});

describe('loadEnvFile (.env)', () => {
  const names = ['JWT_LOGIN_ENV_FILE_ONLY', 'JWT_LOGIN_ENV_BOTH'] as const;
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'jwt-login-env-'));
  });

  afterEach(() => {
    for (const name of names) delete process.env[name];
    rmSync(directory, { recursive: true, force: true });
  });

  it('reads the file into the environment when it exists; a variable set in the real environment wins', () => {
    const file = join(directory, '.env');
    writeFileSync(file, '# a comment\nJWT_LOGIN_ENV_FILE_ONLY=from-file\nJWT_LOGIN_ENV_BOTH="from file"\n');
    process.env.JWT_LOGIN_ENV_BOTH = 'from-the-environment';
    expect(loadEnvFile(file)).to.equal(true);
    expect(process.env.JWT_LOGIN_ENV_FILE_ONLY).to.equal('from-file');
    expect(process.env.JWT_LOGIN_ENV_BOTH).to.equal('from-the-environment');
  });

  it('does nothing without a file', () => {
    expect(loadEnvFile(join(directory, '.env'))).to.equal(false);
    expect(process.env.JWT_LOGIN_ENV_FILE_ONLY).to.equal(undefined);
  });
});
