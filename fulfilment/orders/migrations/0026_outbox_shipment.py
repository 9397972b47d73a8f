import django.db.models.fields.json
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0025_order_processing_sort")]

    operations = [
        migrations.AddIndex(
            model_name="outboxaction",
            index=models.Index(
                django.db.models.fields.json.KeyTransform("shipmentId", "payload"),
                condition=models.Q(("kind__in", ("CARGO_PLACES", "TRANSFER", "PALLETS", "CONFIRM_SHIPMENT"))),
                name="outbox_shipment_idx",
            ),
        ),
    ]
