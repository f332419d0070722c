# GradeCraft's one image: web (gunicorn), workers and beat (docker-compose.yml). Static files are
# collected at build and served by whitenoise.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
RUN DEBUG=True python manage.py collectstatic --noinput -v0 \
    && useradd --system --no-create-home --uid 10001 gradecraft
USER gradecraft
EXPOSE 8000
CMD ["gunicorn", "gradecraft.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
