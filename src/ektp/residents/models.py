"""Residents (penduduk) and families (Kartu Keluarga)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

models.CharField.register_lookup(Length)


def years_ago(as_of: dt.date, years: int) -> dt.date:
    """Return the date `years` before `as_of`: anyone born on or before it is that old.

    Someone born on 29 February is a year older on 1 March of a common year, as
    `Resident.age` counts; from 29 February into a common year this gives 28 February."""
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:  # as_of is 29 February, `years` back is a common year
        return as_of.replace(year=as_of.year - years, day=28)


class Sex(models.TextChoices):
    MALE = "L", _("Laki-laki")
    FEMALE = "P", _("Perempuan")


class MaritalStatus(models.TextChoices):
    SINGLE = "belum_kawin", _("Belum kawin")
    MARRIED = "kawin", _("Kawin")
    DIVORCED = "cerai_hidup", _("Cerai hidup")
    WIDOWED = "cerai_mati", _("Cerai mati")


class Religion(models.TextChoices):
    ISLAM = "islam", _("Islam")
    KRISTEN = "kristen", _("Kristen")
    KATOLIK = "katolik", _("Katolik")
    HINDU = "hindu", _("Hindu")
    BUDDHA = "buddha", _("Buddha")
    KONGHUCU = "konghucu", _("Khonghucu")
    KEPERCAYAAN = "kepercayaan", _("Kepercayaan terhadap Tuhan YME")


class Citizenship(models.TextChoices):
    WNI = "WNI", _("WNI")
    WNA = "WNA", _("WNA")


class LifeStatus(models.TextChoices):
    ALIVE = "hidup", _("Hidup")
    MOVED_OUT = "pindah", _("Pindah keluar")
    DEAD = "meninggal", _("Meninggal")


class KtpStatus(models.TextChoices):
    """SIAK status names of a resident's KTP-el."""

    BELUM_REKAM = "BELUM_REKAM", _("Belum rekam")
    BIO_CAPTURED = "BIO_CAPTURED", _("Sudah rekam (biometrik terekam)")
    SENT_FOR_ENROLLMENT = "SENT_FOR_ENROLLMENT", _("Menunggu penunggalan")
    PRINT_READY_RECORD = "PRINT_READY_RECORD", _("Siap cetak")
    DUPLICATE_RECORD = "DUPLICATE_RECORD", _("Data ganda")
    ENROLL_FAILURE = "ENROLL_FAILURE", _("Gagal rekam")
    CARD_PRINTED = "CARD_PRINTED", _("Sudah dicetak")
    CARD_ISSUED = "CARD_ISSUED", _("Sudah diserahkan")


RECORDED_STATUSES = [s for s in KtpStatus.values if s != KtpStatus.BELUM_REKAM]


class FamilyRelation(models.TextChoices):
    HEAD = "kepala_keluarga", _("Kepala keluarga")
    HUSBAND = "suami", _("Suami")
    WIFE = "istri", _("Istri")
    CHILD = "anak", _("Anak")
    CHILD_IN_LAW = "menantu", _("Menantu")
    GRANDCHILD = "cucu", _("Cucu")
    PARENT = "orang_tua", _("Orang tua")
    OTHER = "famili_lain", _("Famili lain")


class AddressMixin(models.Model):
    address_region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("desa/kelurahan"),
    )
    rt = models.CharField(_("RT"), max_length=3)
    rw = models.CharField(_("RW"), max_length=3)
    street = models.CharField(_("alamat"), max_length=200, blank=True)
    # Denormalised from address_region so that jurisdiction filters use plain indexes.
    kecamatan_code = models.CharField(max_length=8, db_index=True, editable=False)
    kabkota_code = models.CharField(max_length=5, db_index=True, editable=False)
    province_code = models.CharField(max_length=2, db_index=True, editable=False)

    class Meta:
        abstract = True

    def set_region_codes(self) -> None:
        code = self.address_region_id or ""
        self.kecamatan_code, self.kabkota_code, self.province_code = code[:8], code[:5], code[:2]


