from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JointConfig(AppConfig):
    name = "yimen.joint"
    verbose_name = _("Joint handling of themes")
