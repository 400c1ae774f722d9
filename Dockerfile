# The watchdog image, in the layout of the upstream of-watchdog image: a scratch image holding
# only /fwatchdog, the static binary of scripts/build-static (docs/static.md). Templates copy it:
#
#   docker build -t ofwatchdog:latest .
#   # in a function's Dockerfile:
#   FROM ofwatchdog:latest AS watchdog
#   COPY --from=watchdog /fwatchdog /usr/bin/fwatchdog
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
