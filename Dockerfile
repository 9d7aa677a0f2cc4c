# syntax=docker/dockerfile:1
#
# chargeonce's production image: the compiled server (plain `node`, no tsx), its npm dependencies
# from `pnpm deploy --prod` (no Stripe emulator, no embedded PostgreSQL), the migrations and the
# built web client, laid out under /app as in the checkout (the bundle finds drizzle/ and
# apps/web/dist from apps/server/dist). Every RUN below is one that CI rehearses without Docker
# (tests/integration/production-build.test.ts), which also checks this file still says them.
#
#   docker build --build-arg CHARGEONCE_BUILD_COMMIT="$(git rev-parse HEAD)" -t chargeonce .
#   docker run --env-file .env -e DATABASE_URL=postgres://... -p 3000:3000 --stop-timeout 30 chargeonce

ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
# The pnpm that package.json's packageManager pins, installed as CI installs it (npm, not corepack).
RUN npm install -g pnpm@12.4.2
WORKDIR /repo
COPY . .
RUN pnpm install --frozen-lockfile
RUN pnpm --filter @chargeonce/web build
RUN pnpm --filter @chargeonce/server build
RUN pnpm --filter @chargeonce/server deploy --prod /out/apps/server \
  && cp -r drizzle /out/drizzle \
  && mkdir -p /out/apps/web \
  && cp -r apps/web/dist /out/apps/web/dist

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
# The commit chargeonce_build_info reports (the image has no .git to ask).
ARG CHARGEONCE_BUILD_COMMIT=""
ENV CHARGEONCE_BUILD_COMMIT=${CHARGEONCE_BUILD_COMMIT}
# Owned by root, run as `node`: the process cannot rewrite its own code or migrations.
COPY --from=build /out /app
WORKDIR /app/apps/server
USER node
EXPOSE 3000
# Drains in-flight requests, then exits (CHARGEONCE_SHUTDOWN_TIMEOUT_MS, 25 s by default: give
# `docker stop` / compose a longer grace period than Docker's 10 s).
STOPSIGNAL SIGTERM
# Ready = the database answers, accepts writes and is migrated (/healthz: the process is alive).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--enable-source-maps", "dist/main.js"]
