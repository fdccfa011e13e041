# One image for every part of the hospital; docker-compose.yml picks the
# process with `command`. Built from the official Node image (the project's
# Node major), with the workspace's own lockfile.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci && npx nx run-many -t build --skip-nx-cache

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
# The broker's logs live on a volume (see docker-compose.yml).
RUN mkdir -p /var/lib/hospital-broker && chown node:node /var/lib/hospital-broker
USER node
CMD ["node", "services/broker/dist/main.js"]
