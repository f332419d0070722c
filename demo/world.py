"""Realistic, deterministic demo data for GradeCraft (``manage.py seed_demo``).

``generate_world`` is pure: from a seed, a size and a clock it builds every seller, order,
message and review in memory, with nothing but ``random.Random(seed)``, so the same arguments
always give the same rows. ``seed_world`` writes such a world with ``bulk_create`` in batches.

Shape of the world (believable, not uniform):
* order volume per seller is lognormal (most sellers sell a few orders a month, a long tail sells
  dozens); prices are KRW, lognormal around a per-seller base price, 10,000–2,000,000, rounded
  to 1,000;
* most sellers answer buyers within the hour; slow responders often miss the 24 h window;
* some sellers deliver late, a few are bad (late, cancelling, badly rated);
* a handful of strong sellers reach Level 2 / Level 3 of the default policy, one veteran has a
  long, huge history (>= 1,300 reviews) so Master is reachable; only these established sellers'
  orders and reviews go back further than ``months`` (messages are kept for the last ``months``
  only, as a marketplace archives old conversations), which keeps the data small;
* the ``demo`` seller is mid-size and close to Level 2, missing the response-rate criterion by
  construction (one inquiry in six is answered after the 24 h window).

Every row satisfies SPEC §2 (the database's check constraints would refuse anything else):
timestamps are aware and never in the future, the lifecycle is ordered, completed and cancelled
are exclusive, a review is only written for a completed order.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from rest_framework.authtoken.models import Token

from demo import programs
from orders.models import CancelledBy, Message, Order, Seller, Sender
from reviews.models import Review

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-demo-pass"  # noqa: S105 - a documented demo login
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-pass"  # noqa: S105 - a documented demo login

DEFAULT_SEED = 42
DEFAULT_SELLERS = 300
DEFAULT_MONTHS = 14

# Rows per INSERT. Measured on SQLite (default size, ~110k rows): 1,000 and 5,000 differ by
# under 3 %; Django caps the batch to SQLite's variable limit by itself anyway.
BATCH_SIZE = 1000

MIN_PRICE = 10_000
MAX_PRICE = 2_000_000
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
MONTH = timedelta(days=30.44)
# The veteran's history reaches this far back, whatever --months says.
VETERAN_MONTHS = 48

# Hour-of-day weights (local time) for buyers' activity: quiet at night, busy in the evening.
_HOUR_WEIGHTS = (
    (0, 3), (1, 2), (2, 1), (3, 1), (4, 1), (5, 1), (6, 2), (7, 3), (8, 5), (9, 7), (10, 8),
    (11, 8), (12, 7), (13, 8), (14, 8), (15, 8), (16, 8), (17, 7), (18, 7), (19, 8), (20, 9),
    (21, 9), (22, 7), (23, 5),
)  # fmt: skip
_HOURS = tuple(h for h, _ in _HOUR_WEIGHTS)
_HOUR_CUM = tuple(sum(w for _, w in _HOUR_WEIGHTS[: i + 1]) for i in range(len(_HOUR_WEIGHTS)))

_ADJECTIVES = (
    "pixel", "bright", "clever", "swift", "quiet", "bold", "lucky", "neat", "sunny", "true",
    "prime", "fresh", "urban", "happy", "smart", "calm", "blue", "green", "golden", "silver",
    "modern", "simple", "rapid", "solid", "wise", "cozy", "daily", "global", "magic", "tiny",
)  # fmt: skip
_NOUNS = (
    "studio", "design", "lab", "works", "craft", "code", "logo", "video", "voice", "writer",
    "dev", "brand", "media", "photo", "motion", "translate", "web", "app", "data", "edit",
    "print", "sound", "story", "market", "tax", "legal", "coach", "tutor", "art", "shop",
)  # fmt: skip
_COMMENTS = {
    5: ("Excellent work, thank you!", "정말 만족합니다. 또 의뢰할게요!", "Fast and professional.",
        "Beyond expectations.", "친절하고 빠른 작업 감사합니다."),
    4: ("Good result, small revisions needed.", "만족합니다.", "Nice work overall."),
    3: ("OK, but communication was slow.", "보통이에요.", "Average result."),
    2: ("Late and needed many revisions.", "기대에 못 미쳤어요."),
    1: ("Did not deliver what was agreed.", "환불 받고 싶어요."),
}  # fmt: skip


class Archetype(StrEnum):
    VETERAN = "veteran"  # the Master candidate: huge history, excellent service
    TOP = "top"  # Level 3 candidates
    GOOD = "good"  # Level 2 candidates
    DEMO = "demo"  # the demo login: close to Level 2, misses the response rate
    REGULAR = "regular"
    SLOW = "slow"  # often misses the 24 h response window
    LATE = "late"  # often delivers after the due date
    BAD = "bad"  # late, cancels, badly rated


@dataclass(frozen=True)
class Profile:
    """How a seller behaves; every random draw about the seller's rows is driven by this."""

    archetype: Archetype
    orders_per_month: float
    base_price: int
    late_prob: float
    cancel_prob: float
    seller_cancel_share: float
    reply_median_minutes: float
    reply_sigma: float
    miss_prob: float
    review_prob: float
    rating_weights: tuple[int, int, int, int, int]  # weights of ratings 1..5
    repeat_prob: float


