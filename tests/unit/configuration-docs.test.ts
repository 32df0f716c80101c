import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { CONFIG_VARIABLES } from '../../src/infrastructure/config/config.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const envExample = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');

describe('configuration documentation', () => {
  it('README documents every variable the service reads, in its configuration table', () => {
    const table = readme.slice(
      readme.indexOf('## Configuration'),
      readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1),
    );
    const missing = CONFIG_VARIABLES.filter((name) => !table.includes(`\`${name}\``));
    expect(missing).to.deep.equal([]);
  });

  it('.env.example lists every variable the service reads, set or commented out', () => {
    const missing = CONFIG_VARIABLES.filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(envExample));
    expect(missing).to.deep.equal([]);
  });

  it('.env.example sets nothing the service does not read', () => {
    const set = [...envExample.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]!);
    expect(set.filter((name) => !CONFIG_VARIABLES.includes(name))).to.deep.equal([]);
  });
});
