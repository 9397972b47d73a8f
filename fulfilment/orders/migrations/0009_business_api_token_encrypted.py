"""The Market API tokens encrypted at rest: the column widens to text, then every stored token is
encrypted in place (and decrypted back on reverse). Raw SQL, since the field now decrypts on read."""

from django.db import migrations

import fulfilment.orders.encryption


def _convert(apps, schema_editor, change):
    table = schema_editor.connection.ops.quote_name(apps.get_model("orders", "Business")._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, api_token FROM {table} WHERE api_token <> ''")  # noqa: S608 - our table name
        rows = cursor.fetchall()
        for pk, value in rows:
            cursor.execute(f"UPDATE {table} SET api_token = %s WHERE id = %s", [change(value), pk])  # noqa: S608


def encrypt_tokens(apps, schema_editor):
    _convert(apps, schema_editor, fulfilment.orders.encryption.encrypt)


def decrypt_tokens(apps, schema_editor):
    _convert(apps, schema_editor, fulfilment.orders.encryption.decrypt)


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0008_notifications'),
    ]

    operations = [
        migrations.AlterField(
            model_name='business',
            name='api_token',
            field=fulfilment.orders.encryption.EncryptedTextField(blank=True, verbose_name='API token'),
        ),
        migrations.RunPython(encrypt_tokens, decrypt_tokens),
    ]
