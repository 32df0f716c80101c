import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { KeyFiles, SealedKeyProtection } from '../../../src/infrastructure/security/key-protection.js';
import { KeyMaterialError } from '../../../src/infrastructure/security/key-ring.js';

const SECRET = 'key-encryption-secret-of-32-bytes-or-more';
const PEM =
  '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('private signing keys at rest', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'jwt-login-keys-'));
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  describe('SealedKeyProtection (AES-256-GCM under KEY_ENCRYPTION_SECRET)', () => {
    it('seals a key into text that holds no part of it, and opens it again', async () => {
      const protection = new SealedKeyProtection(SECRET, new KeyFiles(directory));
      const sealed = await protection.seal('kid-1', PEM);
      expect(sealed).to.be.a('string').and.match(/^v1\./);
      expect(sealed).to.not.contain('PRIVATE KEY');
      expect(sealed).to.not.contain('MIGHAgEAMBMGByqGSM49');
      expect(await protection.open('kid-1', sealed)).to.equal(PEM);
      expect(await protection.seal('kid-1', PEM), 'a fresh IV each time').to.not.equal(sealed);
    });

    it('refuses to open with another secret, under another kid, or after tampering, with one line', async () => {
      const sealed = (await new SealedKeyProtection(SECRET, new KeyFiles(directory)).seal('kid-1', PEM))!;
      const other = new SealedKeyProtection(`${SECRET}-but-another`, new KeyFiles(directory));
      const wrong = await rejection(other.open('kid-1', sealed));
      expect(wrong).to.be.instanceOf(KeyMaterialError);
      expect(wrong.message)
        .to.match(/^KEY_ENCRYPTION_SECRET does not decrypt signing key kid-1/)
        .and.not.contain('\n');
      const same = new SealedKeyProtection(SECRET, new KeyFiles(directory));
      expect(await rejection(same.open('kid-2', sealed))).to.be.instanceOf(KeyMaterialError);
      const parts = sealed.split('.');
      const body = parts[3]!;
      parts[3] = `${body.startsWith('A') ? 'B' : 'A'}${body.slice(1)}`;
      expect(await rejection(same.open('kid-1', parts.join('.')))).to.be.instanceOf(KeyMaterialError);
    });

    it('refuses a secret under 32 bytes', () => {
      expect(() => new SealedKeyProtection('s'.repeat(31), new KeyFiles(directory))).to.throw(KeyMaterialError);
    });
  });

  describe('KeyFiles (DATA_DIR/keys in embedded mode)', () => {
    it('writes each key to <kid>.pem with mode 0600 in a 0700 directory, and reads it back', async () => {
      const files = new KeyFiles(path.join(directory, 'keys'));
      expect(await files.seal('kid-1', PEM)).to.equal(null);
      const file = path.join(directory, 'keys', 'kid-1.pem');
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
      expect((await stat(path.join(directory, 'keys'))).mode & 0o777).to.equal(0o700);
      expect(await readFile(file, 'utf8')).to.equal(PEM);
      expect(await files.open('kid-1', null)).to.equal(PEM);
    });

    it('refuses a missing file, a file others can read, and a key sealed in the database, each with one line', async () => {
      const files = new KeyFiles(directory);
      expect((await rejection(files.open('gone', null))).message).to.match(/signing key gone is missing/);
      await writeFile(path.join(directory, 'open.pem'), PEM);
      await chmod(path.join(directory, 'open.pem'), 0o644);
      expect((await rejection(files.open('open', null))).message).to.match(/readable by group or others \(mode 644\)/);
      expect((await rejection(files.open('sealed', 'v1.a.b.c'))).message).to.match(/set KEY_ENCRYPTION_SECRET/);
    });

    it('refuses a kid that could name another path', async () => {
      expect(await rejection(new KeyFiles(directory).open('../x', null))).to.be.instanceOf(KeyMaterialError);
    });
  });
});
