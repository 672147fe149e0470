"""The scene of the intake benchmark: one published guide, set up through the organisation and
catalogue services as an administrator would, and N applicants with logins, written in bulk
(one password hash shared by all, so that setting up does not take minutes of Argon2)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from yimen.accounts.choices import ApplicantKind
from yimen.accounts.models import Applicant, User
from yimen.catalog import services as catalog
from yimen.catalog.choices import (
    FieldType,
    HandlingType,
    ItemType,
    LimitUnit,
    MaterialKind,
    OnlineDepth,
    Target,
)
from yimen.common.choices import Channel
from yimen.common.identifiers import citizen_id_check_char, uscc_check_char
from yimen.org import services as org
from yimen.org.choices import RegionLevel, Role

PASSWORD = "bench-intake-Pa55"
SYSTEM = {"channel": Channel.SYSTEM}


@dataclass(frozen=True)
class Scene:
    """What the client and the raw-SQL baseline need to know about the scene."""

    implementation_code: str
    version_id: int
    department_id: int
    window_category_id: int
    region_id: int
    region_prefix: str
    material_ids: tuple[int, ...]
    applicants: tuple[tuple[int, int, str], ...]  # (applicant id, user id, username)


def citizen_id(n: int) -> str:
    """A valid ID number of 禅城区, distinct for each n (999 a birthday)."""
    birth = dt.date(1970, 1, 1) + dt.timedelta(days=n // 999)
    first17 = f"440604{birth:%Y%m%d}{n % 999 + 1:03d}"
    return first17 + citizen_id_check_char(first17)


def _guide(category) -> dict:
    return {
        "name": "个体工商户设立登记",
        "item_type": ItemType.CONFIRMATION,
        "target": Target.PERSON,
        "keywords": "开店 营业执照",
        "conditions": "申请人具有经营能力。",
        "legal_basis": ["《促进个体工商户发展条例》第八条"],
        "statutory_limit": 15,
        "statutory_unit": LimitUnit.WORKDAYS,
        "promised_limit": 3,
        "promised_unit": LimitUnit.WORKDAYS,
        "handling_type": HandlingType.PROMISED,
        "visits": 0,
        "online_depth": OnlineDepth.FULL_ONLINE,
        "online": True,
        "supervision_phone": "0757-12345",
        "consultation_phone": "0757-83030000",
        "location": "佛山市禅城区政务服务中心",
        "hours": "周一至周五 9:00–17:00",
        "flow_description": "申请 → 受理 → 审核 → 办结",
        "window_category": category,
    }


def published_guide():
    """A district, its market regulator and a published guide of theirs: two materials (the
    application, required; the premises certificate, tolerable) and one form field."""
    city = org.region_create(
        code="440600000000", name="佛山市", level=RegionLevel.CITY, created_by=None, **SYSTEM
    )
    district = org.region_create(
        code="440604000000",
        name="禅城区",
        level=RegionLevel.DISTRICT,
        parent=city,
        created_by=None,
        **SYSTEM,
    )
    first17 = "11440604000000001"
    department = org.department_create(
        name="禅城区市场监督管理局",
        uscc=first17 + uscc_check_char(first17),
        region=district,
        created_by=None,
        **SYSTEM,
    )
    category = org.window_category_create(
        code="market", name="市场准入", queue_prefix="A", created_by=None, **SYSTEM
    )
    application = catalog.material_type_create(
        actor=None, code="application", name="申请书", kind=MaterialKind.DOCUMENT, **SYSTEM
    )
    premises = catalog.material_type_create(
        actor=None, code="premises", name="场所证明", kind=MaterialKind.DOCUMENT, **SYSTEM
    )
    shop_name = catalog.field_definition_create(
        actor=None, key="shop_name", label="店名", datatype=FieldType.TEXT, max_length=100, **SYSTEM
    )
    version = catalog.item_create(
        department=department,
        implementation_code=f"{department.uscc}1{1:011d}0",
        guide=_guide(category),
        materials=[
            {"material_type": application, "originals": 1},
            {
                "material_type": premises,
                "tolerable": True,
                "tolerance_method": "补交原件",
                "tolerance_days": 5,
            },
        ],
        form_fields=[{"field": shop_name, "required": True}],
        review_steps=[
            {"name": "承办", "role": Role.REVIEWER},
            {"name": "审批", "role": Role.DEPARTMENT_HEAD},
        ],
        actor=None,
        **SYSTEM,
    )
    return catalog.publish(version=version, actor=None, **SYSTEM)


@transaction.atomic
def applicants(count: int) -> list[Applicant]:
    """`count` natural persons, each with a login `bench<n>` and the password PASSWORD."""
    password = make_password(PASSWORD)
    users = User.objects.bulk_create(
        User(username=f"bench{n:05d}", password=password, full_name=f"申请人{n}")
        for n in range(count)
    )
    return Applicant.objects.bulk_create(
        Applicant(kind=ApplicantKind.PERSON, name=f"申请人{n}", id_number=citizen_id(n), user=user)
        for n, user in enumerate(users)
    )


def sessions(scene: Scene) -> dict[str, str]:
    """A signed-in session for each applicant, written in bulk: what logging in through the
    form leaves in the session table (username → session key), without an Argon2 check each."""
    store, expire = SessionStore(), timezone.now() + dt.timedelta(days=1)
    users = User.objects.in_bulk([user_id for _a, user_id, _u in scene.applicants])
    keys, rows = {}, []
    for user in users.values():
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[-1],
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        keys[user.username] = key
    Session.objects.bulk_create(rows)
    return keys


def build(applicant_count: int) -> Scene:
    version = published_guide()
    item = version.item
    people = applicants(applicant_count)
    return Scene(
        implementation_code=item.implementation_code,
        version_id=version.pk,
        department_id=item.department_id,
        window_category_id=version.window_category_id,
        region_id=item.region_id,
        region_prefix=item.region.code[:6],
        material_ids=tuple(m.pk for m in version.materials.all()),
        applicants=tuple((a.pk, a.user_id, a.user.username) for a in people),
    )
