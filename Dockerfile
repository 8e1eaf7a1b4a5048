# syntax=docker/dockerfile:1
# flightdeck container image: one image for every command (migrate, serve, ingest, publish,
# pubsub-setup), chosen by the arguments, e.g. `docker run IMAGE ingest`.
#
# Stages: chef (toolchain + cargo-chef) -> planner (dependency recipe) -> builder (dependencies
# cooked in their own layer, then the app) -> runtime (distroless cc, non-root). The binary uses
# rustls with aws-lc-rs, so the runtime needs glibc, libgcc and CA certificates, which
# distroless/cc provides, and nothing else: no shell, no package manager.
#
# Build: docker build --build-arg GIT_SHA="$(git rev-parse HEAD)" -t flightdeck .

# Base images are literal (not ARGs) so Dependabot can propose updates to them.
FROM rust:1.95.0-slim-bookworm AS chef
ARG CARGO_CHEF_VERSION=0.1.78
RUN cargo install --locked "cargo-chef@${CARGO_CHEF_VERSION}" \
    && rm -rf /usr/local/cargo/registry
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
# Dependencies only: this layer is reused until Cargo.toml or Cargo.lock change.
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked -p flightdeck --recipe-path recipe.json
COPY . .
# GIT_SHA is read at compile time (option_env!) for flightdeck_build_info; declared here, after
# the dependency layer, so a new commit does not invalidate the cooked dependencies.
ARG GIT_SHA=unknown
ENV GIT_SHA=${GIT_SHA}
RUN cargo build --release --locked -p flightdeck \
    && install -D -m 0755 target/release/flightdeck /out/flightdeck

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
ARG GIT_SHA=unknown
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="flightdeck" \
      org.opencontainers.image.description="Pub/Sub -> Postgres -> HTTP API pipeline for flight events" \
      org.opencontainers.image.source="https://github.com/flightdeck-sre/flightdeck" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.revision="${GIT_SHA}" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=builder /out/flightdeck /usr/local/bin/flightdeck
# 65532 is distroless' nonroot user; numeric so Kubernetes-style runAsNonRoot checks can verify it.
USER 65532:65532
ENV PORT=8080 \
    METRICS_PORT=9464 \
    LOG_FORMAT=json
EXPOSE 8080 9464
# No HEALTHCHECK: the image has no shell or HTTP client, and the platforms that run it probe
# /healthz and /readyz themselves (Cloud Run startup/liveness probes, compose depends_on).
# checkov:skip=CKV_DOCKER_2: health is probed by the platform over HTTP, see the comment above
ENTRYPOINT ["/usr/local/bin/flightdeck"]
CMD ["serve"]
