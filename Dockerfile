# opsgraph API image. Build: docker build -t opsgraph .

# GraphiQL's browser files, pinned by package-lock.json, so /graphql works with no internet
FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error && npm run --silent vendor

FROM python:3.12-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY opsgraph ./opsgraph
RUN python -m venv /venv && /venv/bin/pip install .
# into the installed package, next to the static files it serves; fail the build without them
COPY --from=assets /src/opsgraph/static/vendor /tmp/vendor
RUN static="$(/venv/bin/python -c 'from opsgraph.rest.graphiql import STATIC_DIR; print(STATIC_DIR)')" \
 && rm -rf "$static/vendor" && cp -r /tmp/vendor "$static/vendor" \
 && /venv/bin/python -c 'import sys; from opsgraph.rest.graphiql import missing_vendor_files as m; sys.exit(", ".join(m()) or None)'

FROM python:3.12-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    OPSGRAPH_ENVIRONMENT=production \
    OPSGRAPH_HOST=0.0.0.0 \
    OPSGRAPH_PORT=8000
RUN useradd --system --create-home --uid 10001 opsgraph
COPY --from=build /venv /venv
WORKDIR /app
COPY alembic.ini ./
COPY migrations ./migrations
USER opsgraph
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"]
CMD ["sh", "-c", "opsgraph migrate && exec opsgraph serve"]
