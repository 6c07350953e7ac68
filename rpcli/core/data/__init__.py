"""Load and validate a dataset in the RouteProfile layout (profile_data/ + route_data/)."""

from rpcli.core.data.load import load_dataset, default_data_root  # noqa: F401
from rpcli.core.data.schema import MODES, RouteDataset  # noqa: F401
