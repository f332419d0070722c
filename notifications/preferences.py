"""A seller's notification settings: language, address, "at risk" opt-out (read and replace)."""

from __future__ import annotations

from notifications.models import SellerPreference
from orders.models import Seller


def preference_of(*, seller: Seller) -> SellerPreference:
    """The seller's settings; the defaults (not stored) when it has none."""
    found = SellerPreference.objects.filter(seller_id=seller.pk).first()
    return found or SellerPreference(seller=seller)


def replace_preference(
    *, seller: Seller, language: str, email: str, at_risk_emails: bool
) -> SellerPreference:
    """Create or replace the seller's settings (PUT semantics: every field given)."""
    preference, _ = SellerPreference.objects.update_or_create(
        seller=seller,
        defaults={"language": language, "email": email, "at_risk_emails": at_risk_emails},
    )
    return preference
