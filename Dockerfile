# The platform's services image: one image, three entry points (features, serving, drift).
# Multi-stage: build with dev dependencies, compile to dist/, keep production dependencies only.
# Runs as a non-root user and writes nothing to its root filesystem (only /tmp and mounted volumes),
# so Kubernetes can run it with readOnlyRootFilesystem: true.

# Pinned base image (tag pinned to the exact Node release; pin the digest in your registry mirror).
FROM node:22.23.5-bookworm-slim AS build
WORKDIR /app
ENV CI=true
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY definition ./definition
COPY components ./components
COPY services ./services
COPY stacks ./stacks
COPY policies ./policies
COPY cli ./cli
RUN npx tsc -p tsconfig.json --outDir dist && cp -r services/serving/proto dist/services/serving/proto
# Production dependencies only, then drop what only the Pulumi program needs (the services never load it).
RUN npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@pulumi node_modules/kubernetes-models node_modules/@kubernetes-models \
 && rm -rf dist/stacks dist/policies dist/components/aws dist/components/gcp dist/components/k8s dist/test dist/bench

FROM node:22.23.5-bookworm-slim AS runtime
# GLIBC_TUNABLES: glibc keeps up to 32 MiB of freed heap instead of handing it back to the kernel
# at 128 KiB, and serves blocks under 32 MiB from its heap instead of fresh mmaps. A binary tensor's
# buffers (onnxruntime's output, 1 MiB for a 262,144-float tensor) are freed by V8's sweeper and
# allocated again by the next request; with glibc's defaults each round trip returned the pages and
# faulted them back in: 120-257 minor faults and ~0.6 ms of kernel time per 1 MiB request, 0-2
# faults with these settings (test/services/serving/heap-tunables.test.ts, bench serving-protocols).
ENV NODE_ENV=production \
    CATALOG=/etc/mlops/catalog \
    HOME=/tmp \
    GLIBC_TUNABLES=glibc.malloc.trim_threshold=33554432:glibc.malloc.mmap_threshold=33554432
WORKDIR /app
COPY --from=build --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /app/dist ./dist
COPY --from=build --chown=0:0 /app/package.json ./package.json
COPY --chown=0:0 catalog /etc/mlops/catalog
COPY --chown=0:0 models /app/models
# Files are owned by root and read-only for the service user.
USER 10001:10001
EXPOSE 6566 8080 8081
ENTRYPOINT ["node"]
CMD ["dist/services/features/main.js", "serve"]
