# The watchdog image, in the layout of the upstream of-watchdog image: a scratch image holding
# only /fwatchdog, the static binary of scripts/build-static (docs/static.md). Templates copy it:
#
#   docker build -t ofwatchdog:latest .
#   # in a function's Dockerfile:
#   FROM ofwatchdog:latest AS watchdog
#   COPY --from=watchdog /fwatchdog /usr/bin/fwatchdog
#
# The build stage alone is the image that bundles wasm modules into the watchdog
# (templates/c-wasm, docs/wasm-bundle.md): it has /src/build-static/fwatchdog and its bundle
# kit, wasm2c, and clang for wasm32-wasi.
#
#   docker build --target build -t ofwatchdog:build .
#
# The context has no .git (.dockerignore), so the commit `fwatchdog -version` names comes in as
# GIT_SHA (scripts/build-images passes `git rev-parse --short HEAD`):
#
#   docker build --build-arg GIT_SHA=$(git rev-parse --short HEAD) -t ofwatchdog:latest .
ARG BUILD_IMAGE=debian:12
FROM ${BUILD_IMAGE} AS build
ARG GIT_SHA=
WORKDIR /src
COPY . .
# build-static installs what it needs and nothing more (install-deps --build-only: the
# compilers, the libraries, clang for wasm32-wasi and wabt for bundling; no test tools). The
# package lists and prometheus-cpp's source and build tree are not needed afterwards; its
# static archive is in the bundle kit.
RUN ./scripts/build-static \
 && rm -rf /var/lib/apt/lists/* build-static/prometheus-cpp/source build-static/prometheus-cpp/build

FROM scratch
COPY --from=build /src/build-static/fwatchdog /fwatchdog
CMD ["/fwatchdog"]
