'use strict';
// One mocha run covers every suite; TEST_SUITES narrows it (e.g. TEST_SUITES=integration).
const suites = (process.env.TEST_SUITES || 'unit,contracts,integration,http').split(',');
// Files named on the command line run alone instead of joining every suite.
const namedFiles = process.argv.slice(2).some((arg) => arg.endsWith('.ts'));
module.exports = {
  'node-option': ['import=tsx'],
  extension: ['ts'],
  spec: namedFiles ? [] : suites.map((suite) => `tests/${suite.trim()}/**/*.test.ts`),
  require: ['tests/support/root-hooks.ts'],
  timeout: 20000,
  slow: 1000,
  exit: false,
};
