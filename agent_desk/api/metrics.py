"""GET /metrics: the desk's Prometheus figures (all its worker processes, and the ACD's live
view read at the scrape), to the networks of CC_METRICS_ALLOW only: they name no person, but
show the centre's load to whoever reads them."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from agent_desk.auth.errors import Forbidden
from agent_desk.auth.policy import ip_allowed
from agent_desk.deps import ClientIp, StateDep
from backend.metrics.exposition import metrics_payload
from backend.metrics.live import refresh_live_gauges

router = APIRouter(tags=["ops"])


class MetricsNotAllowed(Forbidden):
    code = "metrics-not-allowed"


@router.get("/metrics", include_in_schema=False)
async def metrics(state: StateDep, ip: ClientIp) -> Response:
    if not ip_allowed(ip, list(state.settings.metrics_networks)):
        raise MetricsNotAllowed(f"/metrics is served to CC_METRICS_ALLOW only, not to {ip}")
    async with state.acd() as store:
        await refresh_live_gauges(store)
    body, content_type = metrics_payload()
    return Response(body, media_type=content_type)
