# syntax=docker/dockerfile:1
#
# One image with the bridge's production binaries (none links the Temporal
# server):
#   liveagent-worker   the worker (./cmd/liveagent-worker)
#   liveagent-gateway  the assistant HTTP gateway (./cmd/liveagent-gateway)
#   miaw-emulator      the MIAW emulator, for environments without an org
#   liveagent          the assistant CLI (./cmd/liveagent)
# docker-compose.yml picks the binary per service with `entrypoint`.
#
#   docker build -t liveagent .

FROM golang:1.26 AS build
WORKDIR /src
# GOWORK=off: the product module alone; go.work would pull in the dev server module.
ENV CGO_ENABLED=0 GOFLAGS=-trimpath GOTOOLCHAIN=local GOWORK=off
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags="-s -w" -o /out/bin/liveagent-worker ./cmd/liveagent-worker && \
    go build -ldflags="-s -w" -o /out/bin/liveagent-gateway ./cmd/liveagent-gateway && \
    go build -ldflags="-s -w" -o /out/bin/miaw-emulator ./cmd/miaw-emulator && \
    go build -ldflags="-s -w" -o /out/bin/liveagent ./cmd/liveagent
# Mount points owned by the runtime user, so named volumes inherit it.
RUN mkdir -p /out/data/attachments /out/keys

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/keys /keys
USER 65532:65532
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/liveagent-worker"]
