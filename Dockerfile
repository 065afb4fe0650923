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
ENTRYPOINT ["/usr/local/bin/skserve"]
CMD ["serve"]
