"""The organisation: regions, departments, halls, windows and who holds which role where."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from yimen.common.identifiers import validate_uscc

from .choices import RegionLevel, Role

division_code_validator = RegexValidator(
    r"^\d{12}$", _("A division code is 12 digits (GB/T 2260 + town + village).")
)


class Region(models.Model):
    """An administrative division: city, district, town/street or village/community."""

    code = models.CharField(
        _("division code"), max_length=12, unique=True, validators=[division_code_validator]
    )
    name = models.CharField(_("name"), max_length=64)
    level = models.PositiveSmallIntegerField(_("level"), choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return self.name

    # How many leading digits of the 12-digit code are significant at each level.
    SIGNIFICANT_DIGITS = {
        RegionLevel.CITY: 4,
        RegionLevel.DISTRICT: 6,
        RegionLevel.TOWN: 9,
        RegionLevel.VILLAGE: 12,
    }

    def clean(self):
        if self.parent is None and self.level != RegionLevel.CITY:
            raise ValidationError(
                {"parent": _("Every region except a city needs a parent region.")}
            )
        if self.parent is not None and self.level != self.parent.level + 1:
            raise ValidationError({"level": _("A region's level must be one below its parent's.")})
        if self.pk and self.children.exclude(level=self.level + 1).exists():
            raise ValidationError(
                {"level": _("This region has sub-regions: its level cannot change.")}
            )
        if not (self.code and self.code.isdigit() and self.level in self.SIGNIFICANT_DIGITS):
            return  # the field validators report these
        digits = self.SIGNIFICANT_DIGITS[self.level]
        if self.level != RegionLevel.VILLAGE and set(self.code[digits:]) != {"0"}:
            message = _("At this level the code ends in zeros after digit %(n)s.") % {"n": digits}
            raise ValidationError({"code": message})
        if self.parent is not None:
            prefix = self.parent.code[: self.SIGNIFICANT_DIGITS[self.parent.level]]
            if not self.code.startswith(prefix):
                message = _("The code must start with its parent's code %(prefix)s.")
                raise ValidationError({"code": message % {"prefix": prefix}})

    @property
    def scope_prefix(self) -> str:
        """The digits every code within this region starts with (4406 for 佛山市)."""
        return self.code[: self.SIGNIFICANT_DIGITS[self.level]]

    @property
    def prefix(self) -> str:
        """The 6-digit county-level code used in case numbers (440604 for 禅城区)."""
        return self.code[:6]


class Department(models.Model):
    """An authority that owns service items (实施主体)."""

    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=32, blank=True)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="departments"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["region__code", "name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.name

    def clean(self):
        ancestor, seen = self.parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if self.pk is not None and ancestor.pk == self.pk:
                raise ValidationError({"parent": _("A department cannot be placed under itself.")})
            seen.add(ancestor.pk)
            ancestor = ancestor.parent


class WindowCategory(models.Model):
    """A kind of comprehensive window (综合窗口类别): 个人办事, 企业办事, 工程建设, 其他…"""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    queue_prefix = models.CharField(
        _("queue prefix"),
        max_length=2,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{1,2}$", _("One or two capital letters."))],
        help_text=_("Letter of its ticket numbers, e.g. A."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("window category")
        verbose_name_plural = _("window categories")

    def __str__(self):
        return self.name


class Hall(models.Model):
    """A physical service hall (政务服务中心 / 便民服务站)."""

    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="halls"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["region__code", "name"]
        verbose_name = _("hall")
        verbose_name_plural = _("halls")

    def __str__(self):
        return self.name


class Window(models.Model):
    """A counter in a hall; it serves one or more window categories."""

    hall = models.ForeignKey(
        Hall, verbose_name=_("hall"), on_delete=models.CASCADE, related_name="windows"
    )
    number = models.CharField(_("number"), max_length=8)
    categories = models.ManyToManyField(
        WindowCategory, verbose_name=_("categories"), related_name="windows"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["hall", "number"]
        verbose_name = _("window")
        verbose_name_plural = _("windows")
        constraints = [
            models.UniqueConstraint(fields=["hall", "number"], name="org_window_unique_number")
        ]

    def __str__(self):
        return f"{self.hall} {self.number}"


class Membership(models.Model):
    """A role a staff user holds, scoped to a department, a hall or a region."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
    )
    hall = models.ForeignKey(
        Hall,
        verbose_name=_("hall"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
    )
    window = models.ForeignKey(
        Window,
        verbose_name=_("window"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memberships",
    )
    categories = models.ManyToManyField(
        WindowCategory,
        verbose_name=_("window categories"),
        blank=True,
        help_text=_("For window clerks: the categories they may accept (empty: their window's)."),
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        help_text=_("For supervisors: the region they watch (empty: everywhere)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        ordering = ["user", "role"]
        verbose_name = _("role membership")
        verbose_name_plural = _("role memberships")

    def __str__(self):
        scope = self.department or self.hall or self.region
        return f"{self.user} · {self.get_role_display()}" + (f" · {scope}" if scope else "")

    def clean(self):
        from .roles import scope_errors

        if errors := scope_errors(
            role=self.role,
            department=self.department,
            hall=self.hall,
            window=self.window,
            region=self.region,
        ):
            raise ValidationError(errors)
