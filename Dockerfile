# One image for web, worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PROMETHEUS_MULTIPROC_DIR=/tmp/vetted-metrics
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY worker ./worker
RUN pip install . && useradd --create-home vetted
USER vetted
RUN mkdir -p /tmp/vetted-metrics
EXPOSE 8000
CMD ["gunicorn", "--workers", "4", "--worker-class", "gthread", "--threads", "8", "--timeout", "60", "--bind", "0.0.0.0:8000", "service.wsgi:app"]