class Family(AddressMixin):
    """A household on one Kartu Keluarga."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kk_number = models.CharField(_("No. KK"), max_length=16, unique=True)
    issued_on = models.DateField(_("tanggal terbit"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("keluarga")
        verbose_name_plural = _("keluarga")
        constraints = [
            models.CheckConstraint(condition=Q(kk_number__length=16), name="family_kk_16_digits"),
        ]

    def __str__(self) -> str:
        return self.kk_number


class ResidentQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(life_status=LifeStatus.ALIVE)

    def wajib_ktp(self, as_of: dt.date):
        """Residents who must hold a KTP-el on a date: WNI (or WNA with ITAP), alive,
        aged 17 or more, or married / ever married (UU 24/2013 Pasal 63)."""
        adult = Q(birth_date__lte=years_ago(as_of, 17))
        ever_married = ~Q(marital_status=MaritalStatus.SINGLE)
        eligible = Q(citizenship=Citizenship.WNI) | Q(has_itap=True)
        return self.alive().filter(eligible, adult | ever_married, birth_date__lte=as_of)

    def recorded(self, as_of: dt.date | None = None):
        qs = self.filter(recorded_on__isnull=False)
        return qs.filter(recorded_on__lte=as_of) if as_of else qs


class Resident(AddressMixin):
    """One person in the population register."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    nik = models.CharField(_("NIK"), max_length=16, unique=True)
    family = models.ForeignKey(
        Family,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("keluarga"),
    )
    family_relation = models.CharField(
        _("hubungan dalam keluarga"),
        max_length=20,
        choices=FamilyRelation.choices,
        default=FamilyRelation.HEAD,
    )
    name = models.CharField(_("nama lengkap"), max_length=100, db_index=True)
    birth_place = models.CharField(_("tempat lahir"), max_length=60)
    birth_date = models.DateField(_("tanggal lahir"))
    sex = models.CharField(_("jenis kelamin"), max_length=1, choices=Sex.choices)
    marital_status = models.CharField(
        _("status perkawinan"),
        max_length=12,
        choices=MaritalStatus.choices,
        default=MaritalStatus.SINGLE,
    )
    religion = models.CharField(_("agama"), max_length=12, choices=Religion.choices)
    occupation = models.CharField(_("pekerjaan"), max_length=60, blank=True)
    citizenship = models.CharField(
        _("kewarganegaraan"), max_length=3, choices=Citizenship.choices, default=Citizenship.WNI
    )
    has_itap = models.BooleanField(_("memiliki ITAP"), default=False)
    mother_name = models.CharField(_("nama ibu kandung"), max_length=100)
    phone = models.CharField(_("nomor HP"), max_length=20, blank=True)
    email = models.EmailField(_("email"), max_length=120, blank=True)
    life_status = models.CharField(
        _("status"), max_length=10, choices=LifeStatus.choices, default=LifeStatus.ALIVE
    )
    ktp_status = models.CharField(
        _("status KTP-el"),
        max_length=20,
        choices=KtpStatus.choices,
        default=KtpStatus.BELUM_REKAM,
        db_index=True,
    )
    recorded_on = models.DateField(_("tanggal perekaman"), null=True, blank=True, db_index=True)
    ikd_activated_at = models.DateTimeField(_("aktivasi IKD"), null=True, blank=True)
    origin_node = models.CharField(max_length=40, default="office", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ResidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("penduduk")
        verbose_name_plural = _("penduduk")
        ordering = ["name", "nik"]
        constraints = [
            models.CheckConstraint(condition=Q(nik__length=16), name="resident_nik_16_digits"),
            models.CheckConstraint(condition=Q(sex__in=["L", "P"]), name="resident_sex_l_p"),
            models.CheckConstraint(
                condition=Q(recorded_on__isnull=True) | Q(recorded_on__gte=models.F("birth_date")),
                name="resident_recorded_after_birth",
            ),
            models.CheckConstraint(
                condition=Q(ktp_status="BELUM_REKAM") | Q(recorded_on__isnull=False),
                name="resident_status_needs_recording",
            ),
        ]
        indexes = [
            models.Index(fields=["address_region", "ktp_status"], name="resident_village_status"),
            models.Index(fields=["kabkota_code", "name"], name="resident_kab_name"),
            # Penunggalan checks a new recording against everyone born the same day.
            models.Index(fields=["birth_date"], name="resident_birth_date"),
            # Who has not recorded yet in a region (coverage's list, jemput bola's village
            # lists): the region's residents with no recording date, read from the index.
            models.Index(fields=["kabkota_code", "recorded_on"], name="resident_kab_recorded"),
            models.Index(fields=["kecamatan_code", "recorded_on"], name="resident_kec_recorded"),
            models.Index(
                fields=["address_region", "recorded_on"], name="resident_village_recorded"
            ),
            # Coverage figures (one GROUP BY by village over a district) read from this index
            # alone, never from the table: every column the counts look at, in village order.
            models.Index(
                fields=[
                    "kabkota_code",
                    "address_region",
                    "life_status",
                    "citizenship",
                    "has_itap",
                    "birth_date",
                    "marital_status",
                    "recorded_on",
                    "ktp_status",
                    "ikd_activated_at",
                    "id",
                ],
                name="resident_coverage_counts",
            ),
            # The print queue and its one PRR count (cards.selectors.prr_waiting): the
            # district's PRR residents, a few percent of it, with the wajib KTP columns and
            # the queue's order read from the index alone.
            models.Index(
                fields=[
                    "ktp_status",
                    "kabkota_code",
                    "kecamatan_code",
                    "life_status",
                    "citizenship",
                    "has_itap",
                    "birth_date",
                    "marital_status",
                    "recorded_on",
                    "nik",
                ],
                name="resident_print_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nik} {self.name}"

    def age(self, as_of: dt.date | None = None) -> int:
        as_of = as_of or dt.date.today()
        years = as_of.year - self.birth_date.year
        return years - ((as_of.month, as_of.day) < (self.birth_date.month, self.birth_date.day))

    def is_wajib_ktp(self, as_of: dt.date | None = None) -> bool:
        """Tell whether the resident must hold a KTP-el on a date (derived, never stored)."""
        as_of = as_of or dt.date.today()
        if self.life_status != LifeStatus.ALIVE or self.birth_date > as_of:
            return False
        if self.citizenship != Citizenship.WNI and not self.has_itap:
            return False
        return self.age(as_of) >= 17 or self.marital_status != MaritalStatus.SINGLE

    @property
    def masked_nik(self) -> str:
        return self.nik[:6] + "******" + self.nik[-4:]


class FamilyCardPrint(models.Model):
    """One Kartu Keluarga printed for a family, with the address it shows and why."""

    class Reason(models.TextChoices):
        REGION_CHANGE = "perubahan_wilayah", _("Perubahan wilayah (keputusan)")
        DATA_CHANGE = "perubahan_data", _("Perubahan data")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="card_prints")
    kk_number = models.CharField(_("No. KK"), max_length=16)
    address_region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("desa")
    )
    rt = models.CharField(_("RT"), max_length=3)
    rw = models.CharField(_("RW"), max_length=3)
    reason = models.CharField(_("alasan"), max_length=20, choices=Reason.choices)
    change_set = models.ForeignKey(
        "regions.RegionChangeSet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="family_card_prints",
    )
    issued_on = models.DateField(_("tanggal terbit"))
    printed_at = models.DateTimeField(_("waktu dicatat"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-printed_at"]
        verbose_name = _("cetak Kartu Keluarga")
        verbose_name_plural = _("cetak Kartu Keluarga")
        constraints = [
            models.UniqueConstraint(
                fields=["family", "change_set"],
                condition=Q(change_set__isnull=False),
                name="familycardprint_once_per_decree",
            ),
            models.CheckConstraint(
                condition=~Q(reason="perubahan_wilayah") | Q(change_set__isnull=False),
                name="familycardprint_region_change_names_decree",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kk_number} {self.issued_on}"
