// npm start: compiles src/ to dist/ when it changed since the last build (scripts/build.mjs), then
// runs dist/main.js in this process, as the Docker image does. The running service is plain
// JavaScript: no TypeScript loader beside it. (`npm run dev` runs src/ under tsx and restarts on
// edits.)
import { buildDist } from './build.mjs'

await buildDist({ onlyIfChanged: true })
await import('../dist/main.js')
