"""Products: an institution drafts, publishes, pauses and withdraws them; enterprises and
the public browse the published ones in the product supermarket."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, false, func, or_, select
from sqlalchemy.orm import Session

from xinyidai.core.db import is_postgres, lookup_chunks
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.transitions import Machine, Move, Transition
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind, OrgState
from xinyidai.iam.schemas import Principal
from xinyidai.market.models import Product, ProductState
from xinyidai.market.schemas import (
    COLLATERAL,
    GRADES,
    PRODUCT_TYPES,
    REPAYMENT_METHODS,
    TAX_GRADES,
    ZONES,
    ProductIn,
)
from xinyidai.registry import codes

MAX_AMOUNT = Decimal("1000000000")  # one billion yuan
MAX_TERM = 360  # months
MAX_RATE = Decimal("36")  # percent a year: above it a loan is not protected by law
CENT = Decimal("0.01")
RATE_STEP = Decimal("0.0001")

PRODUCTS: Machine[ProductState] = Machine(
    kind="product",
    states=ProductState,
    subject=Product,
    moves=(
        Move("create", (), ProductState.DRAFT),
        Move("publish", (ProductState.DRAFT, ProductState.PAUSED), ProductState.PUBLISHED),
        Move("pause", (ProductState.PUBLISHED,), ProductState.PAUSED),
        Move(
            "withdraw",
            (ProductState.DRAFT, ProductState.PUBLISHED, ProductState.PAUSED),
            ProductState.WITHDRAWN,
        ),
    ),
    # Who moves a product is the owner's check (``own_or_raise``): its institution.
    refusal=N_("a {state} product cannot be moved by {transition}"),
)

# A scheme finder answers, for scheme ids, the name of each that exists and is not closed.
# The schemes live in ``sharing``, which hears of loans through the marketplace and so
# imports it; it registers its finder here when imported, instead of the marketplace
# importing it back.
SchemeFinder = Callable[[Session, Sequence[str]], dict[str, str]]
_SCHEME_FINDERS: list[SchemeFinder] = []


def register_scheme_finder(finder: SchemeFinder) -> SchemeFinder:
    """Let ``finder`` name the policy schemes a product may link to (once per finder)."""
    if finder not in _SCHEME_FINDERS:
        _SCHEME_FINDERS.append(finder)
    return finder


def scheme_names(session: Session, scheme_ids: Sequence[str]) -> dict[str, str]:
    """The name of each of ``scheme_ids`` some registered finder knows and finds open."""
    found: dict[str, str] = {}
    for finder in _SCHEME_FINDERS:
        found.update(finder(session, list(scheme_ids)))
    return found


def check_policy_schemes(session: Session, values: Sequence[str]) -> list[str]:
    """The schemes a policy product links to, each an open risk-sharing or subsidy scheme;
    ``ValidationFailed`` (field ``policy_schemes``) naming the first that is not."""
    wanted = [v.strip() for v in dict.fromkeys(values) if v.strip()]
    known = scheme_names(session, wanted)
    for value in wanted:
        if value not in known:
            raise ValidationFailed(
                "{value} is not an open risk-sharing or subsidy scheme",
                field="policy_schemes",
                value=value,
            )
    return wanted


def check_choices(values: Sequence[str], *, allowed: Sequence[str], field: str) -> list[str]:
    out: list[str] = []
    for value in values:
        if value not in allowed:
            raise ValidationFailed(
                "{value} is not one of {allowed}",
                field=field,
                value=value,
                allowed=", ".join(allowed),
            )
        if value not in out:
            out.append(value)
    return out


def check_amount(value: Decimal, *, field: str) -> Decimal:
    if not value.is_finite() or value <= 0 or value > MAX_AMOUNT:
        raise ValidationFailed("must be a positive amount of at most one billion", field=field)
    if value != value.quantize(CENT):
        raise ValidationFailed("must have at most two decimals (fen)", field=field)
    return value.quantize(CENT)


def check_rate(value: Decimal, *, field: str) -> Decimal:
    if not value.is_finite() or value <= 0 or value > MAX_RATE:
        raise ValidationFailed("must be an annual rate above 0 and at most 36%", field=field)
    if value != value.quantize(RATE_STEP):
        raise ValidationFailed("must have at most four decimals", field=field)
    return value.quantize(RATE_STEP)


def check_term(value: int, *, field: str) -> int:
    if value < 1 or value > MAX_TERM:
        raise ValidationFailed("must be between 1 and 360 months", field=field)
    return value


def _regions(values: Sequence[str]) -> list[str]:
    for value in values:
        if not codes.is_region(value):
            raise ValidationFailed("{value} is not a region code", field="regions", value=value)
    return list(dict.fromkeys(values))


def _industries(values: Sequence[str]) -> list[str]:
    for value in values:
        if not codes.is_industry(value):
            raise ValidationFailed(
                "{value} is not an industry code", field="industries", value=value
            )
    return [value.upper() for value in dict.fromkeys(values)]


def check_product(data: ProductIn) -> dict[str, object]:
    """The product's columns if its terms make sense; ``ValidationFailed`` naming the field."""
    if data.product_type not in PRODUCT_TYPES:
        raise ValidationFailed(
            "{value} is not one of {allowed}",
            field="product_type",
            value=data.product_type,
            allowed=", ".join(PRODUCT_TYPES),
        )
    amount_min = check_amount(data.amount_min, field="amount_min")
    amount_max = check_amount(data.amount_max, field="amount_max")
    if amount_min > amount_max:
        raise ValidationFailed("must not be below the minimum", field="amount_max")
    term_min = check_term(data.term_min, field="term_min")
    term_max = check_term(data.term_max, field="term_max")
    if term_min > term_max:
        raise ValidationFailed("must not be below the minimum", field="term_max")
    rate_min = check_rate(data.rate_min, field="rate_min")
    rate_max = check_rate(data.rate_max, field="rate_max")
    if rate_min > rate_max:
        raise ValidationFailed("must not be below the minimum", field="rate_max")
    methods = check_choices(
        data.repayment_methods, allowed=REPAYMENT_METHODS, field="repayment_methods"
    )
    if not methods:
        raise ValidationFailed("name at least one repayment method", field="repayment_methods")
    rules = data.eligibility
    if rules.min_grade is not None and rules.min_grade not in GRADES:
        raise ValidationFailed(
            "{value} is not one of {allowed}",
            field="eligibility.min_grade",
            value=rules.min_grade,
            allowed=", ".join(GRADES),
        )
    if rules.min_tax_grade is not None and rules.min_tax_grade not in TAX_GRADES:
        raise ValidationFailed(
            "{value} is not one of {allowed}",
            field="eligibility.min_tax_grade",
            value=rules.min_tax_grade,
            allowed=", ".join(TAX_GRADES),
        )
    return {
        "name": data.name.strip(),
        "product_type": data.product_type,
        "description": (data.description or "").strip() or None,
        "amount_min": amount_min,
        "amount_max": amount_max,
        "term_min": term_min,
        "term_max": term_max,
        "rate_min": rate_min,
        "rate_max": rate_max,
        "repayment_methods": methods,
        "regions": _regions(data.regions),
        "industries": _industries(data.industries),
        "collateral": check_choices(data.collateral, allowed=COLLATERAL, field="collateral"),
        "eligibility": rules.model_dump(exclude_none=True, exclude_defaults=True),
        "documents": [d.strip() for d in data.documents if d.strip()],
        "zones": check_choices(data.zones, allowed=ZONES, field="zones"),
    }


