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
ARG BUILD_IMAGE=debian:12
FROM ${BUILD_IMAGE} AS build
# build-static installs the rest (meson, the libraries, Debian's prometheus-cpp source).
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN rm -rf build-static && ./scripts/build-static

FROM scratch
COPY --from=build /src/build-static/fwatchdog /fwatchdog
CMD ["/fwatchdog"]
