"""The second factor (TOTP through django-otp): who must use it, enrolment, checking a code.

Required for the roles in EKTP_OTP_REQUIRED_ROLES (head of office, province and system
admins: they read personal data across a district or more); any other staff member may
enrol a device, and is then asked for its code too."""

from __future__ import annotations

import base64

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django_otp import match_token, user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ektp.core.models import User

DEVICE_NAME = "ektp"


def second_factor_required(user: User) -> bool:
    """Tell whether this user must give a TOTP code after the password."""
    if user.role in settings.EKTP_OTP_REQUIRED_ROLES:
        return True
    return has_device(user)


def has_device(user: User) -> bool:
    return user_has_device(user, confirmed=True)


@transaction.atomic
def new_pending_device(user: User) -> TOTPDevice:
    """A device to enrol with a key shown on this page only. Earlier unconfirmed devices are
    dropped: a key read from an enrolment page that someone else opened with the same password
    never becomes the one the user confirms."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def pending_device(user: User, device_id) -> TOTPDevice | None:
    """The user's unconfirmed device with this id (the one the enrolment page showed), or None."""
    if not isinstance(device_id, int):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=False, pk=device_id).first()


def confirm_device(device: TOTPDevice, token: str) -> bool:
    """Confirm an enrolment when the code from the authenticator app is right."""
    if not clean_token(token) or not device.verify_token(clean_token(token)):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True


def verified_device(user: User, token: str) -> TOTPDevice | None:
    """Return the user's confirmed device that accepts this code (each code works once)."""
    token = clean_token(token)
    if not token:
        return None
    return match_token(user, token)


def clean_token(token: str | None) -> str:
    """A code as typed: spaces dropped; anything but 6–8 ASCII digits is no code."""
    token = (token or "").replace(" ", "").strip()
    if not (6 <= len(token) <= 8) or not all("0" <= c <= "9" for c in token):
        return ""
    return token


def secret_of(device: TOTPDevice) -> str:
    """The device's secret in base32, as authenticator apps take it typed in."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def qr_svg(device: TOTPDevice) -> str:
    """An SVG QR code of the device's otpauth:// address (for authenticator apps)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


def enrol_confirmed(user: User) -> TOTPDevice:
    """Give a user a confirmed device at once (the demo accounts; never asked by a person)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
    return device


def current_code(device: TOTPDevice) -> str:
    """The code the device's authenticator app shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
