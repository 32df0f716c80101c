import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { sql } from 'slonik';
import { z } from 'zod';
import { type ServiceConfig, loadConfig } from '../../src/infrastructure/config/config.js';
import { openSigningKeys } from '../../src/infrastructure/persistence/signing-keys.js';
import { KeyMaterialError, jwkThumbprint } from '../../src/infrastructure/security/key-ring.js';
import { MemoryLogger } from '../fakes/memory-logger.js';
import { type TestDatabase, createTestDatabase } from '../support/database.js';
import { TEST_SECRET, testEnvironment } from '../support/test-app.js';

const KEY_SECRET = 'integration-key-encryption-secret-32-bytes';
const NOW = Date.now();

const rows = (database: TestDatabase) =>
  database.pool.any(
    sql.type(z.object({ kid: z.string(), algorithm: z.string(), private_key: z.string().nullable() }))`
      SELECT kid, algorithm, private_key FROM signing_keys ORDER BY created_at`,
  );

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('signing keys: where they live (issue 10, point 2)', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let directory: string;
  const configWith = (env: Record<string, string>, changes: Partial<ServiceConfig['signing']> = {}): ServiceConfig => {
    const config = loadConfig(testEnvironment(database.uri, { DATA_DIR: directory, ...env }));
    return { ...config, jwtSecret: TEST_SECRET, signing: { ...config.signing, ...changes } };
  };
  const open = (config: ServiceConfig) => openSigningKeys(config, database.pool, NOW, new MemoryLogger());

  beforeEach(async () => {
    database = await createTestDatabase();
    directory = await mkdtemp(path.join(tmpdir(), 'jwt-login-signing-'));
  });
  afterEach(async () => {
    await database.drop();
    await rm(directory, { recursive: true, force: true });
  });

  it('makes one ES256 key when none exists, sealed in PostgreSQL; every instance then loads the same one', async () => {
    const config = configWith({ JWT_ALGORITHM: 'ES256', KEY_ENCRYPTION_SECRET: KEY_SECRET });
    const [first, second] = await Promise.all([open(config), open(config)]);
    const stored = await rows(database);
    expect(stored).to.have.length(1);
    expect(stored[0]!.algorithm).to.equal('ES256');
    expect(stored[0]!.private_key).to.match(/^v1\./).and.not.contain('PRIVATE KEY');
    expect(first.ring.signingKey(NOW).kid).to.equal(stored[0]!.kid);
    expect(second.ring.signingKey(NOW).kid).to.equal(stored[0]!.kid);
    const again = await open(config);
    expect(again.ring.signingKey(NOW).kid).to.equal(stored[0]!.kid);
    expect(await rows(database)).to.have.length(1);
  });

  it('stops with one line when KEY_ENCRYPTION_SECRET is not the one the keys were sealed with', async () => {
    await open(configWith({ JWT_ALGORITHM: 'ES256', KEY_ENCRYPTION_SECRET: KEY_SECRET }));
    const error = await rejection(
      open(configWith({ JWT_ALGORITHM: 'ES256', KEY_ENCRYPTION_SECRET: `${KEY_SECRET}-changed` })),
    );
    expect(error).to.be.instanceOf(KeyMaterialError);
    expect(error.message)
      .to.match(/^KEY_ENCRYPTION_SECRET does not decrypt signing key /)
      .and.not.contain('\n');
  });

  it('without KEY_ENCRYPTION_SECRET (embedded mode) keeps the private key in DATA_DIR/keys, mode 0600', async () => {
    const config = configWith(
      { JWT_ALGORITHM: 'RS256', KEY_ENCRYPTION_SECRET: KEY_SECRET },
      { keyEncryptionSecret: undefined },
    );
    const keys = await open(config);
    const [row] = await rows(database);
    expect(row!.private_key).to.equal(null);
    const file = path.join(directory, 'keys', `${row!.kid}.pem`);
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    expect(keys.ring.signingKey(NOW).algorithm).to.equal('RS256');
    await rm(file);
    expect((await rejection(open(config))).message).to.match(/is missing: .*\.pem does not exist$/);
  });

  it('a change of JWT_ALGORITHM makes a key of the new one; the old key verifies for one more access lifespan', async () => {
    const es = await open(configWith({ JWT_ALGORITHM: 'ES256', KEY_ENCRYPTION_SECRET: KEY_SECRET }));
    const oldKid = es.ring.signingKey(NOW).kid;
    const rs = await open(configWith({ JWT_ALGORITHM: 'RS256', KEY_ENCRYPTION_SECRET: KEY_SECRET }));
    expect(rs.ring.signingKey(NOW).algorithm).to.equal('RS256');
    expect(rs.ring.verifyingKey(oldKid, NOW)?.algorithm).to.equal('ES256');
    expect(rs.ring.verifyingKey(oldKid, NOW + 900_000 + 1000)).to.equal(undefined);
  });

  describe('PEM files given in config', () => {
    const write = async (name: string, pem: string) => {
      const file = path.join(directory, name);
      await writeFile(file, pem, { mode: 0o600 });
      return file;
    };
    const pemOf = (
      key: { export(options: { format: 'pem'; type: 'pkcs8' | 'spki' }): string | Buffer },
      type: 'pkcs8' | 'spki',
    ) => key.export({ format: 'pem', type }).toString();

    it('are used as they are: the kid is the RFC 7638 thumbprint, and nothing is stored', async () => {
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const privateFile = await write('private.pem', pemOf(pair.privateKey, 'pkcs8'));
      const publicFile = await write('public.pem', pemOf(pair.publicKey, 'spki'));
      const keys = await open(
        configWith({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY_FILE: privateFile, JWT_PUBLIC_KEY_FILE: publicFile }),
      );
      expect(keys.source).to.equal('files');
      expect(keys.ring.signingKey(NOW).kid).to.equal(jwkThumbprint(pair.publicKey));
      expect(await rows(database)).to.deep.equal([]);
    });

    it('a missing, wrong-curve, short, private-less or mismatched key stops the start with one line', async () => {
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
      const shortRsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const otherEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const cases: [Record<string, string>, RegExp][] = [
        [{ JWT_PRIVATE_KEY_FILE: path.join(directory, 'absent.pem') }, /absent\.pem cannot be read \(ENOENT\)$/],
        [
          { JWT_PRIVATE_KEY_FILE: await write('p384.pem', pemOf(p384.privateKey, 'pkcs8')) },
          /ES256 needs an EC P-256 key/,
        ],
        [{ JWT_PRIVATE_KEY_FILE: await write('junk.pem', 'not a key') }, /does not hold a PEM key$/],
        [
          {
            JWT_PRIVATE_KEY_FILE: await write('ec.pem', pemOf(ec.privateKey, 'pkcs8')),
            JWT_PUBLIC_KEY_FILE: await write('other.pub', pemOf(otherEc.publicKey, 'spki')),
          },
          /is not the public half of JWT_PRIVATE_KEY_FILE/,
        ],
      ];
      for (const [env, message] of cases) {
        const error = await rejection(open(configWith({ JWT_ALGORITHM: 'ES256', ...env })));
        expect(error, message.source).to.be.instanceOf(KeyMaterialError);
        expect(error.message).to.match(message).and.not.contain('\n');
      }
      const short = await rejection(
        open(
          configWith({
            JWT_ALGORITHM: 'RS256',
            JWT_PRIVATE_KEY_FILE: await write('short.pem', pemOf(shortRsa.privateKey, 'pkcs8')),
          }),
        ),
      );
      expect(short.message).to.match(/RS256 needs an RSA key of at least 2048 bits \(got 1024\)/);
      const publicOnly = await rejection(
        open(
          configWith({
            JWT_ALGORITHM: 'ES256',
            JWT_PRIVATE_KEY_FILE: await write('pub-as-private.pem', pemOf(ec.publicKey, 'spki')),
          }),
        ),
      );
      expect(publicOnly.message).to.match(/does not hold a PEM key|holds no private key/);
    });

    it('the service refuses to start with a bad key file: exit code 1 and one line on stderr', async () => {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
          env: {
            PATH: process.env.PATH,
            ...testEnvironment(database.uri, {
              JWT_ALGORITHM: 'ES256',
              JWT_PRIVATE_KEY_FILE: path.join(directory, 'nowhere.pem'),
            }),
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      });
      expect(result.code).to.equal(1);
      expect(result.stderr).to.match(
        /^jwt-login: failed to start: JWT_PRIVATE_KEY_FILE \S+nowhere\.pem cannot be read \(ENOENT\)\n$/,
      );
    });
  });
});
