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
RUN useradd --system vigil
USER vigil
ENTRYPOINT ["vigil"]
