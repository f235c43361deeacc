# Production image: slim Python, non-root, gunicorn with threaded workers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 APP_ENV=production
WORKDIR /app

COPY pyproject.toml README.md ./
COPY service ./service
COPY schemas ./schemas
RUN pip install . && useradd --create-home --uid 10001 lingjun

USER lingjun
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--workers", "4", "--threads", "8", \
     "--timeout", "60", "--config", "python:service.gunicorn_conf", "service:create_app()"]
