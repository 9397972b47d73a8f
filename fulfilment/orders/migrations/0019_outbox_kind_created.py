from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0018_to_pack_index'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='outboxaction',
            index=models.Index(fields=['kind', 'created_at'], name='outbox_kind_created_idx'),
        ),
    ]
