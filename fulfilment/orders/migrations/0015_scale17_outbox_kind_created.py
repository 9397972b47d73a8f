from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0014_campaign_laas'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='outboxaction',
            index=models.Index(fields=['kind', 'created_at'], name='outbox_kind_created_idx'),
        ),
    ]
