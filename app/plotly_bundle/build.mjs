// Build the partial plotly.js bundle described in bundle.json (run by build.sh).
//
// It does what plotly.js's own custom-bundle task does (`npm run custom-bundle
// -- --traces ... --strict` in a clone of the plotly.js repository; the npm
// package does not ship that task): plotly.js/lib/core (the scatter trace and
// every layout component: axes, legends, colorbars, annotations, shapes,
// sliders, updatemenus, hover, mode bar) plus the listed trace modules (their
// strict variants where bundle.json asks), bundled by esbuild with the options
// of plotly.js's esbuild-config.js (an iife named Plotly, regl as
// @plotly/regl, `global` as window, es2016), attribute metadata stripped as in
// plotly.js's own dist files, minified, under plotly.js's license header and
// UMD wrapper; the bundled packages' license comments stay at the end.
// Differences: no world calendars (no non-Gregorian dates here); the
// maplibre stylesheet that the core requires only for map subplots is an empty
// module (no map traces here; plotly.js inlines it with a plugin whose output
// depends on the build folder); and surfaces are refined less (PATCHES
// below). The same inputs always give the same bytes.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const manifest = JSON.parse(fs.readFileSync('bundle.json', 'utf8'));
const plotlyDir = path.dirname(require.resolve('plotly.js/package.json'));
const installed = JSON.parse(fs.readFileSync(path.join(plotlyDir, 'package.json'), 'utf8')).version;
if (installed !== manifest['plotly.js']) {
    throw new Error(`bundle.json asks for plotly.js ${manifest['plotly.js']}, but ${installed} is installed`);
}
for (const trace of manifest.traces) {
    if (!fs.existsSync(path.join(plotlyDir, 'lib', `${trace}.js`))) throw new Error(`no trace type "${trace}"`);
}

// The core registers scatter itself. With "strict", a trace that has a strict
// variant (scattergl: WebGL programs precompiled) uses it, as plotly.js's own
// `--strict` option does: the regular variant compiles WebGL code with Function() at run
// time, which the site's content security policy (no 'unsafe-eval') forbids.
const strict = (t) => manifest.strict && fs.existsSync(path.join(plotlyDir, 'src', 'traces', t, 'strict.js'));
const modules = manifest.traces.filter((t) => t !== 'scatter').map((t) =>
    `    require('plotly.js/${strict(t) ? `src/traces/${t}/strict` : `lib/${t}`}'),`);
const entry = ["'use strict';", "var Plotly = require('plotly.js/lib/core');", 'Plotly.register([',
    ...modules, ']);', 'module.exports = Plotly;', ''].join('\n');

// Source changes, each an exact text that must be found, so that another
// plotly.js version fails the build instead of shipping without it:
// - surface: plotly.js resamples a surface's grid by bilinear interpolation
//   until it has at least 120 points per axis (4x to 8x for the lessons'
//   51-point grids: up to 85,000 vertices, 0.4-0.7 s per drawing where WebGL
//   runs in software). The points it adds hold no new data; here a grid is
//   refined only up to bundle.json's `surface_refine_points` points per axis.
const refinePoints = manifest.surface_refine_points;
if (!Number.isInteger(refinePoints) || refinePoints < 2) throw new Error('bundle.json: surface_refine_points must be a whole number >= 2');
const PATCHES = [{
    file: 'src/traces/surface/convert.js',
    find: '    var scale = Math.round(resDst / resSrc);\n',
    replace: `    var scale = Math.min(Math.round(resDst / resSrc), Math.floor(${refinePoints - 1} / Math.max(resSrc - 1, 1)));\n`,
}];
const patched = new Set();
function patch(file, text) {
    for (const p of PATCHES) {
        if (!file.endsWith(path.join(...p.file.split('/')))) continue;
        if (!text.includes(p.find)) throw new Error(`${p.file}: the text to patch is not there`);
        text = text.replace(p.find, p.replace);
        patched.add(p.file);
    }
    return text;
}

// Attribute metadata that only documentation reads, stripped as plotly.js
// strips it from its own dist files: descriptions (a string, or an array of
// strings joined), option lists and human-readable names. Only literals are
// matched, and only where the property ends, so code is never cut.
const STR = String.raw`(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")`;
const END = String.raw`(?:,|(?=\s*[}\n]))`;
const META = [
    String.raw`\s*description: \[(?:\s|,|${STR}|//[^\n]*)*\]\.join\(\s*${STR}\s*\)${END}`,
    String.raw`\s*description: ${STR}${END}`,
    String.raw`\s*(?:requiredOpts|otherOpts): \[(?:\s|,|${STR})*\]${END}`,
    String.raw`\s*hrName: ${STR}${END}`,
].map((source) => new RegExp(source, 'g'));
const stripMeta = {
    name: 'strip-attribute-meta',
    setup(b) {
        const own = new RegExp(`^${plotlyDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\\\\/](src|lib)[\\\\/].*\\.js$`);
        b.onLoad({ filter: /\.js$/ }, (args) => {
            if (!own.test(args.path)) return undefined;
            let text = fs.readFileSync(args.path, 'utf8');
            for (const pattern of META) text = text.replace(pattern, '');
            text = patch(args.path, text);
            return { contents: text, loader: 'js' };
        });
    },
};

const result = await build({
    stdin: { contents: entry, resolveDir: process.cwd(), sourcefile: `index-${manifest.name}.js` },
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    sourcemap: false,
    write: false,
    plugins: [stripMeta],
    loader: { '.css': 'empty' },
    alias: { regl: '@plotly/regl' },
    define: { global: 'window', 'define.amd': 'false', 'process.env.NODE_DEBUG': '"false"' },
    target: 'es2016',
    logLevel: 'warning',
});

for (const p of PATCHES) if (!patched.has(p.file)) throw new Error(`${p.file} was not bundled: nothing patched`);

// plotly.js's license header, naming this bundle and what it holds.
const distHeader = fs.readFileSync(path.join(plotlyDir, 'dist', 'plotly.min.js'), 'utf8').split('*/')[0] + '*/';
const header = distHeader.replace('plotly.js', `plotly.js (${manifest.name} - minified)`) +
    `\n/* traces: ${manifest.traces.join(', ')} */\n` +
    `/* strict variants: ${manifest.traces.filter(strict).join(', ') || 'none'} */\n` +
    `/* surface refinement: up to ${refinePoints} points per axis */\n`;
const wrapped = [
    header +
    '(\n function(root, factory) {\n  if (typeof module === "object" && module.exports) {\n' +
    '   module.exports = factory();\n  } else {\n   root.moduleName = factory();\n  }\n' +
    '} (typeof self !== "undefined" ? self : this, () => {',
    result.outputFiles[0].text,
    'window.Plotly = Plotly;\nreturn Plotly;\n}));\n',
].join('\n');
fs.writeFileSync(manifest.file, wrapped);
console.log(`${manifest.file}: ${wrapped.length} bytes, plotly.js ${installed}, traces ${manifest.traces.join(', ')}`);
