import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { bidiClassesSource } from '../../../scripts/generate-bidi-classes.js';

describe('domain: the generated bidi class table', () => {
  it('is what scripts/generate-bidi-classes.mjs writes from the Unicode data package', async () => {
    const committed = await readFile(new URL('../../../src/domain/generated/bidi-classes.ts', import.meta.url), 'utf8');
    const generated = await bidiClassesSource();
    expect(committed === generated, 'run node scripts/generate-bidi-classes.mjs and commit the result').to.equal(true);
  });
});
