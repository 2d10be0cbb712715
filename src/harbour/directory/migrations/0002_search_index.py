"""Full-text index of services' search documents: FTS5 on SQLite, a GIN index on PostgreSQL."""

from django.db import migrations


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS directory_service_fts USING fts5("
            "service_id UNINDEXED, document, tokenize='unicode61 remove_diacritics 2')"
        )
    elif vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS directory_service_search_gin ON directory_service "
            "USING gin (to_tsvector('simple'::regconfig, COALESCE(search_document, ''::text)))"
        )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS directory_service_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS directory_service_search_gin")


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
