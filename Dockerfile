# Production image: gunicorn web, Celery worker and Celery beat all run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=portal.settings.production

# WeasyPrint (Pango, HarfBuzz with subsetting: without libharfbuzz-subset0 CJK PDFs render
# 15-50x slower), a CJK font and its fallback for the rare characters of names (fonts-hanazono:
# CJK Ext A-F, which wqy-microhei lacks; static/css/pdf-forms.css), and gettext for the
# translations.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
    libharfbuzz-subset0 fonts-wqy-microhei fonts-hanazono gettext curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY portal ./portal
COPY hospitals ./hospitals
COPY filings ./filings
COPY settlement ./settlement
RUN pip install .
COPY . .
# Production settings refuse to load without their secrets: build-only placeholders here,
# never baked into a running container (compose and the deployment set the real ones).
RUN SECRET_KEY=build ID_HASH_KEY=build FIELD_ENCRYPTION_SALTS=build ALLOWED_HOSTS=localhost \
    SITE_URL=https://build.invalid python manage.py compilemessages --ignore=.venv -v0 \
 && SECRET_KEY=build ID_HASH_KEY=build FIELD_ENCRYPTION_SALTS=build ALLOWED_HOSTS=localhost \
    SITE_URL=https://build.invalid python manage.py collectstatic --noinput -v0 \
 && useradd --system --uid 1000 portal && mkdir -p /data/media && chown -R portal /data

USER portal
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
