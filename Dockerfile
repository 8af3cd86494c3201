# syntax=docker/dockerfile:1
# Images for tillstream's binaries.
#   docker build --target command-api -t tillstream/command-api .
#   docker build --target projector   -t tillstream/projector .
#   docker build --target backoffice  -t tillstream/backoffice .
#   docker build --target webhooks    -t tillstream/webhooks .
#   docker build --build-arg BIN=projector -t tillstream/projector .   (default last stage)
# compose.yaml builds the named targets.

ARG RUST_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- build the binaries once --------------------------------------------------------
FROM ${RUST_IMAGE} AS builder
WORKDIR /src
# Whole workspace (target/, .services/, .git/ are excluded by .dockerignore).
COPY . .
# Cache mounts keep the registry and incremental build between image builds; the target
# directory is a cache mount, so the binaries are copied out in the same step.
RUN --mount=type=cache,id=tillstream-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=tillstream-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=tillstream-target,target=/src/target,sharing=locked \
    cargo build --release --locked --bin command-api --bin projector --bin backoffice --bin webhooks \
 && mkdir -p /out \
 && cp target/release/command-api target/release/projector target/release/backoffice target/release/webhooks /out/

# ---- common runtime ------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tillstream \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin tillstream
USER 10001:10001
ENV RUST_LOG=info

# ---- one target per binary -----------------------------------------------------------
FROM runtime AS command-api
COPY --from=builder /out/command-api /usr/local/bin/command-api
ENV LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/command-api"]

FROM runtime AS projector
COPY --from=builder /out/projector /usr/local/bin/projector
ENTRYPOINT ["/usr/local/bin/projector"]

FROM runtime AS webhooks
COPY --from=builder /out/webhooks /usr/local/bin/webhooks
ENTRYPOINT ["/usr/local/bin/webhooks"]

FROM runtime AS backoffice
COPY --from=builder /out/backoffice /usr/local/bin/backoffice
ENV BACKOFFICE_LISTEN_ADDR=0.0.0.0:8081
EXPOSE 8081
ENTRYPOINT ["/usr/local/bin/backoffice"]

# ---- default (last) stage: the binary chosen with --build-arg BIN ---------------------
FROM runtime AS app
ARG BIN=command-api
COPY --from=builder /out/${BIN} /usr/local/bin/app
ENV LISTEN_ADDR=0.0.0.0:8080
ENTRYPOINT ["/usr/local/bin/app"]
