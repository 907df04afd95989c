# syntax=docker/dockerfile:1
# herd's image: both binaries, `herd` (CLI and agent) and `herd-operator`.
#
#   docker build -t herd:0.1.0 .
#   docker build --build-arg BUILD_IMAGE=registry.example.com/debian:bookworm \
#                --build-arg RUNTIME_IMAGE=registry.example.com/debian:bookworm-slim -t herd .
#   scripts/build-image herd:dev   (podman; Debian bases made with debootstrap when no
#                                   registry is reachable; scripts/check-image checks it)
#
# The runtime stage holds only the shared libraries the binaries link against
# (tests/chart/docker_runtime_libs_test.sh checks the list below against `ldd`
# of both binaries, package by package) and runs as uid/gid 65532. See
# docs/install.md for the image size and how it was measured.
ARG BUILD_IMAGE=debian:bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
ARG DEBIAN_FRONTEND=noninteractive
# The build and library packages of scripts/install-deps (test tools left out).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates ccache \
      libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev libprotoc-dev \
      libyaml-cpp-dev libcpprest-dev libspdlog-dev libfmt-dev nlohmann-json3-dev \
      libcli11-dev libssl-dev libabsl-dev libsimdjson-dev libre2-dev libnghttp2-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The compiler cache lives in a build cache mount (BuildKit and buildah keep it
# between builds on one machine, outside every image layer), so a rebuild after
# a small change compiles only what changed.
ENV CCACHE_DIR=/ccache CCACHE_BASEDIR=/src CCACHE_NOHASHDIR=true CCACHE_MAXSIZE=2G
RUN --mount=type=cache,target=/ccache,id=herd-ccache \
    cmake --preset release -DHERD_BUILD_TESTS=OFF -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
 && cmake --build --preset release -j"$(nproc)" --target herd herd-operator \
 && mkdir -p /out \
 && strip -o /out/herd build/release/agent/cli/herd \
 && strip -o /out/herd-operator build/release/operator/main/herd-operator \
 && cmake --install build/release --prefix /out/sdk

FROM ${RUNTIME_IMAGE}
ARG DEBIAN_FRONTEND=noninteractive
# runtime-packages-begin (one per line; the test parses this block)
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libc6 \
      libgcc-s1 \
      libstdc++6 \
      libabsl20220623 \
      libbrotli1 \
      libc-ares2 \
      libcpprest2.10 \
      libfmt9 \
      libgrpc++1.51 \
      libgrpc29 \
      libnghttp2-14 \
      libprotobuf32 \
      libre2-9 \
      libsimdjson14 \
      libspdlog1.10 \
      libssl3 \
      libyaml-cpp0.7 \
      zlib1g \
      ca-certificates \
      tzdata \
 && rm -rf /var/lib/apt/lists/*
# runtime-packages-end
RUN groupadd --system --gid 65532 herd \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin herd
COPY --from=build /out/herd /out/herd-operator /usr/local/bin/
# The C++ scenario API's headers and CMake package (docs/compiled-scenarios.md):
# an image built FROM this one compiles scenario libraries against them.
COPY --from=build /out/sdk/include/herd /usr/local/include/herd
COPY --from=build /out/sdk/lib/cmake/herd /usr/local/lib/cmake/herd
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
WORKDIR /tmp
# The chart runs `herd-operator ...`; agent pods run `herd agent ...`.
CMD ["herd", "--help"]
