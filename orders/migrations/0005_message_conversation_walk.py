"""The index the inquiry walk reads (issue 23): (seller, conversation, sent_at DESC, id DESC)
INCLUDE (sender), in place of (seller, conversation, sent_at, id): the walk's order with no
sort, and index-only."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_order_ship_by_not_before_created"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="message", name="orders_mess_seller__796411_idx"),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                fields=["seller", "conversation", "-sent_at", "-id"],
                include=["sender"],
                name="message_conversation_walk",
            ),
        ),
    ]