def _institution_of(principal: Principal) -> None:
    if principal.organization_kind != OrgKind.INSTITUTION:
        raise Forbidden("only an institution manages products", field="institution")


def institution_active(session: Session, institution_id: str) -> bool:
    """Whether the institution may be dealt with now (approved and not suspended)."""
    organization = iam_service.get_organization(session, public_id=institution_id)
    return organization is not None and organization.state == OrgState.ACTIVE


def create(session: Session, *, principal: Principal, data: ProductIn) -> Product:
    """The institution drafts a product; it shows in the supermarket once published."""
    _institution_of(principal)
    columns = check_product(data)
    columns["policy_schemes"] = check_policy_schemes(session, data.policy_schemes)
    product = Product(
        public_id=new_id("prd"),
        institution_id=principal.organization_public_id,
        institution_name=principal.organization_name,
        **columns,
    )
    session.add(product)
    PRODUCTS.begin(session, product, "create", actor=principal.actor)
    return product


def update(session: Session, *, principal: Principal, product: Product, data: ProductIn) -> Product:
    """The institution changes a product's terms (not a withdrawn one)."""
    own_or_raise(principal, product)
    if product.state == ProductState.WITHDRAWN:
        raise Conflict("a withdrawn product cannot be changed", field="state")
    columns = check_product(data)
    columns["policy_schemes"] = check_policy_schemes(session, data.policy_schemes)
    for key, value in columns.items():
        setattr(product, key, value)
    session.flush()
    return product


