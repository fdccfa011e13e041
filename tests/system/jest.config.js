module.exports = {
  ...require('../../jest.preset.js'),
  // The whole system runs as OS processes; a run takes a while.
  testTimeout: 180_000,
};
