"""The JSON API at /api/v1/ (Django Ninja), with token auth for staff."""

from ninja import NinjaAPI

from ektp.appointments.api import router as appointments_router
from ektp.cards.api import router as cards_router
from ektp.core.api import ApiTokenAuth, install_error_handlers
from ektp.core.api import router as core_router
from ektp.coverage.api import router as coverage_router
from ektp.dedup.api import router as dedup_router
from ektp.enrollment.api import router as enrollment_router
from ektp.notifications.api import router as notifications_router
from ektp.offices.api import router as offices_router
from ektp.outreach.api import router as outreach_router
from ektp.partners.api import router as partners_router
from ektp.portal.api import router as portal_router
from ektp.regions.api import router as regions_router
from ektp.residents.api import router as residents_router
from ektp.suket.api import router as suket_router
from ektp.sync.api import router as sync_router

api = NinjaAPI(
    title="ektp API",
    version="1",
    description="Operasional Disdukcapil untuk KTP-el.",
    auth=ApiTokenAuth(),
    urls_namespace="api",
)
install_error_handlers(api)
api.add_router("/auth", core_router)
api.add_router("/regions", regions_router)
api.add_router("/residents", residents_router)
api.add_router("/offices", offices_router)
api.add_router("/enrollment", enrollment_router)
api.add_router("/cards", cards_router)
api.add_router("/coverage", coverage_router)
api.add_router("/outreach", outreach_router)
api.add_router("/dedup", dedup_router)
api.add_router("/suket", suket_router)
api.add_router("/appointments", appointments_router)
api.add_router("/notifications", notifications_router)
api.add_router("/portal", portal_router)
api.add_router("/sync", sync_router)
api.add_router("/partners", partners_router)
