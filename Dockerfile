# The notification service image: API, pages, delivery worker and Kafka consumer are all `manage.py` commands.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NOTIFICATIONS_VAR_DIR=/app/var

WORKDIR /app
COPY pyproject.toml README.md ./
COPY notification_service ./notification_service
COPY notifications ./notifications
COPY manage.py ./
RUN pip install --no-cache-dir . && useradd --create-home --uid 1000 app && mkdir -p /app/var && chown app /app/var
USER app

EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py serve --host 0.0.0.0 --port 8000 --no-worker"]
