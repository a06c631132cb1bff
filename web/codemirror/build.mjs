// Builds static/vendor/codemirror.js, one ES module with the CodeMirror
// packages of entry.js at the versions package-lock.json pins, and
// static/vendor/codemirror.LICENSES.txt with the licence of every package
// in it. Run it with `npm run build:codemirror`; CI runs it and fails when
// the committed files differ from what it builds.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

// collab's pages forbid inline styles (Content-Security-Policy style-src
// 'self'), which blocks the <style> element style-mod gives CodeMirror's
// themes in a document. style-mod already uses a constructed style sheet
// (adoptedStyleSheets, which the policy allows) inside shadow roots; this
// patch makes it do so in documents too, wherever the browser has them.
const ADOPT_FROM = 'if (!root.head && root.adoptedStyleSheets && win.CSSStyleSheet) {';
const ADOPT_TO = 'if (root.adoptedStyleSheets && win.CSSStyleSheet) {';
const adoptStyles = {
  name: 'style-mod-adopted-sheets',
  setup(b) {
    b.onLoad({ filter: /style-mod[\\/]src[\\/]style-mod\.js$/ }, (args) => {
      const src = readFileSync(args.path, 'utf8');
      if (!src.includes(ADOPT_FROM)) throw new Error(`style-mod changed: "${ADOPT_FROM}" not found in ${args.path}`);
      return { contents: src.replace(ADOPT_FROM, ADOPT_TO), loader: 'js' };
    });
  },
};
const out = join(here, '..', 'static', 'vendor');

const result = await build({
  entryPoints: [join(here, 'entry.js')],
  bundle: true,
  format: 'esm',
  minify: true,
  target: 'es2022',
  legalComments: 'none',
  metafile: true,
  write: false,
  plugins: [adoptStyles],
  absWorkingDir: join(here, '..'),
});

const banner = '// CodeMirror 6 (MIT), bundled by web/codemirror/build.mjs (style-mod patched to use adopted style sheets); licences in codemirror.LICENSES.txt.\n';
writeFileSync(join(out, 'codemirror.js'), banner + result.outputFiles[0].text);

// The packages whose files went into the bundle, with their licences.
const pkgs = new Map();
const used = Object.values(result.metafile.outputs)[0].inputs;
for (const [input, { bytesInOutput }] of Object.entries(used)) {
  if (bytesInOutput === 0) continue;
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) pkgs.set(m[1], join(here, '..', 'node_modules', m[1]));
}
let text = 'Packages bundled in codemirror.js, with their licences.\n';
for (const [name, dir] of [...pkgs].sort()) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const file = ['LICENSE', 'LICENSE.md', 'LICENSE.txt'].map((f) => join(dir, f)).find((f) => { try { readFileSync(f); return true; } catch { return false; } });
  text += `\n==== ${name}@${pkg.version} (${pkg.license}) ====\n\n${file ? readFileSync(file, 'utf8').trim() : pkg.license}\n`;
}
writeFileSync(join(out, 'codemirror.LICENSES.txt'), text);
console.log(`codemirror.js: ${result.outputFiles[0].text.length} bytes, ${pkgs.size} packages`);
