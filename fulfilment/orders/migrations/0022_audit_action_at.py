from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0021_outbox_kinds")]

    operations = [
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["action", "at"], name="audit_action_at_idx"),
        ),
    ]
