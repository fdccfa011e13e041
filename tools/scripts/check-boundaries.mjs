// Enforces DESIGN.md §3's dependency rule on Nx's project graph (which Nx
// builds from the real imports): services depend on libs, never on other
// services; libs never on services; the broker never on the client libraries.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const scratch = mkdtempSync(join(tmpdir(), 'nx-graph-'));
const graphFile = join(scratch, 'graph.json');
try {
  execFileSync('npx', ['nx', 'graph', `--file=${graphFile}`], { stdio: 'ignore' });
  const { graph } = JSON.parse(readFileSync(graphFile, 'utf8'));
  const tags = (name) => graph.nodes[name]?.data?.tags ?? [];
  const has = (name, tag) => tags(name).includes(tag);

  const rules = [
    [
      'a service must not import another service',
      (from, to) => has(from, 'type:service') && has(to, 'type:service'),
    ],
    [
      'a library must not import a service or tool',
      (from, to) => has(from, 'type:lib') && !has(to, 'type:lib'),
    ],
    [
      'the broker must not import the client libraries',
      (from, to) => has(from, 'scope:broker') && has(to, 'scope:client'),
    ],
  ];
  const violations = [];
  for (const [from, edges] of Object.entries(graph.dependencies)) {
    if (!graph.nodes[from]) continue;
    for (const { target } of edges) {
      if (!graph.nodes[target]) continue;
      for (const [rule, broken] of rules) {
        if (broken(from, target)) violations.push(`${from} -> ${target}: ${rule}`);
      }
    }
  }
  // A cycle between projects (tests count: they import too) breaks `^build`.
  const state = new Map();
  const visit = (name, path) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'open') {
      violations.push(
        `dependency cycle: ${[...path.slice(path.indexOf(name)), name].join(' -> ')}`,
      );
      return;
    }
    state.set(name, 'open');
    for (const { target } of graph.dependencies[name] ?? [])
      if (graph.nodes[target]) visit(target, [...path, name]);
    state.set(name, 'done');
  };
  for (const name of Object.keys(graph.nodes)) visit(name, []);

  if (violations.length > 0) {
    console.error(`Module boundary violations:\n  ${violations.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`Module boundaries hold across ${Object.keys(graph.nodes).length} projects.`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
