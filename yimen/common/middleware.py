"""Chinese first: pages are in Chinese unless the user picked another language."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Pages follow the language switch (its cookie), not the browser's Accept-Language:
    a clerk's workstation with an English browser still gets the Chinese UI. API clients
    (the REST API, Open311), which choose deliberately, are answered in the language their
    Accept-Language asks for."""

    def process_request(self, request):
        if request.path_info.startswith(("/api/", "/open311/")):
            return super().process_request(request)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        try:
            language = translation.get_supported_language_variant(chosen or "")
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
