import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findFreePort } from '@hospital/processes';

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
    [['scale', 'billing'], /scale needs a group and a whole number of replicas/],
    [['scale', 'billing', 'four'], /scale needs a group and a whole number of replicas/],
    [['kill'], /kill needs a replica name \(billing-2\) or a member id/],
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

  it('says so, and exits 1, when no demo runs to scale or kill', async () => {
    const port = await findFreePort();
    const result = hospital('replicas', '--control', `http://127.0.0.1:${port}`);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /no demo answers at http:\/\/127.0.0.1:\d+: start one with `npm start`/,
    );
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
