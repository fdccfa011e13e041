import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const protoDir = join(root, 'proto');
const committedOutput = join(root, 'libs', 'proto', 'src', 'generated');

/** sha256 of every file under a directory, keyed by relative path. */
function digestTree(dir: string): Record<string, string> {
  const digests: Record<string, string> = {};
  const walk = (current: string) => {
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      if (statSync(path).isDirectory()) walk(path);
      else
        digests[relative(dir, path)] = createHash('sha256')
          .update(readFileSync(path))
          .digest('hex');
    }
  };
  walk(dir);
  return digests;
}

/** Runs the project's buf template, writing to `out` instead of libs/proto. */
function generateInto(out: string, templateDir: string): void {
  const template = readFileSync(join(protoDir, 'buf.gen.yaml'), 'utf8').replace(
    /out: .*/,
    `out: ${out}`,
  );
  const templatePath = join(templateDir, 'buf.gen.yaml');
  writeFileSync(templatePath, template);
  execFileSync(
    join(root, 'node_modules', '.bin', 'buf'),
    ['generate', '--template', templatePath],
    {
      cwd: protoDir,
    },
  );
}

describe('proto/codegen', () => {
  it('is deterministic and the generated tree matches the proto sources', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'codegen-'));
    try {
      generateInto(join(scratch, 'first'), scratch);
      generateInto(join(scratch, 'second'), scratch);
      const first = digestTree(join(scratch, 'first'));
      expect(Object.keys(first)).toContain('hospital/broker/v1/broker.ts');
      expect(digestTree(join(scratch, 'second'))).toEqual(first);
      expect(digestTree(committedOutput)).toEqual(first);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
