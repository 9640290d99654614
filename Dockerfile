FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends git graphviz && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY registry ./registry
COPY api ./api
COPY workers ./workers
COPY schemas ./schemas
RUN pip install --no-cache-dir .
ENV REGISTRY_DATA_DIR=/data
EXPOSE 8000
CMD ["registry", "serve", "--host", "0.0.0.0", "--port", "8000"]
