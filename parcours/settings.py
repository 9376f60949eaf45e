"""Parcours settings: one file, every knob read from the environment (12-factor).

Every variable is documented in README.md ("Configuration"). Development defaults are
safe to run on a laptop; production mode (PARCOURS_ENV=production) refuses to start
with DEBUG on or with the default secret key.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def envsecret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/systemd secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


# --- Mode -------------------------------------------------------------------------------
PARCOURS_ENV = env("PARCOURS_ENV", "development")
PRODUCTION = PARCOURS_ENV == "production"
TESTING = envbool("PARCOURS_TESTING", False)
DEBUG = envbool("DEBUG", not PRODUCTION and not TESTING)
# Demo mode: load_demo and demo_totp are allowed, demo accounts are printed.
DEMO = envbool("PARCOURS_DEMO", not PRODUCTION)

DEFAULT_SECRET_KEY = "parcours-development-key-not-for-production"  # noqa: S105
SECRET_KEY = envsecret("SECRET_KEY", DEFAULT_SECRET_KEY)

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("PARCOURS_ENV=production refuses to start with DEBUG on.")
    if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "PARCOURS_ENV=production needs SECRET_KEY (or SECRET_KEY_FILE): "
            "a random value of at least 50 characters."
        )
    if DEMO:
        raise ImproperlyConfigured("PARCOURS_DEMO cannot be on in production.")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Applications -----------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "axes",
    "csp",
    "phonenumber_field",
    "django_tasks",
    "django_tasks_db",
    "parcours.core",
    "parcours.accounts",
    "parcours.audit",
    "parcours.territory",
    "parcours.directory",
    "parcours.people",
    "parcours.saisines",
    "parcours.matching",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",
    "parcours.accounts.middleware.SessionLimitMiddleware",
    "parcours.accounts.middleware.OrganisationMiddleware",
    "parcours.accounts.middleware.SecondFactorRequiredMiddleware",
]

ROOT_URLCONF = "parcours.urls"
WSGI_APPLICATION = "parcours.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "parcours.core.context_processors.parcours",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'parcours.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 0))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while one writer writes; IMMEDIATE avoids lock upgrades.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA busy_timeout=5000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------------------
# Used by allauth (rate limits, TOTP replay protection) and the public-form rate limit.
# Production with several gunicorn workers should use a shared cache (Redis or database).
CACHE_URL = env("CACHE_URL", "")
if CACHE_URL.startswith("redis://"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
elif CACHE_URL == "db":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "parcours_cache",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks (Django tasks API, database backend) -------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if TESTING or env("TASKS_BACKEND") == "immediate"
        else "django_tasks_db.DatabaseBackend",
    }
}

# --- Accounts, login, second factor, single sign-on ---------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_ADAPTER = "parcours.accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "parcours.accounts.adapters.SocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"  # accounts are created by invitation only
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_RATE_LIMITS = {} if TESTING else {"login_failed": "10/m/ip,5/5m/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Parcours"
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_LOGIN_ON_GET = False

# OpenID Connect (e.g. Pro Santé Connect): enabled when OIDC_CLIENT_ID is set.
SOCIALACCOUNT_PROVIDERS = {}
if env("OIDC_CLIENT_ID"):
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": env("OIDC_PROVIDER_ID", "psc"),
                "name": env("OIDC_NAME", "Pro Santé Connect"),
                "client_id": env("OIDC_CLIENT_ID"),
                "secret": envsecret("OIDC_CLIENT_SECRET"),
                "settings": {
                    "server_url": env("OIDC_SERVER_URL"),
                    "token_auth_method": env("OIDC_TOKEN_AUTH_METHOD", "client_secret_basic"),
                    "scope": envlist("OIDC_SCOPES", "openid,scope_all"),
                },
            }
        ],
    }

# Lock-out after repeated failures (django-axes).
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "parcours.accounts.adapters.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # axes would otherwise log the attempted e-mail address
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_IPWARE_PROXY_COUNT = envint("PROXY_COUNT", 0) or None
AXES_ENABLED = envbool("AXES_ENABLED", True)

# Sessions: expire after SESSION_IDLE_MINUTES without activity and after
# SESSION_MAX_HOURS in any case (OWASP ASVS L2 3.3.2).
SESSION_IDLE_MINUTES = envint("SESSION_IDLE_MINUTES", 30)
SESSION_MAX_HOURS = envint("SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

INVITATION_VALID_DAYS = envint("INVITATION_VALID_DAYS", 7)

# --- E-mail ------------------------------------------------------------------------------
EMAIL_URL = env("EMAIL_URL", "")
if EMAIL_URL:
    _email = urlsplit(EMAIL_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname or "localhost"
    EMAIL_PORT = _email.port or 25
    EMAIL_HOST_USER = _email.username or ""
    EMAIL_HOST_PASSWORD = envsecret("EMAIL_PASSWORD", _email.password or "")
    EMAIL_USE_TLS = _email.scheme == "smtp+starttls"
    EMAIL_USE_SSL = _email.scheme == "smtps"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Parcours <ne-pas-repondre@parcours.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# SMS gateway (parcours/messaging/sms.py): the console backend logs a masked number only.
SMS_BACKEND = env(
    "SMS_BACKEND",
    "parcours.messaging.sms.MemoryBackend" if TESTING else "parcours.messaging.sms.ConsoleBackend",
)

# --- Saisines: delay targets, signed links, orientation reminders --------------------------
SAISINE_TARGET_FIRST_RESPONSE_HOURS = envint("SAISINE_TARGET_FIRST_RESPONSE_HOURS", 48)
SAISINE_TARGET_DECISION_DAYS = envint("SAISINE_TARGET_DECISION_DAYS", 7)
SAISINE_TARGET_CLOSURE_DAYS = envint("SAISINE_TARGET_CLOSURE_DAYS", 90)
SAISINE_STATUS_LINK_DAYS = envint("SAISINE_STATUS_LINK_DAYS", 180)
ORIENTATION_LINK_DAYS = envint("ORIENTATION_LINK_DAYS", 30)
ORIENTATION_REMINDER_DAYS = envint("ORIENTATION_REMINDER_DAYS", 5)
ORIENTATION_NO_ANSWER_DAYS = envint("ORIENTATION_NO_ANSWER_DAYS", 5)
# Public saisine forms: submissions per client address ("10/10m": 10 per 10 minutes),
# attachments (PDF, JPEG, PNG; at most 5 files of SAISINE_ATTACHMENT_MAX_MB each), and the
# lifetime of the link that confirms a professional's e-mail address.
SAISINE_PUBLIC_RATE_LIMIT = env("SAISINE_PUBLIC_RATE_LIMIT", "10/10m")
SAISINE_ATTACHMENT_MAX_MB = envint("SAISINE_ATTACHMENT_MAX_MB", 10)
SAISINE_EMAIL_VERIFICATION_HOURS = envint("SAISINE_EMAIL_VERIFICATION_HOURS", 72)

# --- Médecin traitant search (parcours/matching): waves, escalation, links -----------------
# Each wave asks the MATCHING_WAVE_SIZE best candidates by e-mail; without an acceptance
# after MATCHING_WAVE_HOURS the next wave goes, and after MATCHING_WAVES waves the call
# round begins; MATCHING_CALL_ROUND_DAYS later the radius is multiplied by
# MATCHING_WIDER_FACTOR (new waves); MATCHING_WIDER_DAYS later ALD or complex situations
# take the IPA route, the others (and the IPA route after MATCHING_IPA_DAYS) go to the CPAM
# médiateur. Links expire after MATCHING_LINK_DAYS; the accepting GP reads the bulletin
# for MATCHING_BULLETIN_DAYS.
MATCHING_WAVE_SIZE = envint("MATCHING_WAVE_SIZE", 5)
MATCHING_WAVE_HOURS = envint("MATCHING_WAVE_HOURS", 72)
MATCHING_WAVES = envint("MATCHING_WAVES", 2)
MATCHING_CALL_ROUND_DAYS = envint("MATCHING_CALL_ROUND_DAYS", 7)
MATCHING_WIDER_FACTOR = envint("MATCHING_WIDER_FACTOR", 2)
MATCHING_WIDER_DAYS = envint("MATCHING_WIDER_DAYS", 7)
MATCHING_IPA_DAYS = envint("MATCHING_IPA_DAYS", 30)
MATCHING_LINK_DAYS = envint("MATCHING_LINK_DAYS", 7)
MATCHING_BULLETIN_DAYS = envint("MATCHING_BULLETIN_DAYS", 14)
# A GP's own availability declaration (his page) is valid MATCHING_DECLARATION_MONTHS months.
MATCHING_DECLARATION_MONTHS = envint("MATCHING_DECLARATION_MONTHS", 6)

# --- Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LOCALE_PATHS = [BASE_DIR / "locale"]
# French is the source language; each compiled catalogue locale/<code>/LC_MESSAGES/django.mo
# adds its language (to the public pages' language switch): a third language is only a
# translation file. Codes Django does not know (django.conf.locale.LANG_INFO) are skipped.
LANGUAGES = [("fr", _("Français"))] + [
    (code, LANG_INFO[code]["name"])
    for code in sorted(path.parts[-3] for path in LOCALE_PATHS[0].glob("*/LC_MESSAGES/django.mo"))
    if code != "fr" and code in LANG_INFO
]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Largest file an administrator may upload to import (the national RPPS extraction is
# several hundred MB).
IMPORT_UPLOAD_MAX_MB = envint("IMPORT_UPLOAD_MAX_MB", 2048)
# Outside production static files are served from the app folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Map -----------------------------------------------------------------------------------
# Phone numbers typed without a country code are French.
PHONENUMBER_DEFAULT_REGION = "FR"
PHONENUMBER_DEFAULT_FORMAT = "NATIONAL"

# Rate limits of the public annuaire, per client address ("60/m": 60 a minute). Counted in
# the default cache: use a shared cache (CACHE_URL) when several processes serve the site.
ANNUAIRE_RATE_LIMIT = env("ANNUAIRE_RATE_LIMIT", "60/m")
ANNUAIRE_MAP_RATE_LIMIT = env("ANNUAIRE_MAP_RATE_LIMIT", "300/m")

# National address API (BAN / Géoplateforme) for addresses the offline BAN import does not
# know; empty (the default) keeps geocoding offline. E.g. https://data.geopf.fr/geocodage/search
BAN_API_URL = env("BAN_API_URL", "")
BAN_API_TIMEOUT = float(env("BAN_API_TIMEOUT", "3"))

# Tile server for Leaflet maps. Empty disables tiles: maps still show communes as points.
MAP_TILE_URL = env("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env("MAP_TILE_ATTRIBUTION", "&copy; contributeurs OpenStreetMap")

# --- Security headers ----------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_HTTPS_PROXY", PRODUCTION) else None
)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", PRODUCTION)
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

_tile_origin = ""
if MAP_TILE_URL:
    _tile = urlsplit(MAP_TILE_URL.replace("{s}.", ""))
    _tile_origin = f"{_tile.scheme}://{_tile.hostname}" if _tile.hostname else ""
    if "{s}." in MAP_TILE_URL:
        _tile_origin = f"{_tile.scheme}://*.{_tile.hostname}"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"] + ([_tile_origin] if _tile_origin else []),
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"] + envlist("CSP_FORM_ACTION_EXTRA"),
        "frame-ancestors": ["'none'"],
    }
}

# --- Logging: IDs only, never names, e-mails, NIR or clinical text -------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_tokens": {"()": "parcours.lib.logging.RedactTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}
