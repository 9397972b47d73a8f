from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0023_returns19_missing_units")]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("problem", ""), ("status", "PROCESSING"),
                                   ("substatus__in", ["STARTED", "PACKAGING"])),
                fields=["shipment_date", "market_id"], name="order_to_pack_sort_idx",
            ),
        ),
    ]
