"""Every domain's tables, imported so that ``Base.metadata`` knows the whole schema."""

from sqlalchemy import ForeignKeyConstraint

from xinyidai.audit import models as _audit  # noqa: F401
from xinyidai.catalog import models as _catalog  # noqa: F401
from xinyidai.consent import models as _consent  # noqa: F401
from xinyidai.core import jobs as _jobs  # noqa: F401
from xinyidai.core import transitions as _transitions  # noqa: F401
from xinyidai.core.models import Base
from xinyidai.federation import models as _federation  # noqa: F401
from xinyidai.graph import models as _graph  # noqa: F401
from xinyidai.iam import models as _iam  # noqa: F401
from xinyidai.ingest import models as _ingest  # noqa: F401
from xinyidai.joint import models as _joint  # noqa: F401
from xinyidai.ledger import models as _ledger  # noqa: F401
from xinyidai.market import models as _market  # noqa: F401
from xinyidai.records import models as _records  # noqa: F401
from xinyidai.registry import models as _registry  # noqa: F401
from xinyidai.rights import models as _rights  # noqa: F401
from xinyidai.risk import models as _risk  # noqa: F401
from xinyidai.scoring import models as _scoring  # noqa: F401
from xinyidai.sharing import models as _sharing  # noqa: F401
from xinyidai.stats import models as _stats  # noqa: F401
from xinyidai.supervision import models as _supervision  # noqa: F401

metadata = Base.metadata

# Partitions of a partitioned table are the database's business, not the models'.
PARTITION_PREFIXES = ("credit_record_p_",)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave partitions out when the models and the database are compared."""
    return not (type_ == "table" and name is not None and name.startswith(PARTITION_PREFIXES))


def include_object(
    item: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave out the per-partition copies PostgreSQL makes of a foreign key to a partition."""
    if type_ == "foreign_key_constraint" and isinstance(item, ForeignKeyConstraint):
        return not item.referred_table.name.startswith(PARTITION_PREFIXES)
    return True