def move(session: Session, *, principal: Principal, product: Product, transition: str) -> Product:
    """publish, pause or withdraw, each from the states it may start from."""
    own_or_raise(principal, product)
    target = PRODUCTS.named(transition).target
    PRODUCTS.check(product, transition)
    if target == ProductState.PUBLISHED and not institution_active(session, product.institution_id):
        raise Forbidden(
            "only an approved, active institution may publish products", field="institution"
        )
    PRODUCTS.move(session, product, transition, actor=principal.actor)
    return product


def history(session: Session, *, principal: Principal | None, product_id: str) -> list[Transition]:
    """A product's recorded moves, oldest first: for its institution and the operator."""
    product = visible_or_raise(session, principal=principal, product_id=product_id)
    if not may_manage(principal, product):
        raise Forbidden(
            "only the product's institution and the operator see its history",
            field="product_id",
        )
    return PRODUCTS.history(session, product)


def may_manage(principal: Principal | None, product: Product) -> bool:
    """Its institution and the operator see a product in every state, and its history."""
    return principal is not None and (
        principal.organization_kind == OrgKind.OPERATOR
        or principal.organization_public_id == product.institution_id
    )


def get(session: Session, *, product_id: str) -> Product | None:
    return session.scalar(select(Product).where(Product.public_id == product_id))


def get_or_raise(session: Session, *, product_id: str) -> Product:
    product = get(session, product_id=product_id)
    if product is None:
        raise NotFound("no product {product}", field="product_id", product=product_id)
    return product


def own_or_raise(principal: Principal, product: Product) -> None:
    if product.institution_id != principal.organization_public_id:
        raise Forbidden("this product belongs to another institution", field="product_id")


def visible_or_raise(session: Session, *, principal: Principal | None, product_id: str) -> Product:
    """A published product for anyone; any state for its institution and the operator."""
    product = get_or_raise(session, product_id=product_id)
    if product.state == ProductState.PUBLISHED:
        return product
    if may_manage(principal, product):
        return product
    raise NotFound("no product {product}", field="product_id", product=product_id)


def region_served(product: Product, region_code: str | None) -> bool:
    """Whether a product serves a region: no regions means everywhere; a province or city
    code covers the divisions under it."""
    if not product.regions:
        return True
    if not region_code:
        return False
    for code in product.regions:
        prefix = code.rstrip("0") if code.endswith("00") else code
        if len(prefix) % 2:
            prefix += "0"
        if region_code.startswith(prefix):
            return True
    return False


def industry_served(product: Product, industry_code: str | None) -> bool:
    """Whether a product serves an industry: a section letter or a code prefix."""
    if not product.industries:
        return True
    if not industry_code:
        return False
    section = codes.industry_section(industry_code)
    for code in product.industries:
        if code.isalpha() and section is not None and section.code == code:
            return True
        if industry_code.upper().startswith(code):
            return True
    return False


