import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(__dirname, '..', 'dist', 'main.js');
const hospital = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('the hospital CLI', () => {
  it.each([
    [['frobnicate'], /unknown command "frobnicate"/],
    [['demo', '--bogus'], /Unknown option '--bogus'/],
    [['demo', '--rate', 'fast'], /--rate must be a number >= 0, got "fast"/],
    [[], /usage: hospital <command>/],
    [['scenario', 'nope'], /unknown scenario "nope"; choose from basic, scaling/],
    [['scenario'], /scenario needs a name/],
    [['db'], /db takes one action: bootstrap/],
  ])('prints what is wrong and the usage, and exits 2, for %j', (args, message) => {
    const result = hospital(...args);
    expect(result.status).toBe(2);
    expect(result.stderr + result.stdout).toMatch(message);
    expect(result.stderr + result.stdout).toMatch(/usage: hospital/);
  });

  it('db bootstrap names the setting it is missing', () => {
    const result = spawnSync(process.execPath, [CLI, 'db', 'bootstrap'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/db bootstrap needs DATABASE_ADMIN_URL/);
  });

  it('lists the scenarios', () => {
    const result = hospital('scenario', 'list');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^idle-consumers\s+3 partitions, 4 consumers: one is idle$/m);
  });

  it('prints the usage and exits 0 for --help', () => {
    const result = hospital('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/demo \[--fresh\]/);
  });
});
