# syntax=docker/dockerfile:1
# Ministream in a container: Debian's ffmpeg, the compiled CLI, data in the /data volume.
#   docker build -t ministream:local .
#   docker run --rm -p 8789:8789 -v ministream-data:/data ministream:local

# ---- build: compile TypeScript and better-sqlite3 (if no prebuilt binary fits), then drop dev deps
FROM node:22-bookworm-slim AS build
WORKDIR /app
# node-gyp's toolchain, in case better-sqlite3 has to compile its addon from source.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# --omit=optional as well: the only optional production packages are the npm copies of ffmpeg and
# ffprobe (about 140 MB, unused because Debian's ffmpeg on PATH wins) and esbuild's binaries
# (used by tsx, which the compiled CLI does not need).
RUN npm run build \
 && npm prune --omit=dev --omit=optional

# ---- runtime: no compilers, no npm cache, no sources
FROM node:22-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg srt-tools \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    MINISTREAM_HOST=0.0.0.0 \
    MINISTREAM_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY db/migrations ./db/migrations
COPY package.json ./
# Created and chowned before VOLUME: a new named volume copies this ownership, so the non-root
# user can write the SQLite file and the media.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
# HTTP, RTMP ingest, and the SRT ports of the first 10 live inputs (two UDP ports per input from 7780:
# one to push to, one to play from).
EXPOSE 8789 1935 7780-7799/udp
# No curl in the slim image: node's fetch does it. Follows MINISTREAM_PORT if it is changed.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.MINISTREAM_PORT||8789)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The CLI shuts down cleanly on SIGTERM (docker stop).
CMD ["node", "bin/ministream.js"]
