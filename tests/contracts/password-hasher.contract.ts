import { expect } from 'chai';
import type { PasswordHasher } from '../../src/application/ports/password-hasher.js';

export interface PasswordHasherHarness {
  /** The hasher under test, with its current parameters. */
  readonly hasher: PasswordHasher;
  /** A hash of `password` made by the same kind of hasher with weaker parameters. */
  weakerHash: (password: string) => Promise<string>;
}

const PASSWORD = 'correct horse battery staple';

/** The PasswordHasher port's contract, run against the fake and argon2. */
export function passwordHasherContract(name: string, harness: () => PasswordHasherHarness): void {
  describe(`PasswordHasher contract: ${name}`, () => {
    let hasher: PasswordHasher;
    let weakerHash: (password: string) => Promise<string>;
    beforeEach(() => {
      ({ hasher, weakerHash } = harness());
    });

    it('verifies a password against its own hash', async () => {
      const hash = await hasher.hash(PASSWORD);
      expect(hash).to.be.a('string').and.not.equal(PASSWORD);
      expect(await hasher.verify(hash, PASSWORD)).to.equal(true);
    });

    it('round-trips any characters: accents, astral symbols, NUL, 128 code points', async () => {
      for (const password of ['pässwörd 😀 密码', 'nul\u0000byte-inside', '😀'.repeat(128)]) {
        expect(await hasher.verify(await hasher.hash(password), password), JSON.stringify(password)).to.equal(true);
      }
    });

    it('refuses a wrong password, also one that differs only in case, a trailing space or a last character', async () => {
      const hash = await hasher.hash(PASSWORD);
      for (const wrong of ['wrong password', PASSWORD.toUpperCase(), `${PASSWORD} `, PASSWORD.slice(0, -1), '']) {
        expect(await hasher.verify(hash, wrong), JSON.stringify(wrong)).to.equal(false);
      }
    });

    it('answers false, without throwing, for a hash it cannot read', async () => {
      for (const garbage of [
        '',
        'garbage',
        '$argon2id$v=19$m=1024,t=1,p=1$bad$bad',
        '$2b$10$abcdefghijklmnopqrstuuB6Jp0T1W3y',
        'fake$',
        PASSWORD,
      ]) {
        expect(await hasher.verify(garbage, PASSWORD), JSON.stringify(garbage)).to.equal(false);
      }
    });

    it('has a dummy hash that no ordinary password matches', async () => {
      const dummy = await hasher.dummyHash();
      for (const password of ['', PASSWORD, 'password', 'dummy', dummy]) {
        expect(await hasher.verify(dummy, password), JSON.stringify(password)).to.equal(false);
      }
    });

    it('answers the same dummy hash every time', async () => {
      const first = await hasher.dummyHash();
      expect(await hasher.dummyHash()).to.equal(first);
    });

    it('makes a dummy hash with the current parameters, so it costs what a real one does', async () => {
      expect(hasher.needsRehash(await hasher.dummyHash())).to.equal(false);
    });

    it('needs no rehash for a hash of its own, and a rehash for one with weaker parameters', async () => {
      expect(hasher.needsRehash(await hasher.hash(PASSWORD))).to.equal(false);
      expect(hasher.needsRehash(await weakerHash(PASSWORD))).to.equal(true);
    });

    it('still verifies a weaker hash, so the user can log in and be upgraded', async () => {
      const weak = await weakerHash(PASSWORD);
      expect(await hasher.verify(weak, PASSWORD)).to.equal(true);
      expect(await hasher.verify(weak, 'wrong password')).to.equal(false);
    });

    it('needs a rehash for a hash it cannot read', () => {
      expect(hasher.needsRehash('garbage')).to.equal(true);
    });

    it('recognizes its own hashes, weaker ones and its dummy hash, and no garbage', async () => {
      expect(hasher.recognizes(await hasher.hash(PASSWORD))).to.equal(true);
      expect(hasher.recognizes(await weakerHash(PASSWORD))).to.equal(true);
      expect(hasher.recognizes(await hasher.dummyHash())).to.equal(true);
      for (const garbage of ['', 'garbage', '$2b$10$short', '$pbkdf2-sha512$25000$$', 'fake$', PASSWORD]) {
        expect(hasher.recognizes(garbage), JSON.stringify(garbage)).to.equal(false);
      }
    });
  });
}
