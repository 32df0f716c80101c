import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { cruise, type ICruiseResult, type IModule } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const fixtureRoot = join(projectRoot, 'tests/fixtures/architecture');

/**
 * Cruises `<baseDir>/src` with the project's `.dependency-cruiser.cjs` and tsconfig, exactly as
 * `npx depcruise src --config .dependency-cruiser.cjs` does from the project root.
 */
async function cruiseSrc(baseDir: string): Promise<ICruiseResult> {
  const options = await extractDepcruiseOptions(join(projectRoot, '.dependency-cruiser.cjs'));
  const tsConfigFile = join(projectRoot, 'tsconfig.json');
  const { output } = await cruise(
    ['src'],
    { ...options, baseDir, tsConfig: { fileName: tsConfigFile } },
    {},
    { tsConfig: extractTSConfig(tsConfigFile) },
  );
  if (typeof output === 'string') throw new Error(`expected a cruise result object, got: ${output}`);
  return output;
}

/** `rule: from -> specifier` per violation, using the import specifier as written rather than the resolved path. */
function describeViolations(result: ICruiseResult): string[] {
  const modules = new Map<string, IModule>(result.modules.map((module) => [module.source, module]));
  return result.summary.violations
    .map(({ rule, from, to }) => {
      const dependency = modules.get(from)?.dependencies.find(({ resolved }) => resolved === to);
      const specifier = dependency === undefined ? to : `${dependency.protocol ?? ''}${dependency.module}`;
      return `${rule.name}: ${from} -> ${specifier}`;
    })
    .sort();
}

function dependencyOf(result: ICruiseResult, from: string, specifier: string) {
  const module = result.modules.find(({ source }) => source === from);
  expect(module, `${from} was cruised`).to.not.equal(undefined);
  const dependency = module?.dependencies.find(({ module: name }) => name === specifier);
  expect(dependency, `${from} imports ${specifier}`).to.not.equal(undefined);
  return dependency;
}

describe('architecture: dependencies point inward', function () {
  this.timeout(60_000);

  it('src/ breaks none of the rules in .dependency-cruiser.cjs', async () => {
    const result = await cruiseSrc(projectRoot);

    const sources = result.modules.map(({ source }) => source).filter((source) => source.startsWith('src/'));
    expect(sources, 'the cruise found the TypeScript sources').to.not.be.empty;
    expect(describeViolations(result)).to.deep.equal([]);

    // NodeNext specifiers name the compiled `.js`; each must have reached the `.ts` source, not just been let through.
    const localJsImports = result.modules
      .filter(({ source }) => source.startsWith('src/'))
      .flatMap(({ source, dependencies }) =>
        dependencies
          .filter(({ module }) => module.startsWith('.') && module.endsWith('.js'))
          .map(({ module, resolved, couldNotResolve }) => ({ source, module, resolved, couldNotResolve })),
      );
    for (const { source, module, resolved, couldNotResolve } of localJsImports) {
      expect(couldNotResolve, `${source} imports ${module}`).to.equal(false);
      expect(resolved, `${source} imports ${module}`).to.match(/^src\/.+\.ts$/);
      expect(existsSync(join(projectRoot, resolved))).to.equal(true);
    }
  });

  it('resolves `.js` specifiers to the `.ts` sources and counts type-only imports', async () => {
    const result = await cruiseSrc(fixtureRoot);

    const policyToUser = dependencyOf(result, 'src/domain/password-policy.ts', './user.js');
    expect(policyToUser).to.include({ resolved: 'src/domain/user.ts', couldNotResolve: false });
    expect(policyToUser?.dependencyTypes).to.include('type-only');

    const useCaseToPolicy = dependencyOf(result, 'src/application/register-user.ts', '../domain/password-policy.js');
    expect(useCaseToPolicy).to.include({ resolved: 'src/domain/password-policy.ts', couldNotResolve: false });

    const mainToRoot = dependencyOf(result, 'src/main.ts', './composition-root.js');
    expect(mainToRoot).to.include({ resolved: 'src/composition-root.ts', couldNotResolve: false });

    const koa = dependencyOf(result, 'src/domain/framework-leak.ts', 'koa');
    expect(koa?.dependencyTypes).to.include.members(['npm', 'type-only']);
  });

  it('reports each forbidden import in a fixture tree, and nothing else', async () => {
    const result = await cruiseSrc(fixtureRoot);

    expect(describeViolations(result)).to.deep.equal([
      'application-sees-only-domain: src/application/builtin-leak.ts -> node:crypto',
      'application-sees-only-domain: src/application/validation-leak.ts -> zod',
      'application-takes-only-types-from-inversify: src/application/container-leak.ts -> inversify',
      'domain-is-self-contained: src/domain/framework-leak.ts -> koa',
      'infrastructure-not-to-interfaces: src/infrastructure/http-leak.ts -> ../interfaces/http/app.js',
      'interfaces-not-to-infrastructure: src/interfaces/http/adapter-leak.ts -> ../../infrastructure/in-memory-users.js',
      'no-non-package-json: src/infrastructure/undeclared-package-leak.ts -> sinon',
      'not-to-dev-dep: src/infrastructure/dev-dependency-leak.ts -> chai',
      'not-to-unresolvable: src/infrastructure/unresolved.ts -> ./missing.js',
      'nothing-imports-the-roots: src/infrastructure/root-leak.ts -> ../composition-root.js',
      'only-roots-wire-adapters: src/wiring-leak.ts -> ./infrastructure/in-memory-users.js',
      'src-not-to-tests: src/infrastructure/test-code-leak.ts -> ../../tests/fixed-clock.js',
    ]);
    expect(result.summary.error).to.equal(12);
  });
});
