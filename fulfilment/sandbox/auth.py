"""Who is calling: the ``Api-Key`` (or ``Authorization: Bearer``) names a business, which may touch
only its own business id and campaigns in the path."""

from __future__ import annotations

from .protocol import ApiError, Request
from .store import Store


def authenticate(store: Store, req: Request) -> None:
    """Set ``req.business_id``; 401 without a key, 403 for a wrong key or another business's resource."""
    token = req.headers.get("api-key")
    auth = req.headers.get("authorization", "")
    if not token and auth.lower().startswith("bearer "):
        token = auth[7:].strip()
    if not token:
        raise ApiError(401, "UNAUTHORIZED", "Authorization is missing: send the Api-Key header")
    business_id = store.business_for_key(token)
    if business_id is None:
        raise ApiError(403, "FORBIDDEN", "The API key is not valid")
    req.business_id = business_id
    if "businessId" in req.params and req.params["businessId"] != business_id:
        raise ApiError(403, "FORBIDDEN", f"No access to business {req.params['businessId']}")
    if "campaignId" in req.params:
        campaign = store.campaign(req.params["campaignId"])
        if campaign is None or campaign["business_id"] != business_id:
            raise ApiError(403, "FORBIDDEN", f"No access to campaign {req.params['campaignId']}")
