# syntax=docker/dockerfile:1
# The operator image. Two stages: `build` turns the source into a wheel and installs it,
# with the exact versions of constraints.txt and their sha256 hashes
# (requirements-build.txt, requirements-image.txt: `make image-lock`), into a virtualenv;
# the final stage is the
# same Python base (pinned by digest) with that virtualenv copied in, pip removed, and a
# non-root user. No compiler anywhere: every dependency installs from a binary wheel.
# Refresh the base: docker buildx imagetools inspect python:3.11-slim (take the index digest).
ARG PYTHON_IMAGE=python:3.11.16-slim-trixie@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements-build.txt requirements-image.txt ./
RUN python -m pip install --only-binary=:all: --require-hashes --no-deps -r requirements-build.txt
COPY pyproject.toml README.md ./
COPY operator/ operator/
RUN python -m pip wheel --no-build-isolation --no-deps --wheel-dir /dist . \
 && python -m venv --without-pip /opt/fwop \
 && python -m pip --python /opt/fwop/bin/python install --only-binary=:all: \
      --require-hashes --no-deps -r requirements-image.txt \
 && python -m pip --python /opt/fwop/bin/python install --no-deps /dist/fwop-*.whl

FROM ${PYTHON_IMAGE}
# pip, setuptools and wheel are build tools the operator never runs.
RUN python -m pip uninstall --yes pip setuptools wheel \
 && useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin fwop
COPY --from=build /opt/fwop /opt/fwop
ENV PATH=/opt/fwop/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# Numeric, so the kubelet can check runAsNonRoot against the image.
USER 10001:10001
EXPOSE 8080 9443
ENTRYPOINT ["fwop-operator"]
