from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0024_order_to_pack_sort")]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(condition=models.Q(("status", "PROCESSING")), fields=["shipment_date", "market_id"],
                               name="order_processing_sort_idx"),
        ),
    ]
