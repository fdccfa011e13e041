import { choosePostgresMode } from './start-postgres';

describe('testing/postgres/choosePostgresMode', () => {
  const reachable = async () => true;
  const unreachable = async () => false;

  it.each([
    [
      'TEST_DATABASE_URL wins over everything',
      { TEST_DATABASE_URL: 'postgresql://x/db', POSTGRES_TEST_MODE: 'embedded' },
      reachable,
      'external',
    ],
    [
      'a forced embedded mode ignores a reachable runtime',
      { POSTGRES_TEST_MODE: 'embedded' },
      reachable,
      'embedded',
    ],
    [
      'a forced testcontainers mode does not probe',
      { POSTGRES_TEST_MODE: 'testcontainers' },
      unreachable,
      'testcontainers',
    ],
    [
      'auto picks testcontainers when a runtime answers',
      { POSTGRES_TEST_MODE: 'auto' },
      reachable,
      'testcontainers',
    ],
    ['auto picks embedded without a runtime', {}, unreachable, 'embedded'],
  ])('%s', async (_title, env, probe, expected) => {
    await expect(choosePostgresMode(env, probe)).resolves.toBe(expected);
  });

  it('rejects an unknown forced mode, naming the variable', async () => {
    await expect(choosePostgresMode({ POSTGRES_TEST_MODE: 'docker' }, reachable)).rejects.toThrow(
      /POSTGRES_TEST_MODE.*"docker"/,
    );
  });
});
