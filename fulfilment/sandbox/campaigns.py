"""getCampaigns and getCampaign: the caller's shops."""

from __future__ import annotations

from typing import Any

from .protocol import Request, Response
from .state import MarketState


def _campaign_dto(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "domain": row["domain"], "placementType": row["placement"],
            "business": {"id": row["business_id"], "name": row["business_name"]},
            "apiAvailability": "AVAILABLE"}


def get_campaigns(market: MarketState, req: Request) -> Response:
    """The caller's business's campaigns, on one page."""
    rows = market.store.campaigns(req.business_id or 0)
    return Response(body={"campaigns": [_campaign_dto(r) for r in rows],
                          "pager": {"total": len(rows), "from": 1 if rows else 0, "to": len(rows),
                                    "currentPage": 1, "pagesCount": 1, "pageSize": max(len(rows), 1)}})


def get_campaign(market: MarketState, req: Request) -> Response:
    """One campaign (auth has already checked it is the caller's)."""
    return Response(body={"campaign": _campaign_dto(market.store.campaign(req.params["campaignId"]))})
