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
ENV NODE_ENV=production \
    CATALOG=/etc/mlops/catalog \
    HOME=/tmp
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
