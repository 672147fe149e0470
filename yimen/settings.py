"""Yimen settings: one file, driven by environment variables (see README, "Configuration")."""

import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("YIMEN_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; real environment variables win


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into var/."""
    if key := env.str("SECRET_KEY", default=""):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "yimen.admin_site.YimenAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "bootstrap",
    "axes",
    "yimen.common",
    "yimen.org",
    "yimen.accounts",
    "yimen.catalog",
    "yimen.hall",
    "yimen.cases",
    "yimen.licences",
    "yimen.joint",
    "yimen.hotline",
    "yimen.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yimen.common.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "yimen.urls"
WSGI_APPLICATION = "yimen.wsgi.application"

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
                "yimen.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'yimen.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions serialise writers up front, so two concurrent requests never
    # both read "the last audit hash" or "the free case number"; WAL lets readers continue.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://yimen")}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "yimen.accounts.backends.AccountBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "home"

# Lockout after repeated failed logins (django-axes): per username and address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "yimen.common.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Yimen API",
    "DESCRIPTION": "一门式一网式政务服务平台 — one-door, one-network government services.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Background work ------------------------------------------------------------------------
# With no broker configured (the embedded default) tasks run eagerly in the calling process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "calendar-coverage-check": {
        "task": "yimen.common.tasks.check_calendar_coverage",
        "schedule": 24 * 3600,
    },
    # The 5-working-day acceptance rule and overdue 容缺 commitments (yimen.cases.rules).
    "cases-sweep": {
        "task": "yimen.cases.tasks.sweep_cases",
        "schedule": 15 * 60,
    },
    # The 5-working-day acceptance rule for theme applications (yimen.joint.services).
    "joint-sweep": {
        "task": "yimen.joint.tasks.sweep_joint",
        "schedule": 15 * 60,
    },
    # Missed appointments and tickets left in the queue overnight (yimen.hall.services.sweep).
    "hall-sweep": {
        "task": "yimen.hall.tasks.sweep_hall",
        "schedule": 15 * 60,
    },
    # 12345 orders past a deadline: yellow and red cards, notices to the units.
    "hotline-sweep": {
        "task": "yimen.hotline.tasks.sweep_hotline",
        "schedule": 15 * 60,
    },
    # Licences past their last day become expired (also applied whenever one is read).
    "licences-expiry": {
        "task": "yimen.licences.tasks.expire_licences",
        "schedule": 24 * 3600,
    },
}

# --- Yimen ----------------------------------------------------------------------------------
# A running clock turns yellow when at most this many working days (or hours, for hour
# clocks) or this share of its limit is left; red once it is overdue.
# Uploaded materials: the size cap and the file types taken (by extension and content).
YIMEN_UPLOAD_MAX_MB = env.int("YIMEN_UPLOAD_MAX_MB", default=20)
YIMEN_UPLOAD_TYPES = env.list("YIMEN_UPLOAD_TYPES", default=["pdf", "jpg", "jpeg", "png", "ofd"])
YIMEN_CLOCK_YELLOW_DAYS = env.int("YIMEN_CLOCK_YELLOW_DAYS", default=2)
YIMEN_CLOCK_YELLOW_HOURS = env.int("YIMEN_CLOCK_YELLOW_HOURS", default=2)
YIMEN_CLOCK_YELLOW_RATIO = env.float("YIMEN_CLOCK_YELLOW_RATIO", default=0.2)
# From this day of the year on, system admins are warned if next year's calendar is missing.
YIMEN_CALENDAR_WARN_FROM = env.str("YIMEN_CALENDAR_WARN_FROM", default="10-01")
YIMEN_PUBLIC_URL = env.str("YIMEN_PUBLIC_URL", default="http://127.0.0.1:8000")  # QR codes
# Appointments can be booked from today to this many working days ahead.
YIMEN_APPOINTMENT_DAYS = env.int("YIMEN_APPOINTMENT_DAYS", default=7)

# --- Security headers, logging --------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal": {"()": "yimen.common.logging.MaskPersonalDataFilter"}},
    "formatters": {"plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["mask_personal"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

FORM_RENDERER = "yimen.common.forms.FormRenderer"

# The orders of the 12345 month that `load_demo` generates (manage.py hotline_demo_month;
# 0: none).
YIMEN_DEMO_HOTLINE_ORDERS = env.int("YIMEN_DEMO_HOTLINE_ORDERS", default=5000)
# The city's name, as its monthly 12345 bulletin is titled.
YIMEN_CITY_NAME = env.str("YIMEN_CITY_NAME", default="佛山市")
# What Open311's discovery document says about contacting the center and getting an
# api_key (empty: a standard sentence).
YIMEN_OPEN311_CONTACT = env.str("YIMEN_OPEN311_CONTACT", default="")
YIMEN_OPEN311_KEY_SERVICE = env.str("YIMEN_OPEN311_KEY_SERVICE", default="")
# 12345 hotline: how often a dissatisfied caller can reopen an order; how many days back an
# order counts as a possible duplicate; how many yellow cards one order earns a unit before
# the next overdue deadline is a red one; the working days (hours, for an urgent order) a
# unit has to answer a supervision order.
YIMEN_HOTLINE_REOPEN_LIMIT = env.int("YIMEN_HOTLINE_REOPEN_LIMIT", default=2)
YIMEN_HOTLINE_DUPLICATE_DAYS = env.int("YIMEN_HOTLINE_DUPLICATE_DAYS", default=7)
YIMEN_HOTLINE_YELLOWS_BEFORE_RED = env.int("YIMEN_HOTLINE_YELLOWS_BEFORE_RED", default=1)
YIMEN_HOTLINE_SUPERVISION_DAYS = env.int("YIMEN_HOTLINE_SUPERVISION_DAYS", default=2)
YIMEN_HOTLINE_SUPERVISION_HOURS = env.int("YIMEN_HOTLINE_SUPERVISION_HOURS", default=12)
