'use strict';
/**
 * Dependencies point inward (STYLE.md): domain <- application <- infrastructure, interfaces.
 * Only the roots see every layer: src/composition-root.ts (the container), src/service.ts (the one boot path) and the
 * entry points src/main.ts (server) and src/cli.ts (admin CLI).
 *
 * Run: npx depcruise src --config .dependency-cruiser.cjs --output-type err
 * Enforced by tests/unit/architecture.test.ts.
 *
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-self-contained',
      comment:
        'src/domain holds pure business rules: it imports only other src/domain files. No npm package, ' +
        'no node: builtin, no other layer.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { pathNot: '^src/domain/' },
    },
    {
      name: 'application-sees-only-domain',
      comment:
        'src/application (use cases and ports) imports only src/application and src/domain. No npm package ' +
        '(koa, @koa/*, slonik, pg, argon2, jsonwebtoken, bunyan, zod ...) and no node: builtin; adapters in ' +
        'infrastructure do that work behind a port. The one exception, types only, is the next rule.',
      severity: 'error',
      from: { path: '^src/application/' },
      to: { pathNot: ['^src/(application|domain)/', '(^|/)node_modules/(inversify|@inversifyjs)/'] },
    },
    {
      name: 'application-takes-only-types-from-inversify',
      comment:
        "A port's DI token is typed with inversify's ServiceIdentifier (a type-only import); containers and " +
        'bindings belong to src/composition-root.ts.',
      severity: 'error',
      from: { path: '^src/application/' },
      to: { path: '(^|/)node_modules/(inversify|@inversifyjs)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'infrastructure-not-to-interfaces',
      comment: 'Adapters do not know about the delivery mechanism; wire them in src/composition-root.ts.',
      severity: 'error',
      from: { path: '^src/infrastructure/' },
      to: { path: '^src/interfaces/' },
    },
    {
      name: 'interfaces-not-to-infrastructure',
      comment: 'HTTP code talks to use cases and ports, never to adapters; src/composition-root.ts supplies them.',
      severity: 'error',
      from: { path: '^src/interfaces/' },
      to: { path: '^src/infrastructure/' },
    },
    {
      name: 'only-roots-wire-adapters',
      comment:
        'Outside the layers, only the roots (composition-root, service, main, cli) import infrastructure or interfaces.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: [
          '^src/(domain|application|infrastructure|interfaces)/',
          '^src/(composition-root|service|supervisor|main|cli)\\.ts$',
        ],
      },
      to: { path: '^src/(infrastructure|interfaces)/' },
    },
    {
      name: 'nothing-imports-the-roots',
      comment:
        'The roots are imported only by roots above them (service by main and cli; composition-root by service, ' +
        'main and cli), and nothing imports main or cli; a layer importing a root would see every other layer.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(service|supervisor|main|cli)\\.ts$' },
      to: { path: '^src/(composition-root|service|supervisor|main|cli)\\.ts$' },
    },
    {
      name: 'src-not-to-tests',
      comment: 'Production code never imports test code.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(tests|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'Every import resolves (`./user.js` specifiers resolve to `./user.ts`); an unresolved one would also ' +
        'slip past the layer rules above.',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'not-to-dev-dep',
      comment: 'The Docker image runs after `npm prune --omit=dev`: src may import devDependencies for types only.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-non-package-json',
      comment: 'src imports only packages declared in package.json, not whatever happens to be in node_modules.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|\\.data|coverage)/' },
    moduleSystems: ['es6', 'cjs'],
    // Type-only imports (`import type { Context } from 'koa'`) count: the rules are about what a layer knows.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // NodeNext specifiers (`./user.js`) resolve to the `.ts` source: dependency-cruiser retries a missing
    // `.js` target as `.ts`/`.d.ts` (its schema has no place for enhanced-resolve's `extensionAlias`).
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'types', 'default'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
