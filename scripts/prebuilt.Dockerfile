# The root Dockerfile's two images, from a static build made beforehand on a Debian 12 machine
# (scripts/build-images --prebuilt, docs/templates.md): the build stage's packages are installed
# the same way and build-static/'s programs and bundle kit copied in, instead of compiled. Its
# context is the folder build-images assembles: scripts/install-deps and build-static/.
ARG BUILD_IMAGE=debian:12
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY scripts/install-deps scripts/
RUN ./scripts/install-deps --build-only && rm -rf /var/lib/apt/lists/*
COPY build-static/ build-static/

FROM scratch
COPY --from=build /src/build-static/fwatchdog /fwatchdog
CMD ["/fwatchdog"]