@dataclass
class SellerRow:
    external_id: str
    username: str
    display_name: str
    joined_at: datetime
    profile: Profile


@dataclass
class OrderRow:
    external_id: str
    seller: str  # seller external_id
    buyer: str
    amount: Decimal
    created_at: datetime
    due_at: datetime | None
    delivered_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by: str = ""
    excluded_from_metrics: bool = False


@dataclass
class MessageRow:
    external_id: str
    conversation: str
    seller: str
    buyer: str
    sender: str
    sent_at: datetime


@dataclass
class ReviewRow:
    external_id: str
    order: str  # order external_id
    rating: int
    comment: str
    created_at: datetime


@dataclass
class World:
    now: datetime
    sellers: list[SellerRow] = field(default_factory=list)
    orders: list[OrderRow] = field(default_factory=list)
    messages: list[MessageRow] = field(default_factory=list)
    reviews: list[ReviewRow] = field(default_factory=list)


@dataclass(frozen=True)
class SeedResult:
    seeded: bool
    sellers: int
    orders: int
    messages: int
    reviews: int
    token: str | None  # the demo's staff token; None when another database was left alone


@dataclass(frozen=True)
class _Traits:
    """An archetype's ranges; each (low, high) pair is drawn uniformly per seller."""

    orders_per_month: tuple[float, float] | None  # None: the long tail (lognormal, median 1)
    price: tuple[int, float]  # lognormal base price: median KRW, sigma
    late: tuple[float, float]
    cancel: tuple[float, float]
    seller_cancel_share: float
    reply_median_minutes: tuple[float, float]
    reply_sigma: float
    miss: tuple[float, float]  # share of inquiries answered only after the 24 h window
    review: tuple[float, float]  # share of completed orders that get a review
    ratings: tuple[int, int, int, int, int]  # weights of 1..5 stars
    repeat: tuple[float, float]  # share of orders from a returning buyer


