"""Pages: the staff outbox, the public opt-out link, and the WhatsApp webhook."""

from __future__ import annotations

import hmac
import json
import logging

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ektp.core.access import role_required
from ektp.core.models import AuditEvent, Role
from ektp.core.services import record_audit
from ektp.notifications import selectors, services, whatsapp
from ektp.notifications.forms import PreferenceForm
from ektp.notifications.models import Channel, ChannelOptOut, MessageStatus
from ektp.residents.models import Resident
from ektp.residents.selectors import get_resident_by_nik

log = logging.getLogger(__name__)
MAX_WEBHOOK_BODY = 256 * 1024


@role_required(Role.OPERATOR, Role.SUPERVISOR, Role.PROVINCE_ADMIN)
def outbox(request: HttpRequest) -> HttpResponse:
    """Show every message to residents with its state, newest first."""
    status = request.GET.get("status", "")
    channel = request.GET.get("saluran", "")
    status = status if status in MessageStatus.values else ""
    channel = channel if channel in Channel.values else ""
    qs = selectors.outbox_for(request.user, status=status, channel=channel)
    counts = selectors.status_counts(selectors.outbox_for(request.user))
    paginator = Paginator(qs, 50)
    if not channel:  # the size is in the counts by status: no second count over the join
        paginator.count = counts.get(status, 0) if status else sum(counts.values())
    page = paginator.get_page(request.GET.get("hal"))
    return render(
        request,
        "notifications/outbox.html",
        {
            "page": page,
            "counts": counts,
            "statuses": MessageStatus.choices,
            "channels": Channel.choices,
            "status": status,
            "channel": channel,
        },
    )


@role_required(Role.OPERATOR, Role.SUPERVISOR)
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, nik: str) -> HttpResponse:
    """Let staff set a resident's notice language and the channels the resident refused."""
    resident = get_resident_by_nik(user=request.user, nik=nik)
    if resident is None:
        raise Http404("Penduduk tidak ditemukan di wilayah kerja Anda.")
    current = {
        "language": services.preferred_language(resident),
        "opted_out": list(
            ChannelOptOut.objects.filter(resident=resident).values_list("channel", flat=True)
        ),
    }
    form = PreferenceForm(request.POST if request.method == "POST" else None, initial=current)
    if request.method == "POST" and form.is_valid():
        services.set_preferences(
            resident=resident,
            language=form.cleaned_data["language"],
            opted_out=form.cleaned_data["opted_out"],
        )
        record_audit(
            user=request.user,
            action=AuditEvent.Action.UPDATE,
            object_type="notification_preference",
            object_id=resident.nik,
            request=request,
            detail=form.cleaned_data,
        )
        messages.success(request, "Preferensi pemberitahuan disimpan.")
        return redirect("notifications:preferences", nik=resident.nik)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "notifications/preferences.html",
        {"resident": resident, "form": form},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def opt_out(request: HttpRequest, token: str) -> HttpResponse:
    """Let a resident stop messages on one channel from the signed link in a message."""
    try:
        resident_id, channel = services.read_opt_out_token(token)
    except services.NotificationInvalid as exc:
        return render(request, "notifications/opt_out.html", {"error": str(exc)}, status=400)
    resident = Resident.objects.filter(id=resident_id).first()
    if resident is None:
        return render(
            request,
            "notifications/opt_out.html",
            {"error": "Tautan berhenti berlangganan tidak sah."},
            status=400,
        )
    done = False
    if request.method == "POST":
        services.opt_out(resident=resident, channel=channel)
        done = True
    return render(
        request,
        "notifications/opt_out.html",
        {"channel": Channel(channel).label, "done": done},
    )


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest) -> HttpResponse:
    """Answer Meta's subscription handshake (GET) and incoming WhatsApp messages (POST)."""
    if request.method == "GET":
        expected = settings.WHATSAPP_VERIFY_TOKEN
        mode = request.GET.get("hub.mode")
        token = request.GET.get("hub.verify_token", "")
        challenge = request.GET.get("hub.challenge", "")
        # compare_digest: the time taken says nothing of how much of the token was right.
        token_right = bool(expected) and hmac.compare_digest(token.encode(), expected.encode())
        if mode != "subscribe" or not token_right or not challenge:
            return _error("Verifikasi langganan webhook ditolak: hub.verify_token salah.", 403)
        return HttpResponse(challenge[:200], content_type="text/plain")
    if len(request.body) > MAX_WEBHOOK_BODY:
        return _error("Isi permintaan terlalu besar.", 413)
    header = request.headers.get("X-Hub-Signature-256")
    if not header:
        return _error("Tanda tangan X-Hub-Signature-256 tidak ada.", 401)
    if not whatsapp.signature_valid(request.body, header):
        return _error("Tanda tangan X-Hub-Signature-256 tidak cocok.", 401)
    try:
        payload = json.loads(request.body)
        incoming = whatsapp.parse_messages(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        message = str(exc) if isinstance(exc, whatsapp.WebhookInvalid) else "Isi bukan JSON."
        return _error(f"Isi webhook tidak sah: {message}", 400)
    for key, provider_id in whatsapp.parse_receipts(payload):
        services.confirm_sent(idempotency_key=key, provider_id=provider_id)
    handled = 0
    for item in incoming:
        with transaction.atomic():
            inbound = services.record_inbound(
                provider_id=item.provider_id, sender=item.sender, kind=item.kind, text=item.text
            )
            if inbound is None:
                continue
            text, resident, attachment = whatsapp.answer(request, item)
            services.reply_on_whatsapp(
                inbound=inbound, text=text, resident=resident, attachment=attachment
            )
            handled += 1
    return JsonResponse({"diterima": len(incoming), "dijawab": handled})
