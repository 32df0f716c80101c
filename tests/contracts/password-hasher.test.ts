import { expect } from 'chai';
import argon2 from 'argon2';
import { Argon2PasswordHasher } from '../../src/infrastructure/security/argon2-password-hasher.js';
import { PasslibPasswordHasher } from '../../src/infrastructure/security/passlib-password-hasher.js';
import { ShaCryptWorkers } from '../../src/infrastructure/security/sha-crypt-workers.js';
import { FakePasswordHasher } from '../fakes/fake-password-hasher.js';
import { passwordHasherContract } from './password-hasher.contract.js';

const CHEAP = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

/** The parameters of an argon2 PHC string, in whatever order they are written. */
function phc(hash: string): { type: string; version: string; m: number; t: number; p: number } {
  const match = /^\$(argon2(?:id|i|d))\$v=(\d+)\$([^$]+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(hash);
  if (!match) throw new Error(`not an argon2 PHC string: ${hash}`);
  const params = Object.fromEntries(match[3]!.split(',').map((pair) => pair.split('='))) as Record<string, string>;
  return { type: match[1]!, version: match[2]!, m: Number(params.m), t: Number(params.t), p: Number(params.p) };
}

/** The same hash with its parameters written in the reference order `m,t,p` (libargon2, argon2-cffi, PHP). */
const referenceOrder = (hash: string): string => {
  const { m, t, p } = phc(hash);
  return hash.replace(/^(\$argon2id\$v=19\$)[^$]+/, `$1m=${m},t=${t},p=${p}`);
};

passwordHasherContract('FakePasswordHasher', () => ({
  hasher: new FakePasswordHasher(3),
  weakerHash: (password) => new FakePasswordHasher(1).hash(password),
}));

const shaCrypt = new ShaCryptWorkers(1);
after(() => shaCrypt.close());

passwordHasherContract('PasslibPasswordHasher', () => ({
  hasher: new PasslibPasswordHasher(new Argon2PasswordHasher(CHEAP), shaCrypt),
  weakerHash: (password) => new Argon2PasswordHasher({ ...CHEAP, memoryCost: 512 }).hash(password),
}));

passwordHasherContract('Argon2PasswordHasher', () => ({
  hasher: new Argon2PasswordHasher(CHEAP),
  // libargon2 allows down to 8 KiB per lane.
  weakerHash: (password) => new Argon2PasswordHasher({ ...CHEAP, memoryCost: 512 }).hash(password),
}));

describe('Argon2PasswordHasher', () => {
  const hasher = new Argon2PasswordHasher(CHEAP);

  it('makes argon2id v1.3 PHC hashes with the configured parameters', async () => {
    expect(phc(await hasher.hash('correct horse battery staple'))).to.deep.equal({
      type: 'argon2id',
      version: '19',
      m: 1024,
      t: 1,
      p: 1,
    });
  });

  it('needsRehash is false for its own fresh hash (npm argon2 writes m,p,t)', async () => {
    const own = await hasher.hash('correct horse battery staple');
    expect(own.startsWith('$argon2id$v=19$m=1024,'), own).to.equal(true);
    expect(hasher.needsRehash(own), `${own.slice(0, 31)}... looks weaker than ${JSON.stringify(CHEAP)}`).to.equal(
      false,
    );
  });

  it('needs no rehash for a current hash written in the reference m,t,p order, and verifies it', async () => {
    const reordered = referenceOrder(await hasher.hash('pw-reference-order'));
    expect(reordered).to.match(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    expect(hasher.needsRehash(reordered)).to.equal(false);
    expect(await hasher.verify(reordered, 'pw-reference-order')).to.equal(true);
  });

  it('salts every hash: one password, two different hashes, both verify', async () => {
    const [a, b] = await Promise.all([hasher.hash('same password'), hasher.hash('same password')]);
    expect(a).to.not.equal(b);
    expect([await hasher.verify(a, 'same password'), await hasher.verify(b, 'same password')]).to.deep.equal([
      true,
      true,
    ]);
  });

  it('never puts the password in the hash', async () => {
    expect(await hasher.hash('visible-password-123')).to.not.include('visible-password-123');
  });

  it('needs no rehash for a hash with higher parameters than configured, and verifies it', async () => {
    const stronger = await new Argon2PasswordHasher({ memoryCost: 2048, timeCost: 2, parallelism: 2 }).hash(
      'pw-stronger-1',
    );
    expect(hasher.needsRehash(stronger)).to.equal(false);
    expect(await hasher.verify(stronger, 'pw-stronger-1')).to.equal(true);
  });

  it('needs a rehash when any one parameter is lower, even if others are higher', async () => {
    const current = new Argon2PasswordHasher({ memoryCost: 2048, timeCost: 2, parallelism: 2 });
    for (const params of [
      { memoryCost: 4096, timeCost: 1, parallelism: 2 },
      { memoryCost: 1024, timeCost: 3, parallelism: 2 },
      { memoryCost: 4096, timeCost: 3, parallelism: 1 },
    ]) {
      expect(current.needsRehash(await new Argon2PasswordHasher(params).hash('pw')), JSON.stringify(params)).to.equal(
        true,
      );
    }
  });

  it('needs a rehash for argon2i and argon2d hashes, which it still verifies', async () => {
    for (const type of [argon2.argon2i, argon2.argon2d] as const) {
      const other = await argon2.hash('legacy-password', { type, ...CHEAP });
      expect(hasher.needsRehash(other), other.slice(0, 10)).to.equal(true);
      expect(await hasher.verify(other, 'legacy-password')).to.equal(true);
    }
  });

  it('makes its dummy hash once, with the current parameters', async () => {
    const fresh = new Argon2PasswordHasher(CHEAP);
    const first = fresh.dummyHash();
    expect(fresh.dummyHash()).to.equal(first);
    expect(phc(await first)).to.deep.include({ type: 'argon2id', m: 1024, t: 1, p: 1 });
  });
});