_TRAITS = {
    Archetype.VETERAN: _Traits(
        orders_per_month=(70, 70), price=(180_000, 0.0), late=(0.05, 0.05), cancel=(0.04, 0.04),
        seller_cancel_share=0.2, reply_median_minutes=(20, 20), reply_sigma=1.0,
        miss=(0.01, 0.01), review=(0.7, 0.7), ratings=(0, 1, 1, 10, 88), repeat=(0.35, 0.35),
    ),
    Archetype.TOP: _Traits(
        orders_per_month=(14, 24), price=(160_000, 0.3), late=(0.02, 0.07), cancel=(0.02, 0.06),
        seller_cancel_share=0.2, reply_median_minutes=(10, 40), reply_sigma=1.0,
        miss=(0.01, 0.01), review=(0.6, 0.75), ratings=(0, 1, 2, 9, 88), repeat=(0.3, 0.3),
    ),
    Archetype.GOOD: _Traits(
        orders_per_month=(3, 7), price=(120_000, 0.4), late=(0.03, 0.1), cancel=(0.03, 0.08),
        seller_cancel_share=0.25, reply_median_minutes=(10, 50), reply_sigma=1.0,
        miss=(0.01, 0.01), review=(0.55, 0.7), ratings=(0, 1, 2, 9, 88), repeat=(0.25, 0.25),
    ),
    # The demo's late replies and its ratings are decided by construction (see _Generator).
    Archetype.DEMO: _Traits(
        orders_per_month=(5, 5), price=(90_000, 0.0), late=(0.08, 0.08), cancel=(0.05, 0.05),
        seller_cancel_share=0.2, reply_median_minutes=(30, 30), reply_sigma=0.8,
        miss=(0.0, 0.0), review=(0.65, 0.65), ratings=(0, 0, 0, 1, 5), repeat=(0.25, 0.25),
    ),
    Archetype.REGULAR: _Traits(
        orders_per_month=None, price=(100_000, 0.8), late=(0.03, 0.15), cancel=(0.03, 0.1),
        seller_cancel_share=0.25, reply_median_minutes=(15, 75), reply_sigma=1.1,
        miss=(0.0, 0.06), review=(0.5, 0.7), ratings=(1, 1, 3, 15, 80), repeat=(0.1, 0.3),
    ),
    Archetype.SLOW: _Traits(
        orders_per_month=None, price=(100_000, 0.8), late=(0.05, 0.15), cancel=(0.04, 0.1),
        seller_cancel_share=0.3, reply_median_minutes=(240, 600), reply_sigma=1.2,
        miss=(0.1, 0.2), review=(0.5, 0.65), ratings=(2, 2, 6, 25, 65), repeat=(0.2, 0.2),
    ),
    Archetype.LATE: _Traits(
        orders_per_month=None, price=(100_000, 0.8), late=(0.3, 0.5), cancel=(0.05, 0.12),
        seller_cancel_share=0.3, reply_median_minutes=(20, 90), reply_sigma=1.1,
        miss=(0.02, 0.06), review=(0.5, 0.65), ratings=(3, 3, 8, 26, 60), repeat=(0.15, 0.15),
    ),
    Archetype.BAD: _Traits(
        orders_per_month=None, price=(100_000, 0.8), late=(0.3, 0.6), cancel=(0.15, 0.3),
        seller_cancel_share=0.6, reply_median_minutes=(120, 900), reply_sigma=1.3,
        miss=(0.15, 0.35), review=(0.55, 0.7), ratings=(18, 14, 18, 20, 30), repeat=(0.05, 0.05),
    ),
}  # fmt: skip


# Sellers whose orders and reviews go back to when they joined, before the --months of history
# (so Level 3 and Master are reachable from the first evaluated months).
_ESTABLISHED = frozenset({Archetype.VETERAN, Archetype.TOP, Archetype.GOOD})


def _profile(rng: random.Random, archetype: Archetype) -> Profile:
    """Draw a seller's behaviour from its archetype's ranges."""
    t = _TRAITS[archetype]
    if t.orders_per_month is None:
        # The long tail: most sellers sell about one order a month, a few dozens.
        monthly = min(rng.lognormvariate(0.0, 1.1), 30.0)
    else:
        monthly = rng.uniform(*t.orders_per_month)
    median, sigma = t.price
    return Profile(
        archetype=archetype,
        orders_per_month=monthly,
        base_price=round(median * rng.lognormvariate(0.0, sigma)),
        late_prob=rng.uniform(*t.late),
        cancel_prob=rng.uniform(*t.cancel),
        seller_cancel_share=t.seller_cancel_share,
        reply_median_minutes=rng.uniform(*t.reply_median_minutes),
        reply_sigma=t.reply_sigma,
        miss_prob=rng.uniform(*t.miss),
        review_prob=rng.uniform(*t.review),
        rating_weights=t.ratings,
        repeat_prob=rng.uniform(*t.repeat),
    )


def _archetypes(count: int) -> list[Archetype]:
    """The archetype of each seller index: special sellers first, then a realistic mix."""
    special = [Archetype.VETERAN, Archetype.DEMO]
    special += [Archetype.TOP] * max(2, round(count * 0.02))
    special += [Archetype.GOOD] * max(2, round(count * 0.04))
    special = special[:count]
    rest = count - len(special)
    mix = (
        [Archetype.SLOW] * round(rest * 0.15)
        + [Archetype.LATE] * round(rest * 0.10)
        + [Archetype.BAD] * round(rest * 0.05)
    )
    mix = mix[:rest]
    return special + mix + [Archetype.REGULAR] * (rest - len(mix))


def _local_daytime(rng: random.Random, moment: datetime, tz: ZoneInfo) -> datetime:
    """``moment``'s local day at an hour drawn from buyers' daily rhythm."""
    local = moment.astimezone(tz)
    hour = _HOURS[bisect.bisect_left(_HOUR_CUM, rng.uniform(0, _HOUR_CUM[-1]))]
    return local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))


