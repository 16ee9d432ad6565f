from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HospitalsConfig(AppConfig):
    name = "hospitals"
    verbose_name = _("Designated hospitals")
    default_auto_field = "django.db.models.BigAutoField"
