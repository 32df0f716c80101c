'use strict';
// One mocha run covers every suite; TEST_SUITES narrows it (e.g. TEST_SUITES=integration).
const suites = (process.env.TEST_SUITES || 'unit,contracts,integration,http').split(',');
module.exports = {
  'node-option': ['import=tsx'],
  extension: ['ts'],
  spec: suites.map((suite) => `tests/${suite.trim()}/**/*.test.ts`),
  require: ['tests/support/root-hooks.ts'],
  timeout: 20000,
  slow: 1000,
  exit: false,
};
