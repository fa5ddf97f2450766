"""Every domain's tables, imported so that ``Base.metadata`` knows the whole schema."""

from xinyidai.catalog import models as _catalog  # noqa: F401
from xinyidai.core import jobs as _jobs  # noqa: F401
from xinyidai.core.models import Base
from xinyidai.iam import models as _iam  # noqa: F401
from xinyidai.ingest import models as _ingest  # noqa: F401
from xinyidai.ledger import models as _ledger  # noqa: F401
from xinyidai.records import models as _records  # noqa: F401
from xinyidai.registry import models as _registry  # noqa: F401
from xinyidai.scoring import models as _scoring  # noqa: F401

metadata = Base.metadata
