import esbuild from 'esbuild';
import fs from 'fs';
const pkg = JSON.parse(fs.readFileSync('node_modules/jssip/package.json'));
await esbuild.build({
  entryPoints: ['node_modules/jssip/lib/JsSIP.js'],
  outfile: 'jssip.min.js', bundle: true, minify: true, sourcemap: false,
  format: 'iife', globalName: 'JsSIP', platform: 'browser', target: ['es2015'],
  supported: { 'template-literal': false },
  banner: { js: `/* JsSIP ${pkg.version} (npm), bundled with esbuild as its npm-scripts.mjs build does. License: MIT (LICENSE.md); bundles debug, ms, events, sdp-transform (MIT, THIRD-PARTY-LICENSES) */` },
});