def _price(rng: random.Random, base: int) -> Decimal:
    raw = base * rng.lognormvariate(0, 0.5)
    rounded = round(raw / 1000) * 1000
    return Decimal(min(max(rounded, MIN_PRICE), MAX_PRICE))


def _rating(rng: random.Random, weights: tuple[int, ...], late: bool) -> int:
    if late:
        # A late delivery costs stars: shift a quarter of the weight one star down.
        moved = [w // 4 for w in weights]
        moved[0] = 0  # nothing below one star
        weights = tuple(weights[i] - moved[i] + (moved[i + 1] if i < 4 else 0) for i in range(5))
    return rng.choices((1, 2, 3, 4, 5), weights=weights)[0]


class _Ids:
    """Deterministic, readable external ids, one counter per kind."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def next(self, prefix: str, width: int) -> str:
        n = self.counts.get(prefix, 0) + 1
        self.counts[prefix] = n
        return f"{prefix}-{n:0{width}d}"


class _Generator:
    def __init__(self, *, seed: int, sellers: int, months: int, now: datetime) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, reproducible by design
        self.count = sellers
        self.months = months
        self.now = now
        self.start = now - months * MONTH
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.ids = _Ids()
        self.world = World(now=now)
        self.buyer_pool = max(500, sellers * 40)
        self.demo_inquiries = 0
        self.demo_reviews = 0

    def run(self) -> World:
        usernames: set[str] = set()
        for index, archetype in enumerate(_archetypes(self.count)):
            seller = self._seller(index, archetype, usernames)
            self.world.sellers.append(seller)
            self._history(seller)
        return self.world

    def _seller(self, index: int, archetype: Archetype, usernames: set[str]) -> SellerRow:
        rng = self.rng
        profile = _profile(rng, archetype)
        if archetype is Archetype.DEMO:
            username, display = DEMO_USERNAME, "Demo Design Studio"
        else:
            while True:
                adjective, noun = rng.choice(_ADJECTIVES), rng.choice(_NOUNS)
                username = f"{adjective}_{noun}{rng.randrange(10, 100)}"
                if username not in usernames and username != DEMO_USERNAME:
                    break
            display = f"{adjective.title()} {noun.title()}"
        usernames.add(username)
        if archetype is Archetype.VETERAN:
            joined = self.now - (VETERAN_MONTHS + 2) * MONTH
        elif archetype in (Archetype.TOP, Archetype.GOOD, Archetype.DEMO):
            joined = self.start - rng.uniform(1, 24) * MONTH
        elif rng.random() < 0.7:
            joined = self.start - rng.uniform(0, 36) * MONTH
        else:  # joined during the history
            joined = self.start + rng.uniform(0, self.months) * MONTH
        joined = _local_daytime(rng, joined, self.tz)
        if joined > self.now:
            joined -= DAY
        return SellerRow(f"s-{index + 1:05d}", username, display, joined, profile)

    def _history(self, seller: SellerRow) -> None:
        rng, profile = self.rng, seller.profile
        first = seller.joined_at + DAY
        if profile.archetype not in _ESTABLISHED:
            first = max(first, self.start)
        span = (self.now - first).total_seconds()
        if span <= 0:
            return
        months_active = span / MONTH.total_seconds()
        expected = profile.orders_per_month * months_active
        n_orders = max(0, round(rng.gauss(expected, math.sqrt(expected)))) if expected else 0
        # Mild growth: a third of the orders skew towards the recent end.
        offsets = sorted(
            (max(rng.random(), rng.random()) if rng.random() < 0.33 else rng.random()) * span
            for _ in range(n_orders)
        )
        past_buyers: list[str] = []
        for offset in offsets:
            created = _local_daytime(rng, first + timedelta(seconds=offset), self.tz)
            if created > self.now - 10 * MINUTE:
                created -= DAY
            if created < first:
                created = first
            if past_buyers and rng.random() < profile.repeat_prob:
                buyer = rng.choice(past_buyers)
            else:
                buyer = f"b-{rng.randrange(1, self.buyer_pool + 1):06d}"
                past_buyers.append(buyer)
            self._order(seller, buyer, created)
        # Questions that never turned into an order (about half as many as orders), within the
        # months of message history only.
        chat_first = max(first, self.start)
        chat_span = (self.now - chat_first).total_seconds()
        chats = round(n_orders * chat_span / span * rng.uniform(0.3, 0.7))
        for _ in range(chats):
            at = _local_daytime(
                rng, chat_first + timedelta(seconds=rng.random() * chat_span), self.tz
            )
            if chat_first <= at < self.now:
                buyer = f"b-{rng.randrange(1, self.buyer_pool + 1):06d}"
                exchanges = rng.choice((1, 1, 2))
                self._conversation(seller, buyer, [(at, Sender.BUYER)] * exchanges)

    def _order(self, seller: SellerRow, buyer: str, created: datetime) -> None:
        rng, profile, now = self.rng, seller.profile, self.now
        amount = _price(rng, profile.base_price)
        # Bigger jobs get longer deadlines.
        days = 2 + int(amount / 100_000) + rng.choice((0, 1, 2, 3))
        due = created + min(days, 21) * DAY
        order = OrderRow(self.ids.next("o", 7), seller.external_id, buyer, amount, created, due)
        late = rng.random() < profile.late_prob
        if late:
            delivered = due + timedelta(hours=rng.uniform(2, 120))
        else:
            delivered = created + (due - created) * rng.uniform(0.3, 1.0)
        cancelled = rng.random() < profile.cancel_prob
        if cancelled:
            if rng.random() < 0.1 and delivered < now:
                # Delivered, then refunded after a dispute (maybe not settled yet at "now").
                order.delivered_at = delivered
                at = delivered + timedelta(hours=rng.uniform(1, 72))
            else:
                # Cancelled before delivery; if that is still to come, the order is open.
                at = created + (delivered - created) * rng.uniform(0.05, 0.9)
            if at < now:
                order.cancelled_at = at
                order.cancelled_by = rng.choices(
                    (CancelledBy.BUYER, CancelledBy.SELLER, CancelledBy.ADMIN),
                    weights=(
                        0.95 - profile.seller_cancel_share,
                        profile.seller_cancel_share,
                        0.05,
                    ),
                )[0].value
                # A dispute settled in the seller's favour: staff exclude it from the rates.
                order.excluded_from_metrics = (
                    order.cancelled_by == CancelledBy.ADMIN and rng.random() < 0.5
                )
        elif delivered < now:
            order.delivered_at = delivered
            # Completed when the buyer confirms, or automatically after 3 days.
            completed = delivered + timedelta(hours=rng.uniform(0.5, 72))
            if completed < now:
                order.completed_at = completed
        self.world.orders.append(order)
        if created >= self.start:  # older conversations are archived by the marketplace
            self._order_messages(seller, order)
        if order.completed_at and rng.random() < profile.review_prob:
            at = order.completed_at + timedelta(hours=rng.uniform(0.2, 96))
            if at < now:
                rating = _rating(rng, profile.rating_weights, late)
                if profile.archetype is Archetype.DEMO:
                    # Good enough for Level 2 by construction: only fives and fours, 1 in 6 fours.
                    self.demo_reviews += 1
                    rating = 4 if self.demo_reviews % 6 == 0 else 5
                comment = rng.choice(_COMMENTS[rating]) if rng.random() < 0.6 else ""
                self.world.reviews.append(
                    ReviewRow(self.ids.next("r", 7), order.external_id, rating, comment, at)
                )

    def _order_messages(self, seller: SellerRow, order: OrderRow) -> None:
        rng = self.rng
        script: list[tuple[datetime, str]] = []
        if rng.random() < 0.6:  # a question before ordering
            script.append((order.created_at - timedelta(hours=rng.uniform(0.5, 48)), Sender.BUYER))
            if rng.random() < 0.4:
                script.append((order.created_at - timedelta(minutes=30), Sender.BUYER))
        if rng.random() < 0.7:  # the buyer sends the requirements
            script.append((order.created_at + timedelta(minutes=rng.uniform(1, 120)), Sender.BUYER))
        if order.delivered_at:
            script.append((order.delivered_at, Sender.SELLER))  # "delivered, please check"
            if rng.random() < 0.4:  # a revision request or a thank-you
                script.append(
                    (order.delivered_at + timedelta(hours=rng.uniform(0.5, 24)), Sender.BUYER)
                )
        if script:
            self._conversation(seller, order.buyer, script)

    def _conversation(
        self,
        seller: SellerRow,
        buyer: str,
        script: list[tuple[datetime, str]],
    ) -> None:
        """Write a thread: each scripted buyer message gets the seller's answer before the next.

        Messages are strictly increasing in time; nothing is written at or after ``now`` (a
        reply due later is simply not there yet).
        """
        profile = seller.profile
        conversation = self.ids.next("c", 7)
        last: datetime | None = None
        for planned, sender in script:
            at = max(planned, seller.joined_at) if last is None else max(planned, last + MINUTE)
            if at >= self.now:
                return
            self._message(conversation, seller, buyer, sender, at)
            last = at
            if sender != Sender.BUYER:
                continue
            answer = at + self._reply_delay(profile)
            if answer >= self.now:
                return
            self._message(conversation, seller, buyer, Sender.SELLER, answer)
            last = answer

    def _reply_delay(self, profile: Profile) -> timedelta:
        rng = self.rng
        if profile.archetype is Archetype.DEMO:
            self.demo_inquiries += 1
            if self.demo_inquiries % 6 == 0:  # one in six answered after the 24 h window
                return timedelta(hours=rng.uniform(25, 40))
            return timedelta(minutes=min(rng.lognormvariate(math.log(30), 0.8), 600))
        if rng.random() < profile.miss_prob:
            return timedelta(hours=rng.uniform(24.5, 96))
        minutes = rng.lognormvariate(math.log(profile.reply_median_minutes), profile.reply_sigma)
        return timedelta(minutes=max(minutes, 0.5))

    def _message(
        self, conversation: str, seller: SellerRow, buyer: str, sender: str, at: datetime
    ) -> None:
        self.world.messages.append(
            MessageRow(self.ids.next("m", 8), conversation, seller.external_id, buyer, sender, at)
        )


def generate_world(*, seed: int, sellers: int, months: int, now: datetime) -> World:
    """Build the demo world in memory: same arguments, same rows (no database access)."""
    if sellers < 1 or months < 1:
        raise ValueError("sellers and months must be at least 1")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return _Generator(seed=seed, sellers=sellers, months=months, now=now).run()


def _create_logins() -> str:
    """Create the staff login, the demo seller's password and a staff token; returns the token.

    Called only while seeding the world into an empty database, in the same transaction: the
    ``admin`` user is new and ``demo`` is the demo seller's own, just-created login.
    """
    user_model = get_user_model()
    admin = user_model.objects.create_superuser(username=ADMIN_USERNAME, password=ADMIN_PASSWORD)
    demo_user = user_model.objects.get(seller__username=DEMO_USERNAME)
    demo_user.set_password(DEMO_PASSWORD)
    demo_user.save(update_fields=["password"])
    return Token.objects.create(user=admin).key


def staff_token() -> str | None:
    """The demo's staff API token, if the demo's own logins are in this database.

    A ``admin`` user that does not have the demo password is somebody's real account: its token
    is never shown.
    """
    admin = get_user_model().objects.filter(username=ADMIN_USERNAME, is_superuser=True).first()
    if admin is None or not admin.check_password(ADMIN_PASSWORD):
        return None
    token = Token.objects.filter(user=admin).first()
    return token.key if token else None


def database_is_empty() -> bool:
    """No sellers and no users: the only database the demo world is ever written into."""
    return not Seller.objects.exists() and not get_user_model().objects.exists()


@transaction.atomic
def seed_world(*, world: World) -> None:
    """Write a generated world: users, sellers, orders, messages, reviews, in batches."""
    user_model = get_user_model()
    usernames = [s.username for s in world.sellers]
    existing = set(
        user_model.objects.filter(username__in=usernames).values_list("username", flat=True)
    )
    unusable = make_password(None)  # the same "!…" marker for all: none of them can log in
    user_model.objects.bulk_create(
        [
            user_model(username=s.username, password=unusable, date_joined=s.joined_at)
            for s in world.sellers
            if s.username not in existing
        ],
        batch_size=BATCH_SIZE,
    )
    user_ids = dict(user_model.objects.filter(username__in=usernames).values_list("username", "id"))
    Seller.objects.bulk_create(
        [
            Seller(
                external_id=s.external_id,
                username=s.username,
                display_name=s.display_name,
                joined_at=s.joined_at,
                user_id=user_ids[s.username],
            )
            for s in world.sellers
        ],
        batch_size=BATCH_SIZE,
    )
    seller_ids = dict(
        Seller.objects.filter(external_id__in=[s.external_id for s in world.sellers]).values_list(
            "external_id", "id"
        )
    )
    Order.objects.bulk_create(
        (
            Order(
                external_id=o.external_id,
                seller_id=seller_ids[o.seller],
                buyer=o.buyer,
                amount=o.amount,
                created_at=o.created_at,
                due_at=o.due_at,
                delivered_at=o.delivered_at,
                completed_at=o.completed_at,
                cancelled_at=o.cancelled_at,
                cancelled_by=o.cancelled_by,
                excluded_from_metrics=o.excluded_from_metrics,
            )
            for o in world.orders
        ),
        batch_size=BATCH_SIZE,
    )
    Message.objects.bulk_create(
        (
            Message(
                external_id=m.external_id,
                conversation=m.conversation,
                seller_id=seller_ids[m.seller],
                buyer=m.buyer,
                sender=m.sender,
                sent_at=m.sent_at,
            )
            for m in world.messages
        ),
        batch_size=BATCH_SIZE,
    )
    order_ids = dict(
        Order.objects.filter(seller_id__in=seller_ids.values()).values_list("external_id", "id")
    )
    Review.objects.bulk_create(
        (
            Review(
                external_id=r.external_id,
                order_id=order_ids[r.order],
                rating=r.rating,
                comment=r.comment,
                created_at=r.created_at,
            )
            for r in world.reviews
        ),
        batch_size=BATCH_SIZE,
    )


DEMO_GRACE_MONTHS = 1
# Sellers whose latest late order carries an open appeal (issue 21: the demo shows the queue).
DEMO_APPEALS = 3


def _open_appeals(*, now: datetime) -> None:
    """Open appeals for the demo seller and two others: each on its latest late delivery of the
    last months, filed as the seller itself would (with the audit entry), so the seller's
    evidence shows "under review" and staff find them in the admin queue."""
    from django.db.models import F

    from metrics.appeals.services import appealable_since, file_appeal

    reasons = (
        "The buyer asked for changes after the due date and agreed to wait.",
        "The marketplace's payment outage delayed the start by two days.",
        "The courier lost the parcel for four days.",
    )
    sellers = [Seller.objects.get(username=DEMO_USERNAME)] + list(
        Seller.objects.exclude(username=DEMO_USERNAME).order_by("external_id")[: DEMO_APPEALS - 1]
    )
    for seller, reason in zip(sellers, reasons, strict=False):
        late = (
            Order.objects.filter(
                seller=seller,
                delivered_at__gt=F("due_at"),
                created_at__gte=appealable_since(now),
                created_at__lt=now,
            )
            .order_by("-created_at")
            .first()
        )
        if late is not None:
            file_appeal(
                seller=seller, order_external_id=late.external_id, reason=reason, actor=seller.user
            )


def _grace_for_the_demo() -> None:
    """One month of demotion grace on the seeded policy (no run has used it yet), so the demo
    shows sellers "at risk" as well as sellers moving each way (issue 21)."""
    from metrics.models import GradePolicy

    GradePolicy.objects.filter(is_active=True, runs__isnull=True).update(
        demotion_grace_months=DEMO_GRACE_MONTHS
    )


def seed_demo(
    *,
    seed: int = DEFAULT_SEED,
    sellers: int = DEFAULT_SELLERS,
    months: int = DEFAULT_MONTHS,
    now: datetime,
    if_empty: bool = False,
) -> SeedResult:
    """Load the demo world and its logins into an empty database (no sellers, no users).

    A database holding anything is left untouched: with ``if_empty`` nothing is seeded (the
    demo's token is returned only if it is the demo's own world), else ``ValueError``.
    """
    with transaction.atomic():
        if not database_is_empty():
            if if_empty:
                return SeedResult(False, 0, 0, 0, 0, staff_token())
            raise ValueError("the database is not empty")
        world = generate_world(seed=seed, sellers=sellers, months=months, now=now)
        seed_world(world=world)
        programs.seed_programs(world=world, seed=seed)  # dispatch, cases, surveys, conversations
        _grace_for_the_demo()
        token = _create_logins()
        _open_appeals(now=now)
    return SeedResult(
        True, len(world.sellers), len(world.orders), len(world.messages), len(world.reviews), token
    )
