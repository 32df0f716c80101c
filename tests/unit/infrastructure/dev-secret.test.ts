import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { SecretFileError, loadOrCreateDevSecret } from '../../../src/infrastructure/config/dev-secret.js';
import { JwtTokenSigner } from '../../../src/infrastructure/security/jwt-token-signer.js';

describe('the generated development secret (DATA_DIR/jwt-secret)', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'jwt-login-secret-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  const secretFile = () => path.join(directory, 'data', 'jwt-secret');
  const write = (content: string, mode = 0o600) => {
    mkdirSync(path.dirname(secretFile()), { recursive: true, mode: 0o700 });
    writeFileSync(secretFile(), content, { mode });
    chmodSync(secretFile(), mode);
  };
  const refusal = async () => {
    try {
      await loadOrCreateDevSecret(path.dirname(secretFile()));
    } catch (error) {
      expect(error).to.be.instanceOf(SecretFileError);
      expect((error as Error).message, 'one line').to.not.include('\n');
      return (error as Error).message;
    }
    return expect.fail('the secret file was accepted');
  };

  it('is created with 48 random bytes, mode 0600, in a directory of mode 0700, and read back', async () => {
    const created = await loadOrCreateDevSecret(path.dirname(secretFile()));
    expect(created.created).to.equal(true);
    expect(Buffer.byteLength(created.secret)).to.be.at.least(32);
    expect(statSync(secretFile()).mode & 0o777).to.equal(0o600);
    expect(statSync(path.dirname(secretFile())).mode & 0o777).to.equal(0o700);
    expect(await loadOrCreateDevSecret(path.dirname(secretFile()))).to.deep.equal({
      secret: created.secret,
      created: false,
    });
  });

  for (const [name, content] of [
    ['empty', ''],
    ['whitespace only', ' \n\t\n'],
    ['one byte', 'x'],
    ['31 bytes', 'k'.repeat(31)],
  ] as const) {
    it(`refuses a file that is ${name}, with one line saying to remove it`, async () => {
      write(content);
      expect(await refusal()).to.match(/jwt-secret holds fewer than 32 bytes; remove it/);
    });
  }

  it('accepts 32 bytes', async () => {
    write(`${'k'.repeat(32)}\n`);
    expect((await loadOrCreateDevSecret(path.dirname(secretFile()))).secret).to.equal('k'.repeat(32));
  });

  for (const mode of [0o644, 0o640, 0o604, 0o660]) {
    it(`refuses a file readable or writable by group or others (mode 0${mode.toString(8)})`, async () => {
      write('s'.repeat(48), mode);
      expect(await refusal()).to.include(`readable by group or others (mode ${mode.toString(8)}); chmod 600 it`);
    });
  }

  it('refuses a jwt-secret that cannot be read as a file', async () => {
    mkdirSync(secretFile(), { recursive: true });
    expect(await refusal()).to.include('is not a file');
  });
});

describe('JwtTokenSigner refuses a short key, whatever path it came from', () => {
  for (const length of [0, 1, 16, 31]) {
    it(`refuses a ${length}-byte key`, () => {
      expect(() => new JwtTokenSigner({ secret: 'k'.repeat(length), issuer: 'jwt-login' })).to.throw(
        RangeError,
        /at least 32 bytes/,
      );
      expect(() => new JwtTokenSigner({ secret: Buffer.alloc(length, 1), issuer: 'jwt-login' })).to.throw(RangeError);
    });
  }
  it('accepts 32 bytes', () => {
    expect(() => new JwtTokenSigner({ secret: 'k'.repeat(32), issuer: 'jwt-login' })).to.not.throw();
  });
});
