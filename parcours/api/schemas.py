from ninja import Schema


class AnnuaireItem(Schema):
    id: str
    kind: str
    name: str
    profession: str
    address: str
    postal_code: str
    commune: str
    latitude: float | None
    longitude: float | None
    distance_km: float | None
    phone: str
    email: str


class AnnuairePage(Schema):
    count: int
    # True when more matches exist than the search window (count, pages and facets then
    # cover the first results only): ask a narrower question.
    more: bool = False
    page: int
    pages: int
    items: list[AnnuaireItem]
    facets: dict[str, list[tuple[str | None, int]]]


class MapPoint(Schema):
    id: str
    name: str
    latitude: float
    longitude: float


class MapCluster(Schema):
    count: int
    latitude: float
    longitude: float


class AnnuaireMap(Schema):
    total: int
    points: list[MapPoint]
    clusters: list[MapCluster]


class ApiError(Schema):
    detail: str
