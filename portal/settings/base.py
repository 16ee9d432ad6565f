"""Settings shared by every environment, driven by environment variables (django-environ)."""

from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdefghijklmnop")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public address printed in documents (QR codes point to verification pages under it).
# production.py requires it (https).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# How many reverse proxies in front of the portal append the address they were reached from to
# X-Forwarded-For (production: 1, the TLS proxy). 0: the client is REMOTE_ADDR and the header,
# which anyone can send, is ignored. Read by portal.audit.client_ip (audit events, throttles),
# django-axes (through client_ip), django-allauth and DRF.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Access-log rows of the admission-desk check are written in batches by a writer thread every
# this many milliseconds (0: each row before the response).
ACCESS_LOG_FLUSH_MS = env.int("ACCESS_LOG_FLUSH_MS", default=0)

# Keyed hash of resident ID numbers for exact lookup; the ciphertext key is SALT_KEY below.
ID_HASH_KEY = env("ID_HASH_KEY", default="dev-only-id-hash-key")
# django-fernet-encrypted-fields derives its keys from SECRET_KEY and these salts.
SALT_KEY = env.list("FIELD_ENCRYPTION_SALTS", default=["dev-only-field-salt"])

INSTALLED_APPS = [
    "portal.admin_config.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "csp",
    "portal",
    "hospitals",
    "filings",
    "settlement",
]

MIDDLEWARE = [
    "portal.lib.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.ApiLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "portal.middleware.QueryLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",
    "portal.middleware.SessionTimeoutMiddleware",
    "portal.middleware.StaffTotpMiddleware",
    "portal.middleware.RecentAuthenticationMiddleware",
    "portal.middleware.MethodNotAllowedPageMiddleware",
    "portal.middleware.PrivatePagesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.role",
            ],
        },
    },
]

# Embedded default: SQLite. DATABASE_URL switches to PostgreSQL (psycopg 3).
# A write transaction takes SQLite's write lock when it begins (IMMEDIATE): with the default
# (DEFERRED) two requests at once (a double click) both read, then both try to write, and one
# fails at once with "database is locked" whatever the timeout; now the second waits.
SQLITE_OPTIONS = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
# Dates as the portal writes them (portal/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["portal.formats"]
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Uploaded proof materials live here and are never served by URL, only by permission-checked views.
PRIVATE_MEDIA_ROOT = env("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "media" / "private"))
# A post larger than ten files at the upload limit is refused before it is spooled to disk.
FILE_UPLOAD_HANDLERS = [
    "filings.uploads.RequestSizeLimit",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Accounts (django-allauth).
SITE_ID = 1
LOGIN_REDIRECT_URL = "home"
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"
LOGIN_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SIGNUP_FORM_CLASS = "portal.forms.InsuredSignupForm"
ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
# Failed sign-ins: 5 in 5 minutes for one account (django-axes then locks that account from
# that address for an hour), and 30 in 5 minutes from one address across accounts: a family's
# or a community centre's shared address is not locked by one person's mistyped passwords.
ACCOUNT_RATE_LIMITS = {"login_failed": "30/5m/ip,5/5m/key"}
ACCOUNT_LOGOUT_ON_GET = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# Staff keep their authenticator app: it cannot be deactivated (portal.adapters.MFAAdapter).
MFA_ADAPTER = "portal.adapters.MFAAdapter"
MFA_FORMS = {
    "authenticate": "portal.mfa_forms.PortalAuthenticateForm",
    "reauthenticate": "portal.mfa_forms.PortalReauthenticateForm",
}
# Revealing an ID number, approving and exporting need a sign-in or re-authentication (password
# or TOTP) this recent (portal.middleware.RecentAuthenticationMiddleware).
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
MFA_TOTP_ISSUER = "异地就医备案结算平台"

# Sessions (portal.middleware.SessionTimeoutMiddleware): staff are agency and hospital staff
# and superusers; everyone else is treated as an insured person.
SESSION_IDLE_SECONDS_STAFF = 900
SESSION_ABSOLUTE_SECONDS_STAFF = 8 * 60 * 60
SESSION_IDLE_SECONDS_INSURED = 1800

# Headers. Scripts only from our own static files (no inline script, no eval). Styles allow
# 'unsafe-inline' because pages we do not own carry inline styles: the admin's change list
# (<style>), the Swagger UI page (<style>), allauth's e-mail pages and django-import-export's
# export form (style attributes).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=()"

# Brute force: lock out by username + IP (django-axes).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "portal.adapters.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/locked_out.html"
# The client's address behind the proxy (TRUSTED_PROXY_COUNT), not the proxy's: django-ipware,
# which AXES_IPWARE_* configure, is not installed, and axes would read REMOTE_ADDR.
AXES_CLIENT_IP_CALLABLE = "portal.audit.client_ip"
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Where django.core.mail.backends.filebased.EmailBackend writes (media/ is never served).
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "media" / "sent-mail"))
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="noreply@ybj.example.cn")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Celery: embedded broker (kombu's SQLAlchemy transport on SQLite) unless REDIS_URL is set.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env(
    "CELERY_BROKER_URL",
    default=REDIS_URL or f"sqla+sqlite:///{BASE_DIR / 'celery-broker.sqlite3'}",
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# The longest-running tasks (the nightly filings job) set these limits; the longest hard limit
# of any task, checked for every registered task by tests/portal/test_celery_worker.py.
JOB_TIME_LIMIT = 2000
JOB_SOFT_TIME_LIMIT = 1800
# Redis hands an unacknowledged task to another worker after the visibility timeout. Derived
# from the hard limits, so a task is redelivered only once the worker that had it must be dead
# (a lower value would run a slow but healthy job twice at once). Not read from the
# environment: only the test settings may shorten it.
CELERY_VISIBILITY_TIMEOUT = max(CELERY_TASK_TIME_LIMIT, JOB_TIME_LIMIT) + 600
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
    else {}
)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["hospitals.api_errors.JSONParser"],  # a too-deep body is a 400
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "hospitals.api_errors.exception_handler",
    # DRF's default (None) would believe the whole X-Forwarded-For a client sends.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "hospital_key": env("HOSPITAL_KEY_RATE", default="1200/min"),
        # The public verification of a printed QR code, per client address.
        "verify": env("VERIFY_RATE", default="120/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "异地就医直接结算 Hospital API",
    "DESCRIPTION": "Hospital API contract v1 for designated medical institutions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {"CareTypeEnum": "hospitals.models.CareType"},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No online validator badge: it would send the schema's address to swagger.io (and the
    # CSP blocks the image anyway).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # "C++ to Python logger bridge initialized" on every start and command.
        "pikepdf": {"level": "WARNING"},
    },
}
