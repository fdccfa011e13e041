// Enforces the dependency rules of docs/architecture.md ("Packages") on what
// each package.json declares, and checks the declarations against the code:
// - every @hospital/* import is declared (dependencies for code that ships,
//   devDependencies for tests), and every declaration is imported somewhere;
// - services depend on libs, never on other services; libs never on services
//   or tools; the broker never on the client libraries; nothing but tests on
//   @hospital/testing and the test-support libraries;
// - no cycles (tests count: they import too, and a cycle breaks `^build`).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
  encoding: 'utf8',
})
  .split('\n')
  .filter((file) => file && existsSync(file));

const projects = new Map(); // package name -> { root, name, tags, dependencies, devDependencies }
for (const file of tracked.filter((path) => path.endsWith('/project.json'))) {
  const root = dirname(file);
  if (!existsSync(`${root}/package.json`)) continue;
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
  const { tags = [] } = JSON.parse(readFileSync(file, 'utf8'));
  projects.set(pkg.name, {
    root,
    name: pkg.name,
    tags,
    dependencies: Object.keys(pkg.dependencies ?? {}).filter((name) =>
      name.startsWith('@hospital/'),
    ),
    devDependencies: Object.keys(pkg.devDependencies ?? {}).filter((name) =>
      name.startsWith('@hospital/'),
    ),
  });
}
const projectOf = (file) =>
  [...projects.values()]
    .filter((project) => file.startsWith(`${project.root}/`))
    .sort((a, b) => b.root.length - a.root.length)[0];
const isTestFile = (project, file) => {
  const inside = file.slice(project.root.length + 1);
  return inside.startsWith('test/') || inside.endsWith('.spec.ts') || /\/testing\//.test(inside);
};

const violations = [];
const imported = new Map(
  [...projects.keys()].map((name) => [name, { code: new Set(), tests: new Set() }]),
);
const importPattern = /(?:from\s+|require\(|import\()['"](@hospital\/[\w-]+)['"]/g;
for (const file of tracked.filter(
  (path) => /\.(ts|mjs|cjs|js)$/.test(path) && !/\/(dist|generated)\//.test(path),
)) {
  const project = projectOf(file);
  if (!project) continue;
  for (const [, name] of readFileSync(file, 'utf8').matchAll(importPattern)) {
    if (name === project.name || !projects.has(name)) continue;
    imported.get(project.name)[isTestFile(project, file) ? 'tests' : 'code'].add(name);
  }
}

for (const project of projects.values()) {
  const { code, tests } = imported.get(project.name);
  for (const name of code)
    if (!project.dependencies.includes(name))
      violations.push(`${project.name} imports ${name} but does not list it in dependencies`);
  for (const name of tests)
    if (!project.dependencies.includes(name) && !project.devDependencies.includes(name))
      violations.push(
        `${project.name}'s tests import ${name}, which its package.json does not list`,
      );
  for (const name of project.dependencies)
    if (!code.has(name))
      violations.push(
        `${project.name} lists ${name} in dependencies but its code does not import it${tests.has(name) ? ' (only tests do: devDependencies)' : ''}`,
      );
  for (const name of project.devDependencies)
    if (!tests.has(name) && !code.has(name))
      violations.push(`${project.name} lists ${name} in devDependencies but nothing imports it`);
}

const has = (name, tag) => projects.get(name)?.tags.includes(tag) ?? false;
const rules = [
  [
    'a service must not depend on another service',
    (from, to) => has(from, 'type:service') && has(to, 'type:service'),
  ],
  [
    'a library must not depend on a service or tool',
    (from, to) => has(from, 'type:lib') && !has(to, 'type:lib'),
  ],
  [
    'the broker must not depend on the client libraries',
    (from, to) => has(from, 'scope:broker') && has(to, 'scope:client'),
  ],
];
const edges = (project) => [...project.dependencies, ...project.devDependencies];
for (const project of projects.values()) {
  for (const target of edges(project)) {
    for (const [rule, broken] of rules)
      if (broken(project.name, target)) violations.push(`${project.name} -> ${target}: ${rule}`);
  }
  // Test helpers (@hospital/testing, and libraries tagged test-support) serve tests only.
  if (!has(project.name, 'test-support'))
    for (const target of project.dependencies)
      if (target === '@hospital/testing' || has(target, 'test-support'))
        violations.push(
          `${project.name} -> ${target}: only tests may use test helpers (list it in devDependencies; processes are @hospital/processes)`,
        );
}

const state = new Map();
const visit = (name, path) => {
  if (state.get(name) === 'done') return;
  if (state.get(name) === 'open') {
    violations.push(`dependency cycle: ${[...path.slice(path.indexOf(name)), name].join(' -> ')}`);
    return;
  }
  state.set(name, 'open');
  for (const target of edges(projects.get(name)))
    if (projects.has(target)) visit(target, [...path, name]);
  state.set(name, 'done');
};
for (const name of projects.keys()) visit(name, []);

if (violations.length > 0) {
  console.error(`Module boundary violations:\n  ${violations.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `Module boundaries hold across ${projects.size} packages; every @hospital/* import is declared and every declaration used.`,
);
