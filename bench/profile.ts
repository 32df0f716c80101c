import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a frame lives: a package, a node: module or one of ours, without the path noise. */
function place(url: string): string {
  if (url === '') return 'native';
  const packaged = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (packaged) return packaged[1]!;
  return url.replace(/^file:\/\/.*?\/(dist|src)\//, '$1/');
}

/**
 * The functions with the most self time in the largest `.cpuprofile` of `directory` (V8's `--cpu-prof`), as
 * `share  function (place)` lines, idle time left out so the shares are of time spent working.
 */
export function topSelfTime(directory: string, count = 15): string[] {
  const files = readdirSync(directory).filter((name) => name.endsWith('.cpuprofile'));
  if (files.length === 0) return ['(no profile written)'];
  const largest = files
    .map((name) => path.join(directory, name))
    .sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0]!;
  const profile = JSON.parse(readFileSync(largest, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let working = 0;
  profile.samples.forEach((id, index) => {
    const frame = nodes.get(id)!.callFrame;
    if (frame.functionName === '(idle)') return;
    const delta = profile.timeDeltas[index] ?? 0;
    working += delta;
    const key = `${frame.functionName || '(anonymous)'} (${place(frame.url)})`;
    self.set(key, (self.get(key) ?? 0) + delta);
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, time]) => `${((time / working) * 100).toFixed(1).padStart(5)}%  ${key}`);
}
