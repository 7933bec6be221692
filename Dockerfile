# syntax=docker/dockerfile:1
#
# egress-exporter container image, on the official Node image at the exact
# Node version the test suite runs on (20.20.2, Debian bookworm, slim), pinned
# by version: a rebuild gets the same Node, never whatever :latest is that day.
# Runs non-root (uid 65532). To move Node, change both FROM lines together and
# run the tests on that version first. (Chainguard's public images carry only
# :latest tags; to use them, pin by digest: FROM cgr.dev/chainguard/node@sha256:...,
# with -dev, which has npm, for the build stage.)
#
#   docker build -t egress-exporter \
#     --build-arg REVISION="$(git rev-parse --short=12 HEAD)" .
#   docker run --rm -p 9739:9739 egress-exporter
#   docker run --rm -p 9739:9739 \
#     -v "$PWD/egress.yml:/etc/egress-exporter/egress.yml:ro" egress-exporter
#
# Flags go after the image name and replace the default CMD, so repeat the
# config file:
#   docker run --rm egress-exporter --config.file=/etc/egress-exporter/egress.yml --config.check
#
# No HEALTHCHECK: the image has no curl, and the right probe depends on
# --web.config.file (TLS, basic auth). Orchestrators probe /-/healthy and
# /-/ready themselves (see deploy/kubernetes/deployment.yaml).

# ---- build: compile TypeScript, then keep only the production dependencies ----
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/write-build-info.mjs ./scripts/
COPY src/ ./src/
# No .git in the build context: the revision comes from the build argument.
ARG REVISION=unknown
RUN EGRESS_EXPORTER_REVISION="${REVISION}" npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime ----
FROM node:20.20.2-bookworm-slim

# Keep VERSION in step with package.json (a test checks it).
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=""

LABEL org.opencontainers.image.title="egress-exporter" \
      org.opencontainers.image.description="Prometheus exporter that proves, continuously, that a network lets its machines reach the hosts they must reach, the way those hosts require." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="docker.io/library/node:20.20.2-bookworm-slim"

ENV NODE_ENV=production \
    EGRESS_EXPORTER_REVISION="${REVISION}"

WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules/ ./node_modules/
COPY --from=build /app/dist/ ./dist/
# The default config: the built-in Chainguard catalog. Mount your own file over
# it (or the whole directory, as the Kubernetes ConfigMap does).
COPY deploy/docker/egress.yml /etc/egress-exporter/egress.yml

USER 65532:65532
EXPOSE 9739
# The node flags of src/node-flags.ts (why: there).
ENTRYPOINT ["node", "--max-semi-space-size=2", "--heap-growing-percent=20", "/app/dist/cli.js"]
CMD ["--config.file=/etc/egress-exporter/egress.yml"]
