import { expect } from 'chai';
import { Argon2PasswordHasher } from '../../src/infrastructure/security/argon2-password-hasher.js';
import { PasslibPasswordHasher } from '../../src/infrastructure/security/passlib-password-hasher.js';
import { ShaCryptWorkers } from '../../src/infrastructure/security/sha-crypt-workers.js';
import { PRAETORIAN_SCHEMES, type LegacyHashes, legacyHashes, wrongPassword } from '../support/passlib.js';

/** Cheap, but above passlib's cheap argon2 (t=1), as ours are above its defaults (t=2) in production. */
const CHEAP = { memoryCost: 1024, timeCost: 2, parallelism: 1 };

/** flask-praetorian's hashes, made by the real passlib (python3), read by the PasslibPasswordHasher. */
describe('PasslibPasswordHasher against the real passlib', function () {
  // passlib's default SHA-crypt rounds cost seconds in JavaScript (unixcrypt), more on a loaded machine.
  this.timeout(180_000);
  let made: LegacyHashes;
  let workers: ShaCryptWorkers;
  let hasher: PasslibPasswordHasher;

  before(() => {
    made = legacyHashes();
    if (made.source === 'vectors') {
      console.log(
        '    passlib (python3 with python3-passlib, -argon2, -bcrypt) is missing: using the committed vectors',
      );
    }
    workers = new ShaCryptWorkers(2);
    hasher = new PasslibPasswordHasher(new Argon2PasswordHasher(CHEAP), workers);
  });

  after(async () => {
    await workers?.close();
  });

  for (const scheme of PRAETORIAN_SCHEMES) {
    it(`accepts the right password and refuses a wrong one for ${scheme} hashes`, async () => {
      const ofScheme = made.hashes.filter((entry) => entry.scheme === scheme);
      expect(ofScheme.map((entry) => entry.cost)).to.deep.equal(['default', 'cheap']);
      const results = await Promise.all(
        ofScheme.flatMap((entry) => [
          hasher.verify(entry.hash, entry.password.normalize('NFKC'), entry.password),
          hasher.verify(entry.hash, wrongPassword(entry.password).normalize('NFKC'), wrongPassword(entry.password)),
        ]),
      );
      expect(results, ofScheme.map((entry) => entry.hash.slice(0, 20)).join(' ')).to.deep.equal([
        true,
        false,
        true,
        false,
      ]);
      for (const entry of ofScheme) {
        expect(hasher.recognizes(entry.hash), entry.hash).to.equal(true);
        // passlib's argon2 hashes are argon2id PHC strings: upgraded when weaker than the current parameters only.
        if (scheme !== 'argon2') expect(hasher.needsRehash(entry.hash), entry.hash).to.equal(true);
      }
    });
  }

  it('verifies a legacy hash against the password as typed, not its NFKC form (praetorian hashed it as given)', async () => {
    const entry = made.hashes.find((candidate) => candidate.scheme === 'pbkdf2_sha512' && candidate.cost === 'cheap')!;
    expect(entry.password.normalize('NFKC')).to.not.equal(entry.password);
    expect(await hasher.verify(entry.hash, entry.password.normalize('NFKC'))).to.equal(false);
    expect(await hasher.verify(entry.hash, entry.password.normalize('NFKC'), entry.password)).to.equal(true);
  });

  it('reads the example of issue 13: pbkdf2_sha512 of Correct-Horse-9!', async () => {
    const hash =
      '$pbkdf2-sha512$25000$7/1fq7XWGkMIoXROiVFqbQ$01lBBbPcJ2S8oucXLaMPnRaG2FnMtE/UHNOpiYovk6TG/qLZ.co6E/1JpTZiwJyfazySKES4QWuxPKqLBj6omw';
    expect(await hasher.verify(hash, 'Correct-Horse-9!')).to.equal(true);
    expect(await hasher.verify(hash, 'Correct-Horse-9?')).to.equal(false);
  });

  it('does not recognize, and never matches, legacy hashes that do not parse or cost too much', async () => {
    const pbkdf2 = made.hashes.find((entry) => entry.scheme === 'pbkdf2_sha512')!;
    const bcrypt = made.hashes.find((entry) => entry.scheme === 'bcrypt')!;
    const broken = [
      pbkdf2.hash.slice(0, -2),
      pbkdf2.hash.replace(/\$25000\$/, '$999999999$'),
      pbkdf2.hash.replace(/\$[^$]+$/, '$!!!'),
      '$6$rounds=999999999$salt$' + 'a'.repeat(86),
      '$5$rounds=10$salt$' + 'a'.repeat(43),
      '$6$salt$short',
      bcrypt.hash.replace('$12$', '$31$'),
      bcrypt.hash.slice(0, -1),
      '$bcrypt-sha256$v=2,t=2b,r=12$short$short',
      '$bcrypt-sha256$v=3,t=2b,r=12$' + 'a'.repeat(22) + '$' + 'a'.repeat(31),
    ];
    for (const hash of broken) {
      expect(hasher.recognizes(hash), hash).to.equal(false);
      expect(await hasher.verify(hash, pbkdf2.password), hash).to.equal(false);
    }
  });

  it('never blocks the event loop on SHA-crypt: timers fire while a default-cost hash is verified', async () => {
    const entry = made.hashes.find((candidate) => candidate.scheme === 'sha512_crypt' && candidate.cost === 'default')!;
    let ticks = 0;
    let verified = false;
    const verification = hasher.verify(entry.hash, entry.password.normalize('NFKC'), entry.password).then((matches) => {
      verified = true;
      return matches;
    });
    // Counts turns of the event loop until the verification is done: each needs the loop to be free.
    while (!verified) {
      await new Promise((resolve) => setImmediate(resolve));
      ticks += 1;
    }
    expect(await verification).to.equal(true);
    expect(ticks, 'event-loop turns while a 656,000-round hash ran').to.be.greaterThan(100);
  });
});
