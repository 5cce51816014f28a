# syntax=docker/dockerfile:1
# Build: compile TypeScript (scripts/build.mjs: esbuild, src/ to dist/) and the Prisma client with
# dev dependencies, then keep only what runs.
# test/foundation/production-start.test.ts runs the same commands outside Docker in CI
# (npm ci, npm run build, node dist/main.js with NODE_ENV=production on an empty database), and
# test/foundation/compose.test.ts runs CMD and HEALTHCHECK with the environment compose.yaml gives.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary can be downloaded.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json prisma.config.ts tsconfig.json ./
COPY prisma ./prisma
# postinstall runs scripts/prisma-providers.ts: `prisma generate` for SQLite and PostgreSQL (src/generated/).
COPY scripts ./scripts
COPY src ./src
RUN npm ci --no-audit --no-fund
# Types are checked here too: esbuild only strips them.
RUN npm run typecheck && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_URL=file:/data/payments.db \
    KEYS_DIR=/keys
WORKDIR /app
COPY --from=build /app/package.json /app/prisma.config.ts ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/dist ./dist
# prisma.config.ts picks the provider's schema and migrations with this module (DATABASE_URL decides).
COPY --from=build /app/src/db/provider.ts ./src/db/provider.ts
# SQLite (the default): the database lives on a volume owned by the unprivileged user. PostgreSQL:
# pass DATABASE_URL=postgresql://... and TOKEN_ENCRYPTION_KEY; /data then stays empty. The keys
# live on a volume owned by that user too (a named volume takes the owner of the image's directory:
# compose.yaml's payments-data and payments-keys); `docker run` may instead bind-mount a keys
# directory read-only at /keys.
RUN mkdir -p /data /keys && chown node:node /data /keys
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# main.js applies pending migrations (prisma migrate deploy) before it listens, then serves;
# SIGTERM stops it gracefully. The node flags are `npm start`'s (package.json): they keep the
# garbage V8 holds between full collections small (README, "What `npm start` runs").
CMD ["node", "--max-semi-space-size=8", "--heap-growing-percent=20", "dist/main.js"]
