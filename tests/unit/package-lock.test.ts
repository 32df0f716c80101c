import { readFileSync } from 'node:fs';
import { expect } from 'chai';

interface Manifest {
  name: string;
  version: string;
  engines?: unknown;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as Manifest;
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
  name: string;
  version: string;
  lockfileVersion: number;
  packages: Record<string, Manifest>;
};

/**
 * npm rewrites package-lock.json on `npm install` when its root entry disagrees with package.json: a fresh clone's
 * first install must leave it as committed.
 */
describe('package-lock.json', () => {
  it('is npm 7+ (lockfile v3) and names the package as package.json does', () => {
    expect([lock.lockfileVersion, lock.name, lock.version]).to.deep.equal([3, manifest.name, manifest.version]);
  });

  it('records exactly the dependencies package.json declares, with the same ranges and engines', () => {
    const root = lock.packages['']!;
    for (const kind of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const) {
      expect(root[kind], kind).to.deep.equal(manifest[kind]);
    }
    expect(root.engines).to.deep.equal(manifest.engines);
  });

  it('locks a version of every declared dependency', () => {
    const declared = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
    expect(declared.filter((name) => lock.packages[`node_modules/${name}`]?.version === undefined)).to.deep.equal([]);
  });
});
