# skserve container image: the Rust binary alone on a distroless base, running as non-root.
#
#   docker build -t skserve .
#   docker run -p 8080:8080 -e PORT=8080 -e SKSERVE_AUTH_AUDIENCE=https://… skserve
#
# On Cloud Run, PORT is set by the platform and skserve listens on 0.0.0.0:$PORT with Google
# ID token authentication (see docs/deploying.md, "Authentication"). cloudbuild.yaml builds this.

FROM rust:1-bookworm AS build
WORKDIR /src
# The whole package (the manifest names its tests and benches; the binary embeds the challenge
# model and the default SLOs), without target/ and .git (see .dockerignore).
COPY . .
ARG SKSERVE_GIT_SHA=unknown
ENV SKSERVE_GIT_SHA=${SKSERVE_GIT_SHA}
RUN cargo build --release --locked --bin skserve

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/skserve /usr/local/bin/skserve
USER nonroot:nonroot
EXPOSE 8080
ENV SKSERVE_LOG_FORMAT=json
# glibc's allocator otherwise raises the size from which it maps memory straight from the
# system (up to 32 MiB) as large blocks are freed, and keeps every smaller block it was given
# back: after each model load, up to a load's worth of freed memory would stay resident, per
# thread, beside the next load. With a fixed threshold of 1 MiB a load's large blocks go back
# to the system when it ends, and the instance holds what it serves plus one load within
# --max-model-bytes (README, "The loading budget"; tests/api/budget.rs runs skserve with this).
ENV GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576
ENTRYPOINT ["/usr/local/bin/skserve"]
CMD ["serve"]
