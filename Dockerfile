# One image for every Vigil service; compose.yaml picks the command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY vigil vigil
COPY api api
COPY ingest ingest
COPY aggregator aggregator
COPY evaluator evaluator
COPY notify notify
COPY benchmarks benchmarks
COPY sql sql
RUN pip install --no-cache-dir .
# Run the packages from /app, beside sql/ (migrations and named queries are read from the
# source tree), not from the copies pip put in site-packages.
ENV PYTHONPATH=/app
RUN useradd --system vigil
USER vigil
ENTRYPOINT ["vigil"]
