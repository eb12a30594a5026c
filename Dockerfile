# syntax=docker/dockerfile:1
# Container image of spike-bootstrap.
#
# The build stage compiles on Debian bookworm with exactly the packages that
# scripts/setup installs, then scripts/collect-runtime copies the binary, every
# shared library it loads and the dynamic loader into one folder.
#
# The runtime stage is distroless "static": CA certificates, /etc/passwd with
# the nonroot user (UID 65532), time zone data, and no C library, shell or
# package manager. Because the collected folder brings its own loader and
# glibc, the loader and libc always come from the same build. The "cc" image
# would add a second glibc whose patch level could differ from the one the
# folder was collected from. tests/integration/runtime runs the binary from
# the folder alone and from this exact layout under chroot.
#
#   docker build -t spike-bootstrap:0.1.0 .
#   docker run --rm spike-bootstrap:0.1.0 --version

ARG BUILD_IMAGE=debian:bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY scripts/setup scripts/setup
RUN scripts/setup && rm -rf /var/lib/apt/lists/*

COPY . .
RUN --mount=type=cache,target=/root/.cache/ccache \
    CCACHE_DIR=/root/.cache/ccache cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release \
      -DSPIKE_BOOTSTRAP_TESTS=OFF \
 && CCACHE_DIR=/root/.cache/ccache cmake --build /build -j "$(nproc)" --target spike-bootstrap \
 && strip --strip-unneeded /build/spike-bootstrap \
 && scripts/collect-runtime --image-root /image-root /build/spike-bootstrap \
 && env -i LD_LIBRARY_PATH=/opt/spike-bootstrap /usr/sbin/chroot /image-root /spike-bootstrap --version

FROM ${RUNTIME_IMAGE}
ARG RUNTIME_IMAGE
# Keep VERSION equal to project(VERSION) in CMakeLists.txt and appVersion in
# charts/spike-bootstrap/Chart.yaml; scripts/check-deploy compares them.
ARG VERSION=0.1.0
ARG REVISION=""
ARG CREATED=""
ARG SOURCE=""
LABEL org.opencontainers.image.title="spike-bootstrap" \
      org.opencontainers.image.description="Bootstraps SPIKE Nexus: generates the root key, sends one Shamir share to each SPIKE Keeper over SPIFFE mTLS and checks that Nexus rebuilt the same key." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}"

# Files stay owned by root, so the process cannot change its own binary.
COPY --from=build /image-root/ /
ENV LD_LIBRARY_PATH=/opt/spike-bootstrap
USER 65532:65532
ENTRYPOINT ["/spike-bootstrap"]
CMD ["-init"]