def published(session: Session) -> list[Product]:
    """Every published product of an active institution, newest first."""
    return list(session.scalars(supermarket_statement(session)))


def _json_list(session: Session, column: Any) -> Any:
    """The text elements of a JSON list column, as a table a subquery can select from."""
    elements = func.json_array_elements_text if is_postgres(session) else func.json_each
    return elements(column).table_valued("value")


def _lists_any(session: Session, column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """Whether the JSON list in ``column`` holds any of ``values``."""
    element = _json_list(session, column)
    return exists(select(1).select_from(element).where(element.c.value.in_(values)))


def _serves_region(session: Session, region_code: str) -> ColumnElement[bool]:
    """``region_served`` as a condition: no regions, or the region, its city or its
    province among them (a code covers the divisions under it)."""
    covering = {region_code[:2] + "0000", region_code[:4] + "00", region_code}
    return or_(
        func.json_array_length(Product.regions) == 0,
        _lists_any(session, Product.regions, sorted(covering)),
    )


def supermarket_statement(
    session: Session,
    *,
    product_type: str | None = None,
    zone: str | None = None,
    region: str | None = None,
    amount: Decimal | None = None,
    institution: str | None = None,
    q: str | None = None,
    policy: bool | None = None,
) -> Select[Any]:
    """The product supermarket: published products of active institutions, filtered,
    newest first (paged in the database by the caller). ``policy``: only policy products
    (linked to a risk-sharing or subsidy scheme), or only the others."""
    if product_type and product_type not in PRODUCT_TYPES:
        raise ValidationFailed(
            "{value} is not one of {allowed}",
            field="type",
            value=product_type,
            allowed=", ".join(PRODUCT_TYPES),
        )
    if zone and zone not in ZONES:
        raise ValidationFailed(
            "{value} is not one of {allowed}", field="zone", value=zone, allowed=", ".join(ZONES)
        )
    if region and not codes.is_region(region):
        raise ValidationFailed("{value} is not a region code", field="region", value=region)
    if amount is not None and (not amount.is_finite() or amount <= 0):
        raise ValidationFailed("must be a positive amount", field="amount")
    active = iam_service.organization_public_ids(
        session, kind=OrgKind.INSTITUTION, state=OrgState.ACTIVE
    )
    stmt = select(Product).where(
        Product.state == ProductState.PUBLISHED,
        or_(*lookup_chunks(session, Product.institution_id, active)) if active else false(),
    )
    if product_type:
        stmt = stmt.where(Product.product_type == product_type)
    if zone:
        stmt = stmt.where(_lists_any(session, Product.zones, [zone]))
    if region:
        stmt = stmt.where(_serves_region(session, region))
    if policy is not None:
        linked = func.coalesce(func.json_array_length(Product.policy_schemes), 0) > 0
        stmt = stmt.where(linked if policy else ~linked)
    if amount is not None:
        stmt = stmt.where(Product.amount_min <= amount, Product.amount_max >= amount)
    if institution:
        stmt = stmt.where(Product.institution_id == institution)
    if q and q.strip():
        stmt = stmt.where(
            (Product.name + Product.institution_name).contains(q.strip(), autoescape=True)
        )
    return stmt.order_by(Product.created_at.desc(), Product.id.desc())


def of_institution_statement(*, institution_id: str, state: str | None = None) -> Select[Any]:
    """An institution's products in every state (or one), newest first."""
    stmt = select(Product).where(Product.institution_id == institution_id)
    if state:
        stmt = stmt.where(Product.state == state)
    return stmt.order_by(Product.created_at.desc(), Product.id.desc())


def all_products(session: Session) -> list[Product]:
    """Every product (the operator's overview)."""
    return list(session.scalars(select(Product).order_by(Product.id)))
