import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// src/ in tests, dist/ once built: both sit one level under libs/testing.
const APT_INSTALL = join(__dirname, '..', '..', '..', 'tools', 'scripts', 'apt-install.sh');

/** A command on PATH, or a file that the package installs (an absolute path). */
function onPath(command: string): boolean {
  if (command.startsWith('/')) return existsSync(command);
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A real tool from Debian (kcat, Burrow, ZooKeeper): installed when missing, as
 * the dashboard test installs Chromium. Fails with how to get it otherwise.
 */
export function ensureDebianTool(command: string, debianPackage = command): void {
  if (onPath(command)) return;
  try {
    execFileSync('bash', [APT_INSTALL, debianPackage], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(
      `${command} is missing and installing Debian's ${debianPackage} failed (${stderr || (error as Error).message}): run apt-get install ${debianPackage} as root`,
      { cause: error },
    );
  }
  if (!onPath(command))
    throw new Error(`Debian's ${debianPackage} is installed but ${command} is not on PATH`);
}
