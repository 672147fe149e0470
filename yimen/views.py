"""The page shell's own views: the public home page, health check and error pages."""

from django.http import HttpResponse
from django.shortcuts import render


def home(request):
    return render(request, "home.html")


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def permission_denied(request, exception=None):
    return render(request, "errors/403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    # No context processors: whatever broke may be among them.
    from django.template import loader

    return HttpResponse(loader.get_template("errors/500.html").render(), status=500)
