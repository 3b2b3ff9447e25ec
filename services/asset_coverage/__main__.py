from shared.backbone.app import serve
from services.asset_coverage.main import definition

serve(definition)
