"""Leaner indexes on the national tables (the RPPS import writes every one of them).

- ``is_active`` loses its index (nearly every row is active); ``checked_by`` keeps a partial
  index where it is set (imported rows have none);
- identifiers and codes are indexed through Meta: on PostgreSQL, ``unique=True`` and
  ``db_index=True`` on a text column also add a ``varchar_pattern_ops`` copy that no query
  uses; SearchEntry's commune is covered by its (commune, sort_key) index.

The state changes are Django's; the database work is done by ``forwards``, not by
AlterField, which on SQLite rebuilds a table once per altered field (and rebuilding the
search index's table would drop the triggers that keep its FTS5 index in sync). On SQLite
the inline UNIQUE column constraints stay (one cannot be dropped without rebuilding the
table; it is the same unique index); the other single-column indexes are replaced.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# table -> columns whose single-column indexes (and, on PostgreSQL, unique constraints) go.
REPLACED = {
    "directory_professional": (
        "rpps", "profession_code", "savoir_faire_code", "is_active", "checked_by_id",
    ),
    "directory_structure": (
        "finess_et", "finess_ej", "siret", "rpps_structure_id", "category_code", "is_active",
        "checked_by_id", "commune_id",
    ),
    "directory_practicesituation": ("source_key", "is_active", "checked_by_id", "commune_id"),
    "directory_service": ("is_active", "checked_by_id", "commune_id"),
    "directory_searchentry": ("sort_key", "commune_id"),
}  # fmt: skip
UNIQUE = {
    "directory_professional": ("rpps",),
    "directory_structure": ("finess_et", "rpps_structure_id"),
    "directory_practicesituation": ("source_key",),
}
MODELS = ("Professional", "Structure", "PracticeSituation", "Service", "SearchEntry")


def _drop(schema_editor, table: str, columns) -> None:
    """Drop the single-column indexes and unique constraints of ``columns``."""
    connection, quote = schema_editor.connection, schema_editor.quote_name
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    for name, info in constraints.items():
        if len(info["columns"]) != 1 or info["columns"][0] not in columns:
            continue
        if info["primary_key"] or info["foreign_key"] or info["check"]:
            continue
        if connection.vendor == "sqlite":
            if not name.startswith("sqlite_autoindex"):  # inline UNIQUE: kept
                schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name)}")
        elif info["index"]:
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name)}")
        else:
            schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")


def forwards(apps, schema_editor) -> None:
    sqlite = schema_editor.connection.vendor == "sqlite"
    for name in MODELS:
        model = apps.get_model("directory", name)
        table = model._meta.db_table
        _drop(schema_editor, table, REPLACED[table])
        for index in model._meta.indexes:
            if len(index.fields) == 1 and _column(model, index.fields[0]) in REPLACED[table]:
                schema_editor.add_index(model, index)
        for constraint in model._meta.constraints:
            fields = getattr(constraint, "fields", ())
            if sqlite or len(fields) != 1 or _column(model, fields[0]) not in REPLACED[table]:
                continue
            schema_editor.add_constraint(model, constraint)


def backwards(apps, schema_editor) -> None:
    """Plain indexes on the same columns again (unique where they were)."""
    quote = schema_editor.quote_name
    for table, columns in REPLACED.items():
        _drop(schema_editor, table, columns)
        for column in columns:
            unique = column in UNIQUE.get(table, ())
            if unique and schema_editor.connection.vendor == "sqlite":
                continue  # never dropped
            name = quote(f"{table}_{column}_{'uniq' if unique else 'idx'}")
            schema_editor.execute(
                f"CREATE {'UNIQUE ' if unique else ''}INDEX {name} ON {quote(table)}"
                f" ({quote(column)})"
            )


def _column(model, field: str) -> str:
    return model._meta.get_field(field).column


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_invitation_invited_by_optional"),
        ("directory", "0009_service_procedures"),
        ("territory", "0001_communes_territories_neighbourhoods"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="practicesituation",
                    name="checked_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="vérifié par",
                    ),
                ),
                migrations.AlterField(
                    model_name="practicesituation",
                    name="commune",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="territory.commune",
                        verbose_name="commune",
                    ),
                ),
                migrations.AlterField(
                    model_name="practicesituation",
                    name="is_active",
                    field=models.BooleanField(default=True, verbose_name="actif"),
                ),
                migrations.AlterField(
                    model_name="practicesituation",
                    name="source_key",
                    field=models.CharField(max_length=64, verbose_name="clé source"),
                ),
                migrations.AlterField(
                    model_name="professional",
                    name="checked_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="vérifié par",
                    ),
                ),
                migrations.AlterField(
                    model_name="professional",
                    name="is_active",
                    field=models.BooleanField(default=True, verbose_name="actif"),
                ),
                migrations.AlterField(
                    model_name="professional",
                    name="profession_code",
                    field=models.CharField(max_length=4, verbose_name="code profession"),
                ),
                migrations.AlterField(
                    model_name="professional",
                    name="rpps",
                    field=models.CharField(max_length=11, verbose_name="identifiant RPPS"),
                ),
                migrations.AlterField(
                    model_name="professional",
                    name="savoir_faire_code",
                    field=models.CharField(
                        blank=True, max_length=10, verbose_name="code savoir-faire"
                    ),
                ),
                migrations.AlterField(
                    model_name="searchentry",
                    name="commune",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="territory.commune",
                    ),
                ),
                migrations.AlterField(
                    model_name="searchentry",
                    name="sort_key",
                    field=models.CharField(max_length=300),
                ),
                migrations.AlterField(
                    model_name="service",
                    name="checked_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="vérifié par",
                    ),
                ),
                migrations.AlterField(
                    model_name="service",
                    name="commune",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="territory.commune",
                        verbose_name="commune",
                    ),
                ),
                migrations.AlterField(
                    model_name="service",
                    name="is_active",
                    field=models.BooleanField(default=True, verbose_name="actif"),
                ),
                migrations.AlterField(
                    model_name="structure",
                    name="category_code",
                    field=models.CharField(blank=True, max_length=4, verbose_name="code catégorie"),
                ),
                migrations.AlterField(
                    model_name="structure",
                    name="checked_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="vérifié par",
                    ),
                ),
                migrations.AlterField(
                    model_name="structure",
                    name="commune",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="territory.commune",
                        verbose_name="commune",
                    ),
                ),
                migrations.AlterField(
                    model_name="structure",
                    name="finess_ej",
                    field=models.CharField(
                        blank=True, max_length=9, verbose_name="FINESS entité juridique"
                    ),
                ),
                migrations.AlterField(
                    model_name="structure",
                    name="finess_et",
                    field=models.CharField(
                        blank=True, max_length=9, null=True, verbose_name="FINESS établissement"
                    ),
                ),
                migrations.AlterField(
                    model_name="structure",
                    name="is_active",
                    field=models.BooleanField(default=True, verbose_name="actif"),
                ),
                migrations.AlterField(
                    model_name="structure",
                    name="rpps_structure_id",
                    field=models.CharField(
                        blank=True,
                        max_length=40,
                        null=True,
                        verbose_name="identifiant technique RPPS",
                    ),
                ),
                migrations.AlterField(
                    model_name="structure",
                    name="siret",
                    field=models.CharField(blank=True, max_length=14, verbose_name="SIRET"),
                ),
                migrations.AddIndex(
                    model_name="practicesituation",
                    index=models.Index(fields=["commune"], name="situation_commune"),
                ),
                migrations.AddIndex(
                    model_name="practicesituation",
                    index=models.Index(
                        condition=models.Q(("checked_by__isnull", False)),
                        fields=["checked_by"],
                        name="situation_checked_by",
                    ),
                ),
                migrations.AddIndex(
                    model_name="professional",
                    index=models.Index(fields=["profession_code"], name="professional_profession"),
                ),
                migrations.AddIndex(
                    model_name="professional",
                    index=models.Index(
                        fields=["savoir_faire_code"], name="professional_savoir_faire"
                    ),
                ),
                migrations.AddIndex(
                    model_name="professional",
                    index=models.Index(
                        condition=models.Q(("checked_by__isnull", False)),
                        fields=["checked_by"],
                        name="professional_checked_by",
                    ),
                ),
                migrations.AddIndex(
                    model_name="searchentry",
                    index=models.Index(fields=["sort_key"], name="searchentry_sort_key"),
                ),
                migrations.AddIndex(
                    model_name="service",
                    index=models.Index(fields=["commune"], name="service_commune"),
                ),
                migrations.AddIndex(
                    model_name="service",
                    index=models.Index(
                        condition=models.Q(("checked_by__isnull", False)),
                        fields=["checked_by"],
                        name="service_checked_by",
                    ),
                ),
                migrations.AddIndex(
                    model_name="structure",
                    index=models.Index(fields=["finess_ej"], name="structure_finess_ej"),
                ),
                migrations.AddIndex(
                    model_name="structure",
                    index=models.Index(fields=["siret"], name="structure_siret"),
                ),
                migrations.AddIndex(
                    model_name="structure",
                    index=models.Index(fields=["category_code"], name="structure_category"),
                ),
                migrations.AddIndex(
                    model_name="structure",
                    index=models.Index(fields=["commune"], name="structure_commune"),
                ),
                migrations.AddIndex(
                    model_name="structure",
                    index=models.Index(
                        condition=models.Q(("checked_by__isnull", False)),
                        fields=["checked_by"],
                        name="structure_checked_by",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="practicesituation",
                    constraint=models.UniqueConstraint(
                        fields=("source_key",), name="situation_unique_source_key"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="professional",
                    constraint=models.UniqueConstraint(
                        fields=("rpps",), name="professional_unique_rpps"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="structure",
                    constraint=models.UniqueConstraint(
                        fields=("finess_et",), name="structure_unique_finess_et"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="structure",
                    constraint=models.UniqueConstraint(
                        fields=("rpps_structure_id",), name="structure_unique_rpps_structure_id"
                    ),
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
