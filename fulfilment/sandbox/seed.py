"""Demo and load data for the sandbox Market: realistic packing scenarios.

Product GTINs carry valid check digits and ``make_cis`` builds Честный ЗНАК codes for them, so a
trainee (or a browser test) can "scan" codes that belong to the items of an order.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass
from typing import Any

from . import return_rules
from .clock import MSK, UTC
from .return_data import save_return
from .state import MarketState
from .store import Store

GS = "\x1d"
DEMO_BUSINESS_ID = 10_001
DEMO_API_KEY = "ACMA:sandbox-demo-key:0000"
FBS_CAMPAIGN_ID = 21_001
EXPRESS_CAMPAIGN_ID = 21_002
DBS_CAMPAIGN_ID = 21_003
LAAS_CAMPAIGN_ID = 21_004
CIS_SERIAL_CHARS = string.ascii_letters + string.digits + "!\"%&'()*+,-./:;<=>?_"


def gtin_check_digit(body: str) -> str:
    """GS1 check digit for the digits before it (weights 3,1,3,1… from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gtin14(prefix13: str) -> str:
    """A GTIN-14 (leading zero + EAN-13) from the first 12 digits of an EAN-13."""
    ean13 = prefix13[:12] + gtin_check_digit(prefix13[:12])
    return "0" + ean13


@dataclass(frozen=True)
class Product:
    offer_id: str
    name: str
    price: int
    gtin: str | None = None  # GTIN-14
    codes: tuple[str, ...] = ()  # requiredInstanceTypes
    serial_length: int = 13
    tail: str = "91/92"  # the crypto tail shape of its codes

    @property
    def ean13(self) -> str | None:
        return self.gtin[1:] if self.gtin else None


CATALOG: dict[str, Product] = {p.offer_id: p for p in [
    Product("MUG-001", "Кружка керамическая 350 мл", 490, gtin14("460123400001")),
    Product("TEA-GREEN-100", "Чай зелёный листовой, 100 г", 320, gtin14("460123400002")),
    Product("SOCKS-3P", "Носки хлопковые, 3 пары", 390, gtin14("460123400003")),
    Product("USB-C-1M", "Кабель USB-C, 1 м", 650, gtin14("460123400004")),
    Product("NOTEBOOK-A5", "Блокнот A5 в клетку", 210, gtin14("460123400005")),
    Product("SHOES-RUN-42", "Кроссовки беговые, размер 42", 5990, "04601234567893", ("CIS",), 13, "91/92x88"),
    Product("TSHIRT-M", "Футболка хлопковая, M", 1290, gtin14("468001234567"), ("CIS",), 13, "91/92"),
    Product("MILK-1L", "Молоко 3,2 %, 1 л", 110, "04650117240408", ("CIS",), 6, "93"),
    Product("WATER-05", "Вода питьевая 0,5 л", 60, gtin14("460701234567"), ("CIS",), 13, "93"),
    Product("PERFUME-50", "Парфюмерная вода, 50 мл", 4500, gtin14("462712345678"), ("CIS_OPTIONAL",), 13, "93"),
    Product("RING-585", "Кольцо золотое 585, 17 размер", 18900, gtin14("460999000001"), ("UIN",)),
    Product("FRIDGE-IMP", "Холодильник импортный", 45990, gtin14("690000000001"), ("RNPT",)),
    Product("TV-IMP-55", "Телевизор 55\" импортный", 52990, gtin14("690000000002"), ("GTD",)),
    Product("AC-SPLIT-9", "Сплит-система 9 BTU (2 коробки)", 32990, gtin14("460123400010")),
    Product("WARDROBE-3", "Шкаф разборный (3 коробки)", 14990, gtin14("460123400011")),
    Product("GAME-KEY", "Ключ активации игры", 2490),
]}


def make_cis(product: Product, rng: random.Random, with_gs: bool = True) -> str:
    """A structurally valid Честный ЗНАК code for ``product`` (made up, not registered anywhere)."""
    assert product.gtin
    serial_chars = string.ascii_letters + string.digits + "!%&()*+,-.:;=?_"
    serial = "5" + "".join(rng.choice(serial_chars) for _ in range(product.serial_length - 1))
    sep = GS if with_gs else ""
    alnum = string.ascii_letters + string.digits
    if product.tail.startswith("91"):
        n92 = 88 if product.tail.endswith("x88") else 44
        tail = "91" + "".join(rng.choice(alnum) for _ in range(4)) + sep + "92" + "".join(
            rng.choice(alnum + "+/") for _ in range(n92 - 1)) + "="
    else:
        tail = "93" + "".join(rng.choice(alnum) for _ in range(4))
    return f"01{product.gtin}21{serial}{sep}{tail}"


def catalogue_offer(product: Product) -> dict[str, Any]:
    """The product as the seller's catalogue lists it (``GetOfferDTO``): its EAN-13 is its barcode."""
    offer: dict[str, Any] = {"offerId": product.offer_id, "name": product.name, "archived": False,
                             "pictures": [f"/_sandbox/pictures/{product.offer_id}.png"]}  # served by control.py
    if product.ean13:
        offer["barcodes"] = [product.ean13]
    return offer


class Seeder:
    """Builds orders in the sandbox's stored shape (``BusinessOrderDTO`` + ``_sandbox`` extras)."""

    def __init__(self, store: Store, rng: random.Random | None = None) -> None:
        self.store = store
        self.rng = rng or random.Random(20261123)
        self.now = dt.datetime.now(UTC)
        self._n = 0

    def accounts(self, api_key: str = DEMO_API_KEY) -> None:
        self.store.add_business(DEMO_BUSINESS_ID, "Демо-магазин", api_key)
        self.store.add_campaign(FBS_CAMPAIGN_ID, DEMO_BUSINESS_ID, "demo-fbs.example", "FBS")
        self.store.add_campaign(EXPRESS_CAMPAIGN_ID, DEMO_BUSINESS_ID, "demo-express.example", "FBS")
        self.store.add_campaign(DBS_CAMPAIGN_ID, DEMO_BUSINESS_ID, "demo-dbs.example", "DBS")
        self.store.add_campaign(LAAS_CAMPAIGN_ID, DEMO_BUSINESS_ID, "demo-laas.example", "LAAS")
        for product in CATALOG.values():
            self.store.save_offer(DEMO_BUSINESS_ID, catalogue_offer(product))

    def order(self, lines: list[tuple[str, int]], *, campaign_id: int = FBS_CAMPAIGN_ID, program: str = "FBS",
              buyer_type: str = "PERSON", status: str = "PROCESSING", substatus: str = "STARTED",
              shipment_in_days: int = 0, delivery_type: str = "PICKUP", cancel_requested: bool = False,
              promo_offer: str | None = None, notes: str = "", created_ago: dt.timedelta | None = None,
              fake: bool = False, updated_now: bool = True) -> dict[str, Any]:
        self._n += 1
        order_id = self.store.next_id("order", 50_000_001)
        created = self.now - (created_ago if created_ago is not None else dt.timedelta(hours=self._n % 48 + 1))
        # A new order's last change is now; historical (load) orders last changed when created.
        placed = max(dt.datetime.now(UTC), created) if updated_now else created
        items = []
        total = 0
        for offer_id, count in lines:
            product = CATALOG[offer_id]
            payment = product.price * count
            total += payment
            item: dict[str, Any] = {
                "id": self.store.next_id("item", 700_000_001),
                "offerId": product.offer_id,
                "offerName": product.name,
                "count": count,
                "prices": {"payment": {"value": payment, "currencyId": "RUR"},
                           "subsidy": {"value": 0, "currencyId": "RUR"}, "vat": "VAT_20"},
            }
            if product.codes:
                item["requiredInstanceTypes"] = list(product.codes)
            if offer_id == promo_offer:
                item["_promos"] = [{"type": "DIRECT_DISCOUNT", "discount": 100, "subsidy": 0}]
            items.append(item)
        shipment_date = (self.now.astimezone(MSK) + dt.timedelta(days=shipment_in_days)).date()
        delivery: dict[str, Any] = {
            "type": delivery_type,
            "serviceName": "Маркет Доставка" if campaign_id != DBS_CAMPAIGN_ID else "Собственная доставка",
            "deliveryServiceId": 1006360 if campaign_id != DBS_CAMPAIGN_ID else 99,
            "deliveryPartnerType": "YANDEX_MARKET" if campaign_id != DBS_CAMPAIGN_ID else "SHOP",
            "dispatchType": "MARKET_BRANDED_OUTLET" if delivery_type == "PICKUP" else "BUYER",
            "dates": {"fromDate": (shipment_date + dt.timedelta(days=2)).isoformat(),
                      "toDate": (shipment_date + dt.timedelta(days=3)).isoformat()},
            "shipment": {"id": self.store.next_id("shipment", 300_000_001),
                         "shipmentDate": shipment_date.isoformat()},
        }
        if delivery_type == "DIGITAL":
            delivery.pop("shipment")
            delivery["dispatchType"] = "BUYER"
        first, last = self.rng.choice([("Анна", "Иванова"), ("Пётр", "Смирнов"), ("Ольга", "Кузнецова"),
                                       ("Игорь", "Попов")])
        order: dict[str, Any] = {
            "orderId": order_id,
            "campaignId": campaign_id,
            "programType": program,
            "status": status,
            "substatus": substatus,
            "creationDate": created.astimezone(MSK).isoformat(timespec="seconds"),
            # Placed into the sandbox now: its last change is now, whatever its creation date.
            "updateDate": placed.astimezone(MSK).isoformat(timespec="seconds"),
            "paymentType": "PREPAID",
            "paymentMethod": "YANDEX",
            "fake": fake,
            "items": items,
            "prices": {"payment": {"value": total, "currencyId": "RUR"},
                       "subsidy": {"value": 0, "currencyId": "RUR"}},
            "delivery": delivery,
            "buyerType": buyer_type,
            "cancelRequested": cancel_requested,
            "_sandbox": {
                "businessId": DEMO_BUSINESS_ID,
                "createdUtc": created.isoformat(timespec="microseconds"),
                "updatedUtc": placed.isoformat(timespec="microseconds"),
                "processingAt": created.isoformat(),
                "buyer": {"id": f"buyer-{order_id}", "firstName": first, "lastName": last,
                          "phone": "+7999" + str(order_id)[-7:]},
            },
        }
        if notes:
            order["notes"] = notes
        if cancel_requested:
            asked = self.now - dt.timedelta(hours=3)
            order["_sandbox"]["cancelRequestedAt"] = asked.isoformat()
            # The buyer's request is a change of the order.
            order["updateDate"] = asked.astimezone(MSK).isoformat(timespec="seconds")
            order["_sandbox"]["updatedUtc"] = asked.isoformat(timespec="microseconds")
        return order

    def demo(self) -> list[dict[str, Any]]:
        """The scenarios a packing team meets, a few of each."""
        o = self.order
        orders = [
            o([("MUG-001", 1)], notes="Single item"),
            o([("MUG-001", 2), ("TEA-GREEN-100", 3), ("SOCKS-3P", 1), ("USB-C-1M", 2), ("NOTEBOOK-A5", 4)]),
            o([("SHOES-RUN-42", 2), ("TSHIRT-M", 1)]),
            o([("SHOES-RUN-42", 1), ("MILK-1L", 2)], buyer_type="BUSINESS"),
            o([("WATER-05", 6), ("PERFUME-50", 1)], shipment_in_days=1),
            o([("RING-585", 1)]),
            o([("FRIDGE-IMP", 1), ("TV-IMP-55", 1)], shipment_in_days=1),
            o([("AC-SPLIT-9", 1)]),
            o([("WARDROBE-3", 2)], shipment_in_days=1),
            o([("USB-C-1M", 1), ("MUG-001", 1)], buyer_type="BUSINESS", program="EXPRESS",
              campaign_id=EXPRESS_CAMPAIGN_ID, delivery_type="DELIVERY"),
            o([("TEA-GREEN-100", 1), ("MUG-001", 1)], promo_offer="TEA-GREEN-100"),
            o([("NOTEBOOK-A5", 2), ("SOCKS-3P", 1)], campaign_id=DBS_CAMPAIGN_ID, program="DBS",
              delivery_type="DELIVERY"),
            o([("TSHIRT-M", 2)], campaign_id=DBS_CAMPAIGN_ID, program="DBS", delivery_type="DELIVERY"),
            o([("MUG-001", 1), ("TEA-GREEN-100", 1)], campaign_id=DBS_CAMPAIGN_ID, program="DBS",
              delivery_type="DELIVERY", status="DELIVERY", substatus="DELIVERY_SERVICE_RECEIVED",
              cancel_requested=True),
            o([("GAME-KEY", 1)], campaign_id=DBS_CAMPAIGN_ID, program="DBS", delivery_type="DIGITAL",
              created_ago=dt.timedelta(minutes=5)),
            o([("MUG-001", 1)], status="PROCESSING", substatus="READY_TO_SHIP"),
            o([("SOCKS-3P", 2)], status="CANCELLED", substatus="USER_CHANGED_MIND"),
        ]
        self.store.save_orders(orders)
        returned = self.demo_returns()
        return orders + [self.store.order(r["orderId"]) for r in returned]

    def shipped(self, lines: list[tuple[str, int]], **kw: Any) -> dict[str, Any]:
        """An order packed with a marking code per marked unit (as the seller's layout sent them)."""
        order = self.order(lines, created_ago=dt.timedelta(days=6), **kw)
        for item in order["items"]:
            product = CATALOG[item["offerId"]]
            if "CIS" in product.codes:
                item["instances"] = [{"cis": make_cis(product, self.rng)} for _ in range(item["count"])]
        return order

    def demo_returns(self) -> list[dict[str, Any]]:
        """Delivered orders that came back, so the Returns screen is not empty on a first look: a buyer's
        return with photos waiting for the seller's decision, an unredeemed order waiting at a pickup
        point until its deadline, and one whose deadline has passed."""
        market = MarketState(self.store)
        claimed = self.shipped([("SHOES-RUN-42", 2), ("MUG-001", 1)], status="DELIVERED",
                               substatus="DELIVERED_USER_RECEIVED")
        waiting = self.shipped([("PERFUME-50", 1), ("TSHIRT-M", 1)], status="PICKUP",
                               substatus="PICKUP_SERVICE_RECEIVED")
        late = self.shipped([("SHOES-RUN-42", 1)], status="PICKUP", substatus="PICKUP_SERVICE_RECEIVED")
        made = []
        for order, body, journey in (
            (claimed, {"type": "RETURN", "items": [
                {"offerId": "SHOES-RUN-42", "count": 1, "reason": "BAD_QUALITY", "photos": 2,
                 "comment": "Через неделю отклеилась подошва на левом кроссовке"},
                {"offerId": "MUG-001", "count": 1, "reason": "DOES_NOT_FIT", "photos": 1,
                 "comment": "Кружка меньше, чем на фото"}]}, ("IN_TRANSIT",)),
            (waiting, {"type": "UNREDEEMED"}, ("IN_TRANSIT", "READY_FOR_PICKUP")),
            (late, {"type": "UNREDEEMED"}, ("IN_TRANSIT", "READY_FOR_PICKUP")),
        ):
            ret = return_rules.new_return(market, order, [], body)
            if body["type"] == "UNREDEEMED":
                order.update(status="CANCELLED", substatus="PICKUP_EXPIRED")
            for status in journey:
                till = (self.now - dt.timedelta(hours=5)).isoformat() if order is late else None
                return_rules.move_shipment(market, ret, status, till if status == "READY_FOR_PICKUP" else None)
            made.append(ret)
        self.store.save_orders([claimed, waiting, late])
        for ret in made:
            save_return(self.store, ret)
        return made

    def load(self, count: int, items_per_order: int = 3, batch: int = 1000) -> int:
        """Many ordinary FBS orders for load tests and benchmarks, created (and last changed) over the
        last 25 days."""
        plain = [p.offer_id for p in CATALOG.values() if not p.codes and p.offer_id != "GAME-KEY"]
        made = 0
        while made < count:
            chunk = []
            for _ in range(min(batch, count - made)):
                picks = self.rng.sample(plain, k=min(items_per_order, len(plain)))
                age = dt.timedelta(minutes=self.rng.randrange(10, 25 * 24 * 60))
                chunk.append(self.order([(p, self.rng.randint(1, 3)) for p in picks], created_ago=age,
                                        shipment_in_days=self.rng.randint(0, 2), updated_now=False))
            # Historical orders: the Market told the seller of them long ago, when they were new.
            self.store.save_orders(chunk, notify=False)
            made += len(chunk)
        return made
