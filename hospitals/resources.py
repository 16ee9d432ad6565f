"""CSV/XLSX import and export of the directory (django-import-export)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from hospitals.models import HOSPITAL_CODE, Hospital
from hospitals.services import search_keys
from portal.lib.text import FORMULA_START, spreadsheet_text
from portal.models import Province, Region


class HospitalResource(resources.ModelResource):
    province = fields.Field(
        attribute="province",
        column_name="province",
        widget=widgets.ForeignKeyWidget(Province, "name"),
    )
    region = fields.Field(
        attribute="region",
        column_name="region_code",
        widget=widgets.ForeignKeyWidget(Region, "code"),
    )
    name = fields.Field(attribute="name", column_name="name_zh")

    class Meta:
        model = Hospital
        import_id_fields = ["code"]
        fields = [
            "code",
            "name",
            "name_en",
            "province",
            "region",
            "level",
            "kind",
            "ownership",
            "inpatient",
            "general_outpatient",
            "chronic_outpatient",
            "resettlement_designated",
        ]
        export_order = fields
        skip_unchanged = True
        report_skipped = False
        # All or nothing: one invalid row and nothing is written.
        use_transactions = True

    def __init__(self, region: Region | None = None, restricted: bool = False, **kwargs):
        """`restricted`: the importer is agency staff, who may import the hospitals of their
        own `region` only (a superuser imports any region)."""
        super().__init__(**kwargs)
        self.region, self.restricted = region, restricted

    def import_instance(self, instance, row, **kwargs):
        stored_region_id = instance.region_id if instance.pk else None
        super().import_instance(instance, row, **kwargs)
        try:
            HOSPITAL_CODE(instance.code or "")
        except ValidationError as error:
            raise ValidationError({"code": error.messages}) from None
        if not self.restricted:
            return
        own = self.region.pk if self.region else None
        if own is None or instance.region_id != own or stored_region_id not in (None, own):
            where = f"{self.region.code} {self.region.name}" if self.region else "-"
            message = _("You may import only the hospitals of your own region (%(region)s).")
            raise ValidationError({"region": message % {"region": where}})

    # No text cell (a code, a name someone typed) opens as a formula in Excel or WPS. In CSV, TSV
    # and the other text formats it is exported behind an apostrophe
    # (portal.lib.text.spreadsheet_text), which an import of the same file takes off again; an
    # XLSX has typed cells and gets it as a text cell instead (HospitalAdmin.get_export_data),
    # so it shows no apostrophe.
    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        if isinstance(value, str) and not kwargs.get("force_native_type"):
            return spreadsheet_text(value)
        return value

    def before_import_row(self, row, **kwargs):
        for column, value in list(row.items()):
            if isinstance(value, str) and value[:1] == "'" and value[1:].startswith(FORMULA_START):
                row[column] = value[1:]
        return super().before_import_row(row, **kwargs)

    def before_save_instance(self, instance, row, **kwargs):
        instance.pinyin, instance.initials = search_keys(instance.name)
        instance.full_clean(exclude=["pinyin", "initials"])

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        **kwargs,
    ):
        """A dry run first; any invalid row and nothing at all is written."""
        check = super().import_data(
            dataset,
            dry_run=True,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            **kwargs,
        )
        if dry_run or check.has_errors() or check.has_validation_errors():
            return check
        return super().import_data(
            dataset,
            dry_run=False,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            **kwargs,
        )
